DROP INDEX audit_records_at;
DROP INDEX audit_records_actor;
