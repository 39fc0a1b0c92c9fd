//! Documents: metadata rows, and their images (front, optional back) sealed in a separate
//! table so that listing documents never reads image bytes.

use std::fmt;

use diesel::prelude::*;
use kyc_model::{
    Document, DocumentId, DocumentStatus, DocumentType, PersonalIdentityId, ProcessReason,
    QualityCheck, TenantId,
};

use crate::{
    DbConnection, Keyring, StoreError,
    conn::on_backend,
    crypto::Aad,
    schema::{
        document_images::{self, dsl as img},
        documents::{self, dsl as d},
    },
    ts,
    util::{from_json, parse_id, to_json},
};

const TABLE: &str = "documents";

/// Which side of a document an image shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageSide {
    Front,
    Back,
}

impl ImageSide {
    /// `front` or `back`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Front => "front",
            Self::Back => "back",
        }
    }
}

/// An image as uploaded (after metadata stripping). `Debug` shows the type and size only.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentImage {
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for DocumentImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentImage")
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What [`insert`] needs; the store assigns the id and timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDocument {
    pub tenant_id: TenantId,
    pub identity_id: PersonalIdentityId,
    pub doc_type: DocumentType,
    pub status: DocumentStatus,
    pub front_checks: Vec<QualityCheck>,
    pub back_checks: Vec<QualityCheck>,
    pub front: DocumentImage,
    pub back: Option<DocumentImage>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = documents, treat_none_as_default_value = false)]
struct DocumentRow {
    id: String,
    tenant_id: String,
    identity_id: String,
    doc_type: String,
    status: String,
    front_checks_json: String,
    back_checks_json: String,
    reason: Option<String>,
    provider: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = document_images, treat_none_as_default_value = false)]
struct ImageRow {
    document_id: String,
    side: String,
    tenant_id: String,
    content_type: String,
    key_id: String,
    ciphertext: Vec<u8>,
}

pub(crate) fn image_aad(document_id: &str, side: &str) -> Aad {
    Aad::new("document_images", side, document_id)
}

impl TryFrom<DocumentRow> for Document {
    type Error = StoreError;

    fn try_from(row: DocumentRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: parse_id(&row.id, TABLE, "id")?,
            tenant_id: parse_id(&row.tenant_id, TABLE, "tenant_id")?,
            identity_id: parse_id(&row.identity_id, TABLE, "identity_id")?,
            doc_type: DocumentType::from_name(&row.doc_type)
                .ok_or(StoreError::corrupt(TABLE, "doc_type"))?,
            status: DocumentStatus::from_name(&row.status)
                .ok_or(StoreError::corrupt(TABLE, "status"))?,
            front_checks: from_json(&row.front_checks_json, TABLE, "front_checks_json")?,
            back_checks: from_json(&row.back_checks_json, TABLE, "back_checks_json")?,
            created_at: ts::from_ms(row.created_at, TABLE, "created_at")?,
            updated_at: ts::from_ms(row.updated_at, TABLE, "updated_at")?,
        })
    }
}

/// When a new document of `identity` is uploaded: after the identity's latest fact, so that
/// an upload answering a request for information is never taken for one made before it
/// ([`crate::checks::next_fact_time`]).
fn uploaded_at(conn: &mut DbConnection, identity: PersonalIdentityId) -> Result<i64, StoreError> {
    Ok(ts::to_ms(crate::checks::next_fact_time(
        conn,
        identity,
        ts::now(),
    )?))
}

