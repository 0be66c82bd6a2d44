-- Foundation: alliances, organisations, memberships, and the write path's
-- audit trail and change events. Keep in step with ../sqlite (a test
-- compares the two engines' tables and columns).

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE alliances (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    sector TEXT NOT NULL,
    host_zone TEXT,
    name_zh TEXT NOT NULL,
    name_en TEXT,
    founded_on DATE,
    status TEXT NOT NULL,
    documents TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX alliances_updated_at ON alliances (updated_at);

CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT,
    uscc TEXT UNIQUE,
    region TEXT,
    website TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organizations_updated_at ON organizations (updated_at);
CREATE INDEX organizations_kind ON organizations (kind);

CREATE TABLE organization_refs (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    system TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (system, external_id)
);
CREATE INDEX organization_refs_organization ON organization_refs (organization_id);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY NOT NULL,
    alliance_id TEXT NOT NULL REFERENCES alliances (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    joined_on DATE NOT NULL,
    left_on DATE,
    note TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX memberships_alliance ON memberships (alliance_id, id);
CREATE INDEX memberships_organization ON memberships (organization_id, id);
-- An organisation holds at most one open membership in an alliance.
CREATE UNIQUE INDEX memberships_one_open ON memberships (alliance_id, organization_id)
    WHERE status <> 'left';

CREATE TABLE audit_records (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_records_resource ON audit_records (resource_type, resource_id);

CREATE TABLE change_events (
    seq BIGSERIAL PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    event_type TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    alliance_id TEXT,
    version BIGINT NOT NULL,
    payload TEXT NOT NULL
);
