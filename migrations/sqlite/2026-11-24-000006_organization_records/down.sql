DROP INDEX organizations_certification;
ALTER TABLE organizations DROP COLUMN former_names;
ALTER TABLE organizations DROP COLUMN certification_expires_on;
ALTER TABLE organizations DROP COLUMN certified_on;
ALTER TABLE organizations DROP COLUMN certification_level;
