-- How many live personal identities each tenant has, so that the identity list's `meta.total`
-- without filters is a sum of a few rows instead of a count of every identity of the tenant
-- on every page. Kept in the transaction that creates or erases an identity; spread over
-- shards (chosen by the identity's id) so that concurrent creates of one tenant on PostgreSQL
-- do not queue behind one row lock. The total is the sum of the tenant's shards.
CREATE TABLE live_identity_counts (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    shard INTEGER NOT NULL,
    persons BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, shard)
);
INSERT INTO live_identity_counts (tenant_id, shard, persons)
SELECT tenant_id, 0, COUNT(*) FROM personal_identities WHERE erased_at IS NULL GROUP BY tenant_id;
