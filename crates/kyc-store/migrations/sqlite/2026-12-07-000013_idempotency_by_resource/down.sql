DROP INDEX ix_idempotency_records_resource;
CREATE INDEX ix_idempotency_records_resource ON idempotency_records (tenant_id, resource_id);
