-- Feed positions assigned after commit. `seq` stays the order events were
-- written in; `position` is the order the feed shows, given by the sequencer
-- (`db::changes::sequence`) to committed events only, so writers no longer
-- take one lock to commit in sequence order. Keep in step with ../sqlite.

ALTER TABLE change_events ADD COLUMN position BIGINT;
UPDATE change_events SET position = seq;
CREATE UNIQUE INDEX change_events_position ON change_events (position);
-- The events still waiting for a position (few, briefly).
CREATE INDEX change_events_unsequenced ON change_events (seq) WHERE position IS NULL;
DROP INDEX change_events_alliance;
CREATE INDEX change_events_alliance ON change_events (alliance_id, position);
