-- Sync: who caused each change event, and stored first responses for
-- Idempotency-Key. Keep in step with ../postgres.

ALTER TABLE change_events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
CREATE INDEX change_events_alliance ON change_events (alliance_id, seq);
CREATE INDEX change_events_at ON change_events (at);

CREATE TABLE idempotency_keys (
    principal TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    location TEXT,
    etag TEXT,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
