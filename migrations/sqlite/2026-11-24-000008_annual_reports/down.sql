DROP TABLE report_events;
DROP TABLE kpi_values;
DROP TABLE annual_reports;
DROP INDEX activities_alliance_year;
ALTER TABLE activities DROP COLUMN start_year;
