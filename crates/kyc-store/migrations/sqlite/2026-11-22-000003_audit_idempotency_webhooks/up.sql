-- The audit trail, idempotency records, and webhook configuration, outbox and delivery log.

-- `seq` orders the trail; it is SQLite's 64-bit rowid.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    identity_id TEXT,
    business_id TEXT,
    document_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_key_id TEXT,
    action TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    level_from TEXT,
    level_to TEXT,
    at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_audit_events_id ON audit_events (id);
CREATE INDEX ix_audit_events_identity ON audit_events (tenant_id, identity_id, seq);

CREATE TABLE idempotency_records (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    idem_key TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    state TEXT NOT NULL,
    response_status BIGINT,
    response_headers_json TEXT,
    response_ct BLOB,
    response_key_id TEXT,
    resource_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, idem_key)
);
CREATE INDEX ix_idempotency_records_expires ON idempotency_records (expires_at);
CREATE INDEX ix_idempotency_records_resource ON idempotency_records (tenant_id, resource_id);

CREATE TABLE webhook_configs (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id),
    url TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    event_types_json TEXT NOT NULL,
    secret_ct BLOB NOT NULL,
    secret_key_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE outbox_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    event_type TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX ix_outbox_events_due ON outbox_events (status, next_attempt_at);
CREATE INDEX ix_outbox_events_tenant ON outbox_events (tenant_id, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES outbox_events (id),
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    url TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX ix_webhook_deliveries_tenant ON webhook_deliveries (tenant_id, attempted_at);
CREATE INDEX ix_webhook_deliveries_event ON webhook_deliveries (event_id);
