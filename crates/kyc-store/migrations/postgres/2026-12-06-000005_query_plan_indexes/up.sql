-- Indexes that keep hot queries from walking a whole tenant. Without them the planner serves
-- `ORDER BY created_at` from the tenant's creation-order index and filters row by row.

-- The pending events of each tenant in delivery order: the worker's claim ("the oldest pending
-- event of each tenant") probes this instead of every delivered event of the tenant, so claiming
-- stays cheap however long the outbox's history grows.
CREATE INDEX ix_outbox_events_pending ON outbox_events (tenant_id, created_at, id) WHERE status = 'pending';

-- The SSN duplicate check of every KYC check (equality on the blind index, oldest first).
DROP INDEX ix_personal_identities_tenant_ssn_bidx;
CREATE INDEX ix_personal_identities_tenant_ssn_bidx ON personal_identities (tenant_id, ssn_bidx, created_at, id);

-- A container's companies, oldest first.
DROP INDEX ix_business_identities_container;
CREATE INDEX ix_business_identities_container ON business_identities (container_id, created_at, id);

-- List filters on level, review status and blocked, newest first (the list's default order).
DROP INDEX ix_personal_identities_tenant_level;
CREATE INDEX ix_personal_identities_tenant_level ON personal_identities (tenant_id, kyc_level, created_at, id);
DROP INDEX ix_personal_identities_tenant_review;
CREATE INDEX ix_personal_identities_tenant_review ON personal_identities (tenant_id, review_status, created_at, id);
DROP INDEX ix_personal_identities_tenant_blocked;
CREATE INDEX ix_personal_identities_tenant_blocked ON personal_identities (tenant_id, blocked, created_at, id);
