-- 供需对接: what enterprises need and colleges offer, posted into an
-- alliance, reviewed by its secretariat, and matched.
-- Keep in step with ../postgres.

CREATE TABLE postings (
    id TEXT PRIMARY KEY NOT NULL,
    alliance_id TEXT NOT NULL REFERENCES alliances (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    close_reason TEXT,
    title_zh TEXT NOT NULL,
    title_en TEXT,
    description_zh TEXT,
    description_en TEXT,
    -- JSON array of texts.
    majors TEXT NOT NULL,
    level TEXT,
    region TEXT,
    headcount BIGINT,
    opens_on DATE,
    closes_on DATE,
    -- JSON: the fields only some kinds have (positions, budget, maturity, ...).
    details TEXT NOT NULL,
    -- JSON array of URLs.
    attachments TEXT NOT NULL,
    external_ref TEXT,
    -- Listed at /public/postings once published (when the operator opens it).
    public BOOLEAN NOT NULL DEFAULT FALSE,
    review_comment TEXT,
    published_at TIMESTAMP,
    -- Titles, descriptions, majors and positions in lower case: what `q` searches.
    search_text TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX postings_alliance ON postings (alliance_id, id);
CREATE INDEX postings_organization ON postings (organization_id);
-- A member system finds its own postings by its own reference.
CREATE UNIQUE INDEX postings_external_ref ON postings (organization_id, external_ref);

CREATE TABLE posting_matches (
    id TEXT PRIMARY KEY NOT NULL,
    alliance_id TEXT NOT NULL REFERENCES alliances (id),
    demand_id TEXT NOT NULL REFERENCES postings (id),
    offer_id TEXT NOT NULL REFERENCES postings (id),
    status TEXT NOT NULL,
    note TEXT,
    demand_accepted_at TIMESTAMP,
    offer_accepted_at TIMESTAMP,
    closed_on DATE,
    close_year INTEGER,
    students_placed BIGINT,
    contract_amount_cny BIGINT,
    project_started BOOLEAN,
    outcome_note TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX posting_matches_pair ON posting_matches (demand_id, offer_id);
CREATE INDEX posting_matches_alliance ON posting_matches (alliance_id, id);
CREATE INDEX posting_matches_offer ON posting_matches (offer_id);
CREATE INDEX posting_matches_closed ON posting_matches (alliance_id, close_year);
