CREATE UNIQUE INDEX ux_audit_events_id ON audit_events (id);
