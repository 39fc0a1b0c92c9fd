-- A company's email is unique in its tenant, as a person's is (SPEC §3, seed 001 lists
-- `email_already_in_use` for both identity types). Emails are stored lowercased. A database
-- that already holds two companies of one tenant with the same email refuses this migration:
-- change one of the two emails, then start again.
CREATE UNIQUE INDEX ux_business_identities_tenant_email ON business_identities (tenant_id, email);
