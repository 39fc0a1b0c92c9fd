-- KYC check results, documents with their encrypted images, and the compliance review queue.

CREATE TABLE kyc_checks (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    identity_id TEXT NOT NULL REFERENCES personal_identities (id),
    verifier TEXT NOT NULL,
    performed_at BIGINT NOT NULL,
    outcomes_json TEXT NOT NULL
);
CREATE INDEX ix_kyc_checks_identity ON kyc_checks (tenant_id, identity_id, performed_at);

CREATE TABLE documents (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    identity_id TEXT NOT NULL REFERENCES personal_identities (id),
    doc_type TEXT NOT NULL,
    status TEXT NOT NULL,
    front_checks_json TEXT NOT NULL,
    back_checks_json TEXT NOT NULL,
    -- Why the document was rejected, where a verifier, reviewer or import said so.
    reason TEXT,
    -- The provider of an imported verification (PUT /kycs type import); NULL for an upload.
    provider TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ix_documents_identity ON documents (tenant_id, identity_id, created_at);

-- Image bytes live apart from the metadata so that listing documents never reads megabytes.
CREATE TABLE document_images (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    side TEXT NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    content_type TEXT NOT NULL,
    key_id TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (document_id, side)
);

CREATE TABLE review_items (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    kind TEXT NOT NULL,
    identity_id TEXT NOT NULL REFERENCES personal_identities (id),
    document_id TEXT REFERENCES documents (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    reason TEXT,
    claimed_by TEXT,
    claimed_at BIGINT,
    decided_by TEXT,
    decided_at BIGINT,
    decision_json TEXT,
    level_at_decision TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX ix_review_items_queue ON review_items (status, kind, created_at);
CREATE INDEX ix_review_items_tenant_queue ON review_items (tenant_id, status, created_at);
CREATE INDEX ix_review_items_identity ON review_items (identity_id);
