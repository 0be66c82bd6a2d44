DROP TABLE change_events;
DROP TABLE audit_records;
DROP TABLE memberships;
DROP TABLE organization_refs;
DROP TABLE organizations;
DROP TABLE alliances;
DROP TABLE settings;
