-- Webhooks: subscriptions, one delivery per event and subscription (the
-- outbox the worker sends from), and the log of every attempt.
-- Keep in step with ../postgres.

CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    -- Comma-separated event types; empty means every type.
    event_types TEXT NOT NULL,
    alliance_id TEXT REFERENCES alliances (id),
    description TEXT,
    -- Kept as is: every delivery is signed with it.
    secret TEXT NOT NULL,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    -- Who made it, and what that token could see: deliveries show no more.
    owner_subject TEXT NOT NULL,
    owner_role TEXT NOT NULL,
    owner_alliances TEXT NOT NULL,
    -- Events up to here have been turned into deliveries.
    event_cursor BIGINT NOT NULL,
    failing_since TIMESTAMP,
    last_success_at TIMESTAMP,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_subscriptions_owner ON webhook_subscriptions (owner_subject, id);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    -- The change event's sequence number (no foreign key: events are pruned).
    event_seq BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    -- While pending: when it is due. Claiming pushes this forward, so a
    -- sender that dies mid-attempt leaves it to be sent again.
    next_attempt_at TIMESTAMP NOT NULL,
    give_up_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    succeeded BOOLEAN NOT NULL,
    response_code INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, at);
