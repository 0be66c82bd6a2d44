-- Council seats (理事会): who sits, for which member, in which position and
-- term. Keep in step with ../sqlite.

CREATE TABLE council_seats (
    id TEXT PRIMARY KEY NOT NULL,
    alliance_id TEXT NOT NULL REFERENCES alliances (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    person_name_zh TEXT NOT NULL,
    person_name_en TEXT,
    position TEXT NOT NULL,
    term_number INTEGER NOT NULL,
    term_starts_on DATE NOT NULL,
    term_ends_on DATE NOT NULL,
    -- Set when the seat ends before its term does.
    ended_on DATE,
    end_reason TEXT,
    appointment_document TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX council_seats_alliance ON council_seats (alliance_id, position);
CREATE INDEX council_seats_organization ON council_seats (organization_id);
