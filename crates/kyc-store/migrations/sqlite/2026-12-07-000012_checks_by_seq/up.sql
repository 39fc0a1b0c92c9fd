-- KYC checks are appended at every create, PATCH that re-runs KYC and check run, and never
-- looked up by id (an identity's checks are read through `ix_kyc_checks_identity`). The primary
-- key on their random UUIDv4 ids put each append on a random leaf of its index, as the audit
-- trail's did before migration 000007. The table is keyed by an appended `seq` instead; the ids
-- stay random and unique by construction (122 random bits), as every other id. SQLite cannot
-- drop a primary key, so the table is rebuilt (nothing references it).
CREATE TABLE kyc_checks_by_seq (
    seq INTEGER PRIMARY KEY NOT NULL,
    id TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    identity_id TEXT NOT NULL REFERENCES personal_identities (id),
    verifier TEXT NOT NULL,
    performed_at BIGINT NOT NULL,
    outcomes_json TEXT NOT NULL
);
INSERT INTO kyc_checks_by_seq (id, tenant_id, identity_id, verifier, performed_at, outcomes_json)
    SELECT id, tenant_id, identity_id, verifier, performed_at, outcomes_json
    FROM kyc_checks ORDER BY performed_at, id;
DROP TABLE kyc_checks;
ALTER TABLE kyc_checks_by_seq RENAME TO kyc_checks;
CREATE INDEX ix_kyc_checks_identity ON kyc_checks (identity_id, performed_at);
