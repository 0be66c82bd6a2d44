DROP TABLE idempotency_keys;
DROP INDEX change_events_at;
DROP INDEX change_events_alliance;
ALTER TABLE change_events DROP COLUMN actor;
