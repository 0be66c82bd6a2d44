-- Yearly KPI figures and the annual report's workflow.
-- Keep in step with ../sqlite.

-- The year an activity counts in, kept by the write path, so yearly
-- aggregates group by a column instead of a date function each engine
-- spells differently.
ALTER TABLE activities ADD COLUMN start_year INTEGER NOT NULL DEFAULT 0;
UPDATE activities SET start_year = CAST(EXTRACT(YEAR FROM starts_on) AS INTEGER);
CREATE INDEX activities_alliance_year ON activities (alliance_id, start_year, kind);

-- One report per alliance and year: its workflow state and, once
-- approved, the frozen snapshot (canonical JSON) and its SHA-256.
CREATE TABLE annual_reports (
    id TEXT PRIMARY KEY NOT NULL,
    alliance_id TEXT NOT NULL REFERENCES alliances (id),
    year INTEGER NOT NULL,
    status TEXT NOT NULL,
    -- The last return comment or reopening reason.
    comment TEXT,
    approved_at TIMESTAMP,
    approved_by TEXT,
    snapshot TEXT,
    snapshot_sha256 TEXT,
    -- JSON {code: {target, actual}} of the snapshot, for the dashboard.
    approved_figures TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (alliance_id, year)
);

-- Targets and hand-entered actuals of one report, with note and evidence
-- links (a JSON array). Derived KPIs keep a target here, never an actual.
CREATE TABLE kpi_values (
    report_id TEXT NOT NULL REFERENCES annual_reports (id),
    kpi_code TEXT NOT NULL REFERENCES kpi_definitions (code),
    target DOUBLE PRECISION,
    actual DOUBLE PRECISION,
    note TEXT,
    evidence TEXT NOT NULL,
    PRIMARY KEY (report_id, kpi_code)
);

-- The workflow history: every submit, return, approve and reopen.
CREATE TABLE report_events (
    id TEXT PRIMARY KEY NOT NULL,
    report_id TEXT NOT NULL REFERENCES annual_reports (id),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    comment TEXT,
    snapshot_sha256 TEXT
);
CREATE INDEX report_events_report ON report_events (report_id, at);
