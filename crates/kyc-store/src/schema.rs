//! The one portable schema: both backends' migrations produce exactly these tables (a test
//! checks it). Only types every backend shares: `Text` ids, `BigInt` unix-millisecond
//! timestamps and counters, `Bool`, and `Binary` ciphertexts.

diesel::table! {
    tenants (id) {
        id -> Text,
        name -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        tenant_id -> Text,
        role -> Text,
        key_hash -> Binary,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    identity_containers (id) {
        id -> Text,
        tenant_id -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    personal_identities (id) {
        id -> Text,
        tenant_id -> Text,
        container_id -> Text,
        first_name -> Nullable<Text>,
        middle_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        address_json -> Nullable<Text>,
        dob_ct -> Nullable<Binary>,
        dob_key_id -> Nullable<Text>,
        ssn_ct -> Nullable<Binary>,
        ssn_key_id -> Nullable<Text>,
        ssn_bidx -> Nullable<Binary>,
        gender -> Nullable<Text>,
        due_diligence_json -> Nullable<Text>,
        kyc_level -> Text,
        review_status -> Text,
        blocked -> Bool,
        identity_confirmed -> Bool,
        kyc_json -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
        erased_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    business_identities (id) {
        id -> Text,
        tenant_id -> Text,
        container_id -> Text,
        owner_id -> Text,
        legal_name -> Text,
        email -> Text,
        phone -> Text,
        address_json -> Text,
        tax_id_ct -> Binary,
        tax_id_key_id -> Text,
        formation_region -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    kyc_checks (seq) {
        seq -> BigInt,
        id -> Text,
        tenant_id -> Text,
        identity_id -> Text,
        verifier -> Text,
        performed_at -> BigInt,
        outcomes_json -> Text,
    }
}

diesel::table! {
    documents (id) {
        id -> Text,
        tenant_id -> Text,
        identity_id -> Text,
        doc_type -> Text,
        status -> Text,
        front_checks_json -> Text,
        back_checks_json -> Text,
        reason -> Nullable<Text>,
        provider -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    document_images (document_id, side) {
        document_id -> Text,
        side -> Text,
        tenant_id -> Text,
        content_type -> Text,
        key_id -> Text,
        ciphertext -> Binary,
    }
}

diesel::table! {
    review_items (id) {
        id -> Text,
        tenant_id -> Text,
        kind -> Text,
        identity_id -> Text,
        document_id -> Nullable<Text>,
        status -> Text,
        reason -> Nullable<Text>,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<BigInt>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<BigInt>,
        decision_json -> Nullable<Text>,
        level_at_decision -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        version -> BigInt,
        reason_code -> Nullable<Text>,
        note_ct -> Nullable<Binary>,
        note_key_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        id -> Text,
        tenant_id -> Text,
        identity_id -> Nullable<Text>,
        business_id -> Nullable<Text>,
        document_id -> Nullable<Text>,
        actor_kind -> Text,
        actor_key_id -> Nullable<Text>,
        action -> Text,
        fields_json -> Text,
        level_from -> Nullable<Text>,
        level_to -> Nullable<Text>,
        at -> BigInt,
    }
}

diesel::table! {
    idempotency_records (tenant_id, idem_key) {
        tenant_id -> Text,
        idem_key -> Text,
        request_hash -> Binary,
        state -> Text,
        response_status -> Nullable<BigInt>,
        response_headers_json -> Nullable<Text>,
        response_ct -> Nullable<Binary>,
        response_key_id -> Nullable<Text>,
        resource_id -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    webhook_configs (tenant_id) {
        tenant_id -> Text,
        url -> Text,
        enabled -> Bool,
        event_types_json -> Text,
        secret_ct -> Binary,
        secret_key_id -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    outbox_events (id) {
        id -> Text,
        tenant_id -> Text,
        event_type -> Text,
        payload_json -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> BigInt,
        created_at -> BigInt,
        delivered_at -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        event_id -> Text,
        tenant_id -> Text,
        url -> Text,
        attempt -> BigInt,
        status_code -> Nullable<BigInt>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
        attempted_at -> BigInt,
    }
}

diesel::table! {
    live_identity_counts (tenant_id, shard) {
        tenant_id -> Text,
        shard -> Integer,
        persons -> BigInt,
    }
}

diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(personal_identities -> identity_containers (container_id));
diesel::joinable!(document_images -> documents (document_id));
diesel::joinable!(webhook_deliveries -> outbox_events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    tenants,
    api_keys,
    identity_containers,
    personal_identities,
    business_identities,
    kyc_checks,
    documents,
    document_images,
    review_items,
    audit_events,
    idempotency_records,
    webhook_configs,
    outbox_events,
    webhook_deliveries,
    live_identity_counts,
);
