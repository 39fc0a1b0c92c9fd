-- The identity list's indexes lead with `erased_at` after the tenant (erasure leaves a
-- tombstone row with `erased_at` set, and every list query asks for `erased_at IS NULL`). The
-- planner can then count a tenant's matches (the list's `meta.total`) from the index alone;
-- with the old indexes it read every row of the tenant to test `erased_at`.
DROP INDEX ix_personal_identities_tenant_created;
CREATE INDEX ix_personal_identities_tenant_created ON personal_identities (tenant_id, erased_at, created_at, id);
DROP INDEX ix_personal_identities_tenant_updated;
CREATE INDEX ix_personal_identities_tenant_updated ON personal_identities (tenant_id, erased_at, updated_at, id);
DROP INDEX ix_personal_identities_tenant_level;
CREATE INDEX ix_personal_identities_tenant_level ON personal_identities (tenant_id, erased_at, kyc_level, created_at, id);
DROP INDEX ix_personal_identities_tenant_review;
CREATE INDEX ix_personal_identities_tenant_review ON personal_identities (tenant_id, erased_at, review_status, created_at, id);
DROP INDEX ix_personal_identities_tenant_blocked;
CREATE INDEX ix_personal_identities_tenant_blocked ON personal_identities (tenant_id, erased_at, blocked, created_at, id);