/// Stores a document of a live personal identity of `tenant`, with its images sealed.
#[tracing::instrument(skip_all, fields(tenant = %new.tenant_id, identity = %new.identity_id))]
pub fn insert(
    conn: &mut DbConnection,
    keys: &Keyring,
    new: &NewDocument,
) -> Result<Document, StoreError> {
    crate::personal::require_live(conn, new.tenant_id, new.identity_id)?;
    let id = DocumentId::random();
    let id_text = id.to_string();
    let now = uploaded_at(conn, new.identity_id)?;
    let row = DocumentRow {
        id: id_text.clone(),
        tenant_id: new.tenant_id.to_string(),
        identity_id: new.identity_id.to_string(),
        doc_type: new.doc_type.as_str().to_owned(),
        status: new.status.as_str().to_owned(),
        front_checks_json: to_json(&new.front_checks)?,
        back_checks_json: to_json(&new.back_checks)?,
        reason: None,
        provider: None,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(d::documents)
        .values(&row)
        .execute(conn)?;
    let sides = [
        (ImageSide::Front, Some(&new.front)),
        (ImageSide::Back, new.back.as_ref()),
    ];
    for (side, image) in sides {
        let Some(image) = image else { continue };
        let sealed = keys.seal(&image_aad(&id_text, side.as_str()), &image.bytes)?;
        diesel::insert_into(img::document_images)
            .values(&ImageRow {
                document_id: id_text.clone(),
                side: side.as_str().to_owned(),
                tenant_id: new.tenant_id.to_string(),
                content_type: image.content_type.clone(),
                key_id: sealed.key_id,
                ciphertext: sealed.bytes,
            })
            .execute(conn)?;
    }
    Document::try_from(row)
}

/// A document of `tenant` (metadata only).
pub fn find(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: DocumentId,
) -> Result<Document, StoreError> {
    d::documents
        .filter(d::id.eq(id.to_string()))
        .filter(d::tenant_id.eq(tenant.to_string()))
        .select(DocumentRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound { entity: "document" })
        .and_then(Document::try_from)
}

/// The documents of an identity of `tenant`, newest first.
pub fn list_for_identity(
    conn: &mut DbConnection,
    tenant: TenantId,
    identity: PersonalIdentityId,
) -> Result<Vec<Document>, StoreError> {
    let query = d::documents
        .filter(d::tenant_id.eq(tenant.to_string()))
        .filter(d::identity_id.eq(identity.to_string()))
        .order((d::created_at.desc(), d::id.desc()));
    on_backend!(conn, |conn| query
        .select(DocumentRow::as_select())
        .load(conn))?
    .into_iter()
    .map(Document::try_from)
    .collect()
}

/// Sets a document's status (a verifier's or reviewer's verdict) and returns it.
#[tracing::instrument(skip_all, fields(tenant = %tenant, id = %id, status = status.as_str()))]
pub fn set_status(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: DocumentId,
    status: DocumentStatus,
) -> Result<Document, StoreError> {
    let n = diesel::update(
        d::documents
            .filter(d::id.eq(id.to_string()))
            .filter(d::tenant_id.eq(tenant.to_string())),
    )
    .set((
        d::status.eq(status.as_str()),
        d::updated_at.eq(ts::now_ms()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound { entity: "document" });
    }
    find(conn, tenant, id)
}

/// One image of a document of `tenant`, decrypted. A passport has no back:
/// `NotFound { entity: "document_image" }`.
pub fn image(
    conn: &mut DbConnection,
    keys: &Keyring,
    tenant: TenantId,
    id: DocumentId,
    side: ImageSide,
) -> Result<DocumentImage, StoreError> {
    let id_text = id.to_string();
    let (content_type, key_id, ciphertext): (String, String, Vec<u8>) = img::document_images
        .filter(img::document_id.eq(&id_text))
        .filter(img::side.eq(side.as_str()))
        .filter(img::tenant_id.eq(tenant.to_string()))
        .select((img::content_type, img::key_id, img::ciphertext))
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound {
            entity: "document_image",
        })?;
    let bytes = keys.open(&key_id, &image_aad(&id_text, side.as_str()), &ciphertext)?;
    Ok(DocumentImage {
        content_type,
        bytes,
    })
}

/// A verification imported from a trusted provider (`PUT /kycs` type `import`): a document
/// record without images, approved or rejected with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImportedDocument {
    pub tenant_id: TenantId,
    pub identity_id: PersonalIdentityId,
    pub doc_type: DocumentType,
    pub status: DocumentStatus,
    pub reason: Option<ProcessReason>,
    /// The provider's name, e.g. `veriff`.
    pub provider: String,
}

/// Stores an imported verification of a live personal identity of `tenant`.
#[tracing::instrument(skip_all, fields(tenant = %new.tenant_id, identity = %new.identity_id))]
pub fn insert_imported(
    conn: &mut DbConnection,
    new: &NewImportedDocument,
) -> Result<Document, StoreError> {
    crate::personal::require_live(conn, new.tenant_id, new.identity_id)?;
    let now = uploaded_at(conn, new.identity_id)?;
    let row = DocumentRow {
        id: DocumentId::random().to_string(),
        tenant_id: new.tenant_id.to_string(),
        identity_id: new.identity_id.to_string(),
        doc_type: new.doc_type.as_str().to_owned(),
        status: new.status.as_str().to_owned(),
        front_checks_json: to_json(&Vec::<QualityCheck>::new())?,
        back_checks_json: to_json(&Vec::<QualityCheck>::new())?,
        reason: new.reason.map(|r| r.as_str().to_owned()),
        provider: Some(new.provider.clone()),
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(d::documents)
        .values(&row)
        .execute(conn)?;
    Document::try_from(row)
}

/// Records why a document of `tenant` was rejected (or clears it).
pub fn set_reason(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: DocumentId,
    reason: Option<ProcessReason>,
) -> Result<(), StoreError> {
    let n = diesel::update(
        d::documents
            .filter(d::id.eq(id.to_string()))
            .filter(d::tenant_id.eq(tenant.to_string())),
    )
    .set(d::reason.eq(reason.map(|r| r.as_str())))
    .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound { entity: "document" });
    }
    Ok(())
}

/// The recorded rejection reasons of an identity's documents, for the tier engine's
/// `Facts::document_reasons`.
pub fn reasons_for_identity(
    conn: &mut DbConnection,
    tenant: TenantId,
    identity: PersonalIdentityId,
) -> Result<Vec<(DocumentId, ProcessReason)>, StoreError> {
    let query = d::documents
        .filter(d::tenant_id.eq(tenant.to_string()))
        .filter(d::identity_id.eq(identity.to_string()))
        .filter(d::reason.is_not_null())
        .select((d::id, d::reason));
    let rows: Vec<(String, Option<String>)> = on_backend!(conn, |conn| query.load(conn))?;
    rows.into_iter()
        .filter_map(|(id, reason)| reason.map(|r| (id, r)))
        .map(|(id, reason)| {
            let reason = serde_json::from_value(serde_json::Value::String(reason))
                .map_err(|_| StoreError::corrupt(TABLE, "reason"))?;
            Ok((parse_id(&id, TABLE, "id")?, reason))
        })
        .collect()
}

/// The provider of an imported document, `None` for an upload.
pub fn provider(
    conn: &mut DbConnection,
    tenant: TenantId,
    id: DocumentId,
) -> Result<Option<String>, StoreError> {
    d::documents
        .filter(d::id.eq(id.to_string()))
        .filter(d::tenant_id.eq(tenant.to_string()))
        .select(d::provider)
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound { entity: "document" })
}
