-- Organisations, more fully: the 产教融合型企业 certification and former
-- names (曾用名, a JSON array of {name_zh, used_until}).
-- Keep in step with ../postgres.

ALTER TABLE organizations ADD COLUMN certification_level TEXT;
ALTER TABLE organizations ADD COLUMN certified_on DATE;
ALTER TABLE organizations ADD COLUMN certification_expires_on DATE;
ALTER TABLE organizations ADD COLUMN former_names TEXT NOT NULL DEFAULT '[]';
CREATE INDEX organizations_certification ON organizations (certification_level, certified_on);
