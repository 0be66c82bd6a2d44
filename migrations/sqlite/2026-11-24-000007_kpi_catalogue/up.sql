-- The KPI catalogue: what alliances report on, in which unit, which way is
-- better, and (for derived KPIs) how the figure comes from the records.
-- Keep in step with ../postgres.

CREATE TABLE kpi_definitions (
    code TEXT PRIMARY KEY NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT,
    unit TEXT NOT NULL,
    direction TEXT NOT NULL,
    value_type TEXT NOT NULL,
    -- JSON: how the actual is derived from activities, platforms or
    -- organisations; NULL for a KPI entered by hand.
    derivation TEXT,
    evidence_required BOOLEAN NOT NULL,
    source TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
