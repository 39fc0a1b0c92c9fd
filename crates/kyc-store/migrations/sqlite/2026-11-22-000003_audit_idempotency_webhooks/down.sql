DROP TABLE webhook_deliveries;
DROP TABLE outbox_events;
DROP TABLE webhook_configs;
DROP TABLE idempotency_records;
DROP TABLE audit_events;
