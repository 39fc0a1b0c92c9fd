DROP INDEX ix_personal_identities_ssn_bidx;
CREATE INDEX ix_personal_identities_tenant_ssn_bidx ON personal_identities (tenant_id, ssn_bidx, created_at, id);
DROP INDEX ix_audit_events_identity;
CREATE INDEX ix_audit_events_identity ON audit_events (tenant_id, identity_id, seq);
DROP INDEX ix_kyc_checks_identity;
CREATE INDEX ix_kyc_checks_identity ON kyc_checks (tenant_id, identity_id, performed_at);
