-- Governance records: membership history, platforms, activities.
-- Keep in step with ../postgres.

-- Every change of a membership's role or status, never overwritten.
CREATE TABLE membership_changes (
    id TEXT PRIMARY KEY NOT NULL,
    membership_id TEXT NOT NULL REFERENCES memberships (id),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    field TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT NOT NULL,
    effective_on DATE,
    reason TEXT
);
CREATE INDEX membership_changes_membership ON membership_changes (membership_id, id);
-- Memberships made before the history existed begin it with `joined`.
INSERT INTO membership_changes (id, membership_id, at, actor, field, from_value, to_value, effective_on, reason)
SELECT id, id, created_at, 'system:migration', 'joined', NULL, role, joined_on, NULL FROM memberships;

CREATE TABLE platforms (
    id TEXT PRIMARY KEY NOT NULL,
    alliance_id TEXT NOT NULL REFERENCES alliances (id),
    kind TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT,
    host_organization_id TEXT REFERENCES organizations (id),
    -- JSON array of texts.
    focus_areas TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_on DATE,
    closed_on DATE,
    description TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (alliance_id, name_zh)
);
CREATE INDEX platforms_alliance ON platforms (alliance_id, id);

CREATE TABLE platform_partners (
    platform_id TEXT NOT NULL REFERENCES platforms (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (platform_id, organization_id)
);
CREATE INDEX platform_partners_organization ON platform_partners (organization_id);

CREATE TABLE activities (
    id TEXT PRIMARY KEY NOT NULL,
    alliance_id TEXT NOT NULL REFERENCES alliances (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE,
    platform_id TEXT REFERENCES platforms (id),
    persons BIGINT,
    person_times BIGINT,
    hours BIGINT,
    students BIGINT,
    awards BIGINT,
    budget_cny BIGINT,
    research_status TEXT,
    open_call BOOLEAN,
    -- JSON arrays of texts.
    resolutions TEXT NOT NULL,
    evidence TEXT NOT NULL,
    outcome TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX activities_alliance ON activities (alliance_id, id);
CREATE INDEX activities_alliance_kind_date ON activities (alliance_id, kind, starts_on);
CREATE INDEX activities_platform ON activities (platform_id);

CREATE TABLE activity_organizations (
    activity_id TEXT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (activity_id, organization_id)
);
CREATE INDEX activity_organizations_organization ON activity_organizations (organization_id);
