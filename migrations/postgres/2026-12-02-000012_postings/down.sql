DROP TABLE posting_matches;
DROP TABLE postings;
