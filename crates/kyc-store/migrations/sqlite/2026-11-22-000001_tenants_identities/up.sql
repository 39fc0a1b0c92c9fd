-- Tenants, API keys and identities. Ids are UUID text, timestamps unix milliseconds (BIGINT),
-- booleans BOOLEAN, ciphertexts BLOB (nonce || AES-256-GCM ciphertext || tag) next to the id of
-- the key that sealed them.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX ux_tenants_name ON tenants (name);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    role TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE UNIQUE INDEX ux_api_keys_hash ON api_keys (key_hash);
CREATE INDEX ix_api_keys_tenant ON api_keys (tenant_id, created_at);

CREATE TABLE identity_containers (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX ix_identity_containers_tenant ON identity_containers (tenant_id, created_at);
-- The target of the identities' composite foreign key: a container of the same tenant.
CREATE UNIQUE INDEX ux_identity_containers_id_tenant ON identity_containers (id, tenant_id);

CREATE TABLE personal_identities (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    container_id TEXT NOT NULL,
    first_name TEXT,
    middle_name TEXT,
    last_name TEXT,
    email TEXT,
    phone TEXT,
    address_json TEXT,
    dob_ct BLOB,
    dob_key_id TEXT,
    ssn_ct BLOB,
    ssn_key_id TEXT,
    ssn_bidx BLOB,
    gender TEXT,
    due_diligence_json TEXT,
    kyc_level TEXT NOT NULL,
    review_status TEXT NOT NULL,
    blocked BOOLEAN NOT NULL,
    identity_confirmed BOOLEAN NOT NULL,
    kyc_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    erased_at BIGINT,
    -- The database, not a prior SELECT, checks that the container is this tenant's.
    FOREIGN KEY (container_id, tenant_id) REFERENCES identity_containers (id, tenant_id)
);
CREATE UNIQUE INDEX ux_personal_identities_tenant_email ON personal_identities (tenant_id, email);
CREATE UNIQUE INDEX ux_personal_identities_container ON personal_identities (container_id);
CREATE INDEX ix_personal_identities_tenant_created ON personal_identities (tenant_id, created_at, id);
CREATE INDEX ix_personal_identities_tenant_updated ON personal_identities (tenant_id, updated_at, id);
CREATE INDEX ix_personal_identities_tenant_first_name ON personal_identities (tenant_id, first_name);
CREATE INDEX ix_personal_identities_tenant_last_name ON personal_identities (tenant_id, last_name);
CREATE INDEX ix_personal_identities_tenant_level ON personal_identities (tenant_id, kyc_level, created_at);
CREATE INDEX ix_personal_identities_tenant_review ON personal_identities (tenant_id, review_status, created_at);
CREATE INDEX ix_personal_identities_tenant_blocked ON personal_identities (tenant_id, blocked, created_at);
CREATE INDEX ix_personal_identities_tenant_ssn_bidx ON personal_identities (tenant_id, ssn_bidx);

CREATE TABLE business_identities (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    container_id TEXT NOT NULL REFERENCES identity_containers (id),
    owner_id TEXT NOT NULL REFERENCES personal_identities (id),
    legal_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    address_json TEXT NOT NULL,
    tax_id_ct BLOB NOT NULL,
    tax_id_key_id TEXT NOT NULL,
    formation_region TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX ix_business_identities_tenant_created ON business_identities (tenant_id, created_at, id);
CREATE INDEX ix_business_identities_container ON business_identities (container_id);
CREATE INDEX ix_business_identities_owner ON business_identities (owner_id);
