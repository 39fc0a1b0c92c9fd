-- Indexes led by a globally unique key no longer repeat the tenant id in front of it: an
-- identity id (UUIDv4) belongs to one tenant, and the SSN blind index is an HMAC over the
-- tenant id and the digits, so the same rows come back in the same order, and the queries
-- still check the tenant on the row. The 36-byte tenant id made each entry of these three
-- indexes, which a create writes at random places (its keys are random), about twice as long:
-- more page splits and more pages written to the WAL per create.
DROP INDEX ix_kyc_checks_identity;
CREATE INDEX ix_kyc_checks_identity ON kyc_checks (identity_id, performed_at);
DROP INDEX ix_audit_events_identity;
CREATE INDEX ix_audit_events_identity ON audit_events (identity_id, seq);
DROP INDEX ix_personal_identities_tenant_ssn_bidx;
CREATE INDEX ix_personal_identities_ssn_bidx ON personal_identities (ssn_bidx, created_at, id);
