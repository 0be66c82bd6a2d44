-- GET /audit filters by actor and by time, in id order.
CREATE INDEX audit_records_actor ON audit_records (actor, id);
CREATE INDEX audit_records_at ON audit_records (at);
