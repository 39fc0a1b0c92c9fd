CREATE TABLE kyc_checks_by_id (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    identity_id TEXT NOT NULL REFERENCES personal_identities (id),
    verifier TEXT NOT NULL,
    performed_at BIGINT NOT NULL,
    outcomes_json TEXT NOT NULL
);
INSERT INTO kyc_checks_by_id (id, tenant_id, identity_id, verifier, performed_at, outcomes_json)
    SELECT id, tenant_id, identity_id, verifier, performed_at, outcomes_json FROM kyc_checks;
DROP TABLE kyc_checks;
ALTER TABLE kyc_checks_by_id RENAME TO kyc_checks;
CREATE INDEX ix_kyc_checks_identity ON kyc_checks (identity_id, performed_at);
