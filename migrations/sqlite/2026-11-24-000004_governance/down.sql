DROP TABLE activity_organizations;
DROP TABLE activities;
DROP TABLE platform_partners;
DROP TABLE platforms;
DROP TABLE membership_changes;
