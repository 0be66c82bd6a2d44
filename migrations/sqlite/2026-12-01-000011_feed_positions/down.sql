DROP INDEX change_events_alliance;
CREATE INDEX change_events_alliance ON change_events (alliance_id, seq);
DROP INDEX change_events_unsequenced;
DROP INDEX change_events_position;
ALTER TABLE change_events DROP COLUMN position;
