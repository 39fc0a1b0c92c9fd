-- The identity list's indexes hold live identities only (`WHERE erased_at IS NULL`, which
-- every list query asks for) and end in `erased_at`. PostgreSQL does not treat
-- `erased_at IS NULL` as fixing the column, so with `erased_at` second (migration 000006) it
-- could not read a page in `created_at` order from the index: it read and sorted every live
-- identity of the tenant for each page. With the partial indexes both backends read a page in
-- index order and stop at its limit, and count a filtered list from the index alone
-- (`erased_at`, last, is there so that SQLite sees the index as covering). Erased identities
-- leave these indexes.
DROP INDEX ix_personal_identities_tenant_created;
CREATE INDEX ix_personal_identities_tenant_created ON personal_identities (tenant_id, created_at, id, erased_at) WHERE erased_at IS NULL;
DROP INDEX ix_personal_identities_tenant_updated;
CREATE INDEX ix_personal_identities_tenant_updated ON personal_identities (tenant_id, updated_at, id, erased_at) WHERE erased_at IS NULL;
DROP INDEX ix_personal_identities_tenant_level;
CREATE INDEX ix_personal_identities_tenant_level ON personal_identities (tenant_id, kyc_level, created_at, id, erased_at) WHERE erased_at IS NULL;
DROP INDEX ix_personal_identities_tenant_review;
CREATE INDEX ix_personal_identities_tenant_review ON personal_identities (tenant_id, review_status, created_at, id, erased_at) WHERE erased_at IS NULL;
DROP INDEX ix_personal_identities_tenant_blocked;
CREATE INDEX ix_personal_identities_tenant_blocked ON personal_identities (tenant_id, blocked, created_at, id, erased_at) WHERE erased_at IS NULL;
