DROP TABLE council_seats;
