-- KYC checks are appended at every create, PATCH that re-runs KYC and check run, and never
-- looked up by id (an identity's checks are read through `ix_kyc_checks_identity`). The primary
-- key on their random UUIDv4 ids put each append on a random leaf of its index, as the audit
-- trail's did before migration 000007. The table is keyed by an appended `seq` instead, as the
-- audit trail is; the ids stay random and unique by construction (122 random bits).
ALTER TABLE kyc_checks DROP CONSTRAINT kyc_checks_pkey;
ALTER TABLE kyc_checks ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
