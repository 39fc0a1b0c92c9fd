//! Proof-of-identity documents (SPEC §5; seeds 000, 001, 003): upload as `multipart/form-data`
//! or as JSON with base64 data URLs, list, read, and short-lived signed links to the images.
//!
//! An upload is refused as early as possible and never buffered past its limits: the identity
//! and its remaining attempts are checked before any image byte is read; each file streams
//! through [`kyc_docs::UploadBuffer`], which refuses a non-image after its first bytes (415)
//! and a file over 10 MB as soon as it passes the limit (413); the whole request is capped too.
//! Intake (metadata strip, bomb guard) and the quality checks run on the blocking pool, at most
//! `image_slots` at a time, and only the stripped bytes are stored.

use std::{cell::Cell, rc::Rc, task::Poll};

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::{
    HttpRequest, HttpResponse,
    error::PayloadError,
    get,
    http::header::{self, HeaderMap},
    post, web,
};
use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use futures_util::{Stream, StreamExt, ready};
use kyc_docs::{Checker, DocsError, Limits, QualityConfig, UploadBuffer};
use kyc_model::{Document, DocumentId, DocumentType, PersonalIdentityId, ProcessReason, TenantId};
use kyc_rules::Violation;
use kyc_store::{
    DbConnection,
    documents::{self, DocumentImage, ImageSide},
    personal,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{
    auth::{Reader, Writer},
    dto::{DocumentDto, DocumentListDto, PresignedUrlDto, rfc3339},
    error::ApiError,
    idempotency,
    metrics::Metrics,
    presign::Side,
    reply::Reply,
    routes::common::{BASE, json_body, path_id, retry_conflicts, violation},
    state::{AppState, blocking, read},
    workflow::{self, CheckedImage, CheckedUpload, Unit, Uploaded},
};

type State = web::Data<AppState>;

/// Room, beyond the images, for the document type, part headers and boundaries (or the JSON
/// keys and data-URL prefixes).
const OVERHEAD: usize = 64 * 1024;
/// The longest `DocumentType` value read (the longest valid one has 18 characters).
const MAX_TYPE_BYTES: usize = 64;

/// The largest multipart body: two images and the overhead.
fn form_cap(limits: &Limits) -> usize {
    limits.max_bytes.saturating_mul(2).saturating_add(OVERHEAD)
}

/// The largest JSON body: two images in base64 and the overhead.
fn json_cap(limits: &Limits) -> usize {
    limits
        .max_bytes
        .div_ceil(3)
        .saturating_mul(4)
        .saturating_mul(2)
        .saturating_add(OVERHEAD)
}

const REQUEST_TOO_LARGE: ApiError = ApiError::PayloadTooLarge(
    "The request is too large: a document upload carries at most two images of 10 MB each.",
);

/// Standard base64, padded or not: data URLs in the wild come both ways.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The names of the three inputs in one body format.
struct Names {
    doc_type: &'static str,
    front: &'static str,
    back: &'static str,
}

/// Seed 000's multipart field names.
const FORM: Names = Names {
    doc_type: "DocumentType",
    front: "DocumentFront",
    back: "DocumentBack",
};

/// The JSON keys (camelCase, like every other JSON body of the API).
const JSON: Names = Names {
    doc_type: "documentType",
    front: "front",
    back: "back",
};

/// Other names a JSON upload may give its inputs: seed 000's form names, and their camelCase.
const JSON_ALIASES: [(&str, &str); 5] = [
    ("DocumentType", "documentType"),
    ("DocumentFront", "front"),
    ("documentFront", "front"),
    ("DocumentBack", "back"),
    ("documentBack", "back"),
];

/// A `validation_failed` error listing `violations` sorted, as `kyc-rules` lists them.
fn invalid(mut violations: Vec<Violation>) -> ApiError {
    violations.sort();
    ApiError::Validation(serde_json::to_value(violations).unwrap_or_default())
}

/// A client-chosen name, safe to echo in an error: printable ASCII, at most 64 characters.
fn shown(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

/// An upload as received: the type and the raw bytes of each image, already sniffed as JPEG or
/// PNG and within the size limit.
struct RawUpload {
    doc_type: DocumentType,
    front: Vec<u8>,
    back: Option<Vec<u8>>,
}

// The bytes are images of an identity document: Debug shows the sizes only.
impl std::fmt::Debug for RawUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawUpload")
            .field("doc_type", &self.doc_type)
            .field("front_len", &self.front.len())
            .field("back_len", &self.back.as_ref().map(Vec::len))
            .finish()
    }
}

impl RawUpload {
    /// What an `Idempotency-Key` compares: the same type and images, however they were sent.
    fn digest(&self) -> Vec<u8> {
        let mut hash = Sha256::new();
        hash.update(self.doc_type.as_str());
        for image in std::iter::once(&self.front).chain(&self.back) {
            hash.update((image.len() as u64).to_be_bytes());
            hash.update(image);
        }
        hash.finalize().to_vec()
    }
}

/// The inputs gathered from either body format, before the cross-field rules.
#[derive(Default)]
struct Parts {
    doc_type: Option<String>,
    front: Option<Vec<u8>>,
    back: Option<Vec<u8>>,
}

impl Parts {
    /// Applies the rules that need every input: a known type, a front, and a back where the
    /// type has one. An empty file counts as absent (a form's unselected file input).
    /// `violations` are those found earlier; a field already named there is not named again.
    fn finish(self, names: &Names, mut violations: Vec<Violation>) -> Result<RawUpload, ApiError> {
        let mut report = |field: &str, rule: &str, message: &str| {
            if !violations.iter().any(|v| v.field == field) {
                violations.push(violation(field, rule, message));
            }
        };
        let doc_type = match self.doc_type.as_deref() {
            None | Some("") => {
                report(names.doc_type, "required", "is required");
                None
            }
            Some(name) => {
                let parsed = DocumentType::from_name(name);
                if parsed.is_none() {
                    report(
                        names.doc_type,
                        "enum",
                        "must be one of license, identificationCard, passport, residencePermit",
                    );
                }
                parsed
            }
        };
        let front = self.front.filter(|f| !f.is_empty());
        if front.is_none() {
            report(names.front, "required", "is required");
        }
        let back = self.back.filter(|b| !b.is_empty());
        if back.is_none() && doc_type.is_some_and(DocumentType::needs_back) {
            report(
                names.back,
                "required",
                "is required for license, identificationCard and residencePermit",
            );
        }
        match (doc_type, front) {
            (Some(doc_type), Some(front)) if violations.is_empty() => Ok(RawUpload {
                doc_type,
                front,
                back,
            }),
            _ => Err(invalid(violations)),
        }
    }
}

/// How the upload is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyFormat {
    Form,
    Json,
}

fn body_format(headers: &HeaderMap) -> Result<BodyFormat, ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "multipart/form-data" => Ok(BodyFormat::Form),
        "application/json" => Ok(BodyFormat::Json),
        _ => Err(invalid(vec![violation(
            "Content-Type",
            "media_type",
            "must be multipart/form-data or application/json",
        )])),
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn malformed_body(what: &'static str) -> ApiError {
    invalid(vec![violation("", "malformed", what)])
}

fn form_error(err: MultipartError) -> ApiError {
    match err {
        MultipartError::Payload(PayloadError::Overflow) => REQUEST_TOO_LARGE,
        MultipartError::Payload(e) if crate::body_deadline::is_timeout(&e) => {
            ApiError::RequestTimeout
        }
        MultipartError::Payload(_) | MultipartError::Incomplete => {
            malformed_body("the multipart body ended early")
        }
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible
        | MultipartError::BoundaryMissing => invalid(vec![violation(
            "Content-Type",
            "media_type",
            "must be multipart/form-data with a boundary",
        )]),
        _ => malformed_body("the multipart body is malformed"),
    }
}

/// Streams one file part through the upload buffer: refused at the first bytes when it is not
/// JPEG or PNG, and the moment it passes the size limit, without reading further.
async fn read_image(
    field: &mut Field,
    limits: &Limits,
    body: &BodyEnd,
) -> Result<Vec<u8>, ApiError> {
    let mut buffer = UploadBuffer::new(limits);
    while let Some(chunk) = body.next(field).await? {
        buffer.push(&chunk.map_err(form_error)?)?;
    }
    if buffer.is_empty() {
        return Ok(Vec::new());
    }
    Ok(buffer.finish()?.1)
}

async fn read_text(field: &mut Field, name: &str, body: &BodyEnd) -> Result<String, ApiError> {
    let mut text = Vec::new();
    while let Some(chunk) = body.next(field).await? {
        let chunk = chunk.map_err(form_error)?;
        if text.len() + chunk.len() > MAX_TYPE_BYTES {
            return Err(invalid(vec![violation(name, "max_length", "is too long")]));
        }
        text.extend_from_slice(&chunk);
    }
    String::from_utf8(text)
        .map(|t| t.trim().to_owned())
        .map_err(|_| invalid(vec![violation(name, "type", "must be UTF-8 text")]))
}

/// Reads a `multipart/form-data` upload (seed 000's field names).
async fn read_form(
    headers: &HeaderMap,
    mut payload: web::Payload,
    limits: &Limits,
) -> Result<RawUpload, ApiError> {
    // The per-file limit bounds the images; this bounds everything else a client could stream
    // (preambles, part headers, epilogues) so no request is read without end.
    let cap = form_cap(limits);
    let mut received = 0_usize;
    let body = BodyEnd::default();
    let ended = Rc::clone(&body.0);
    let capped = futures_util::stream::poll_fn(move |cx| {
        Poll::Ready(match ready!(payload.poll_next_unpin(cx)) {
            Some(chunk) => Some(chunk.and_then(|chunk| {
                received = received.saturating_add(chunk.len());
                if received > cap {
                    Err(PayloadError::Overflow)
                } else {
                    Ok(chunk)
                }
            })),
            None => {
                ended.set(true);
                None
            }
        })
    });
    let mut form = Multipart::new(headers, capped);
    let mut parts = Parts::default();
    // Unknown fields are listed with whatever else is wrong (SPEC §3: every violation).
    let mut unknown = Vec::new();
    while let Some(field) = body.next(&mut form).await? {
        let mut field = field.map_err(form_error)?;
        let name = field.name().unwrap_or_default().to_owned();
        let slot = match name.as_str() {
            n if n == FORM.doc_type => {
                if parts.doc_type.is_some() {
                    return Err(duplicate(FORM.doc_type));
                }
                parts.doc_type = Some(read_text(&mut field, FORM.doc_type, &body).await?);
                continue;
            }
            n if n == FORM.front => &mut parts.front,
            n if n == FORM.back => &mut parts.back,
            other => {
                unknown.push(violation(
                    &shown(other),
                    "unknown_field",
                    "is not a known field",
                ));
                // Read past it (the form's cap bounds it) to reach the next part.
                while let Some(chunk) = body.next(&mut field).await? {
                    chunk.map_err(form_error)?;
                }
                continue;
            }
        };
        if slot.is_some() {
            return Err(duplicate(&name));
        }
        *slot = Some(read_image(&mut field, limits, &body).await?);
    }
    parts.finish(&FORM, unknown)
}

/// Whether a form's body has ended, to tell a parser that waits for more from one that never
/// will be woken: actix-multipart waits when a form's closing boundary never comes, even after
/// the body's last byte, and that request would never be answered.
#[derive(Default)]
struct BodyEnd(Rc<Cell<bool>>);

impl BodyEnd {
    /// The next item of the form or of one of its fields; a wait after the body's end is a body
    /// that ended early.
    async fn next<S: Stream + Unpin>(&self, stream: &mut S) -> Result<Option<S::Item>, ApiError> {
        std::future::poll_fn(|cx| match stream.poll_next_unpin(cx) {
            Poll::Ready(item) => Poll::Ready(Ok(item)),
            Poll::Pending if self.0.get() => {
                Poll::Ready(Err(malformed_body("the multipart body ended early")))
            }
            Poll::Pending => Poll::Pending,
        })
        .await
    }
}

fn duplicate(name: &str) -> ApiError {
    invalid(vec![violation(name, "duplicate", "may appear only once")])
}

/// Reads a JSON upload, refusing a body over the cap while it streams.
async fn read_json(mut payload: web::Payload, limits: &Limits) -> Result<RawUpload, ApiError> {
    let cap = json_cap(limits);
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::body_deadline::is_timeout(&e) {
                ApiError::RequestTimeout
            } else {
                malformed_body("the request body ended early")
            }
        })?;
        if body.len().saturating_add(chunk.len()) > cap {
            return Err(REQUEST_TOO_LARGE);
        }
        body.extend_from_slice(&chunk);
    }
    parse_json(&json_body(&body)?, limits)
}

/// Why an image text could not be decoded.
#[derive(Debug, PartialEq, Eq)]
enum TextImageError {
    Malformed,
    TooLarge,
}

/// Decodes a base64 data URL (`data:image/jpeg;base64,...`) or bare base64. The media type a
/// data URL names is ignored: intake reads the type from the bytes. The decoded size is
/// computed before decoding, so an oversized image is refused without allocating it.
fn decode_image_text(text: &str, max_bytes: usize) -> Result<Vec<u8>, TextImageError> {
    let data = match text.strip_prefix("data:") {
        Some(rest) => {
            let (meta, data) = rest.split_once(',').ok_or(TextImageError::Malformed)?;
            if !meta.to_ascii_lowercase().ends_with(";base64") {
                return Err(TextImageError::Malformed);
            }
            data
        }
        None => text,
    };
    let compact: std::borrow::Cow<'_, str> = if data.bytes().any(|b| b.is_ascii_whitespace()) {
        data.chars().filter(|c| !c.is_ascii_whitespace()).collect()
    } else {
        data.into()
    };
    let padding = compact.bytes().rev().take_while(|&b| b == b'=').count();
    let decoded_len = (compact.len() - padding.min(compact.len())) / 4 * 3
        + match (compact.len() - padding.min(compact.len())) % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        };
    if decoded_len > max_bytes {
        return Err(TextImageError::TooLarge);
    }
    BASE64
        .decode(compact.as_bytes())
        .map_err(|_| TextImageError::Malformed)
}

/// Validates a JSON upload's shape, then decodes and sniffs its images (400s first, then
/// 413 and 415).
fn parse_json(value: &serde_json::Value, limits: &Limits) -> Result<RawUpload, ApiError> {
    let Some(object) = value.as_object() else {
        return Err(invalid(vec![violation(
            "",
            "type",
            "must be a JSON object",
        )]));
    };
    let mut violations = Vec::new();
    // Each input's value under its JSON name or one of its aliases (at most one of them).
    let mut given: [Option<&serde_json::Value>; 3] = [None; 3];
    let inputs = [JSON.doc_type, JSON.front, JSON.back];
    for (key, value) in object {
        let name = JSON_ALIASES
            .iter()
            .find_map(|&(alias, name)| (alias == key).then_some(name))
            .unwrap_or(key);
        match inputs.iter().position(|&input| input == name) {
            Some(i) if given[i].is_some() => {
                violations.push(violation(name, "duplicate", "may appear only once"));
            }
            Some(i) => given[i] = Some(value),
            None => violations.push(violation(
                &shown(key),
                "unknown_field",
                "is not a known field",
            )),
        }
    }
    let mut text = |i: usize| match given[i] {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            violations.push(violation(inputs[i], "type", "must be a string"));
            None
        }
    };
    let (doc_type, front, back) = (text(0), text(1), text(2));
    let mut decoded = |key: &str, value: Option<&str>| -> Result<Option<Vec<u8>>, ApiError> {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        match decode_image_text(value, limits.max_bytes) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(TextImageError::TooLarge) => Err(DocsError::TooLarge {
                limit: limits.max_bytes,
            }
            .into()),
            Err(TextImageError::Malformed) => {
                violations.push(violation(
                    key,
                    "data_url",
                    "must be a base64 data URL (data:image/jpeg;base64,...) or base64",
                ));
                Ok(None)
            }
        }
    };
    let front = decoded(JSON.front, front)?;
    let back = decoded(JSON.back, back)?;
    let doc_type = doc_type.map(str::to_owned);
    if !violations.is_empty() {
        // Every shape violation at once, before any image is sniffed.
        return Parts {
            doc_type,
            front,
            back,
        }
        .finish(&JSON, violations);
    }
    let sniffed = |bytes: Option<Vec<u8>>| -> Result<Option<Vec<u8>>, ApiError> {
        let Some(bytes) = bytes else { return Ok(None) };
        let mut buffer = UploadBuffer::new(limits);
        buffer.push(&bytes)?;
        Ok(Some(buffer.finish()?.1))
    };
    Parts {
        doc_type,
        front: sniffed(front)?,
        back: sniffed(back)?,
    }
    .finish(&JSON, Vec::new())
}

/// Intake and the quality checks of both sides (CPU-bound: runs on the blocking pool).
fn check_upload(raw: RawUpload, config: &QualityConfig) -> Result<CheckedUpload, ApiError> {
    let mut checker = Checker::new(config.clone());
    let front = check_side(&mut checker, &raw.front)?;
    let back = raw
        .back
        .as_deref()
        .map(|b| check_side(&mut checker, b))
        .transpose()?;
    Ok(CheckedUpload {
        doc_type: raw.doc_type,
        front,
        back,
    })
}

fn check_side(checker: &mut Checker, bytes: &[u8]) -> Result<CheckedImage, DocsError> {
    let accepted = kyc_docs::intake(bytes, &checker.config().limits)?;
    let assessment = checker.assess(&accepted.stripped)?;
    Ok(CheckedImage {
        image: DocumentImage {
            content_type: accepted.format.mime_type().to_owned(),
            bytes: accepted.stripped,
        },
        checks: assessment.checks,
    })
}

/// Stores a checked upload (the identity's row lock orders it after concurrent changes).
fn store_upload(
    state: &AppState,
    tenant: TenantId,
    actor: kyc_model::Actor,
    id: PersonalIdentityId,
    upload: &CheckedUpload,
) -> Result<Uploaded, ApiError> {
    retry_conflicts(false, || {
        state.db.write(|conn| {
            Unit::run(conn, |unit| {
                workflow::upload_document(unit, state, tenant, actor, id, upload)
            })
        })
    })
}

fn document_location(reply: &Reply) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()?
        .get("id")?
        .as_str()
        .map(str::to_owned)
}

/// Uploads a proof-of-identity document and quality-checks it on arrival.
#[utoipa::path(post, path = "/api/trust/v1/personal-identities/{id}/documents", tag = "documents",
    params(
        ("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h"),
    ),
    request_body(
        description = "Either seed 000's form fields DocumentType, DocumentFront, DocumentBack, or JSON with base64 data URLs. The type of each image is read from its bytes (JPEG or PNG), never from its name or declared type; each may be at most 10 MB. Metadata (EXIF with GPS, XMP, text chunks) is stripped before storage.",
        content(
            (crate::dto::DocumentUploadForm = "multipart/form-data"),
            (crate::dto::DocumentUploadJson = "application/json"),
        ),
    ),
    responses(
        (status = 201, body = DocumentDto, description = "Stored, with its status and the identity after it. A failed quality check gives resubmit (reasons: the failed checks), a monochrome scan rejected; a document that passes is decided by the verifier (sandbox: by last name, see docs/tier-policy.md) or goes to manualReviewNeeded and the review queue.", headers(("Location" = String, description = "The created resource's URL"))),
        (status = 400, body = crate::dto::ErrorBody, description = "validation_failed (missing or unknown field, unknown type, missing back, malformed data URL) or invalid_json"),
        (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found"),
        (status = 409, body = crate::dto::ErrorBody, description = "document_attempts_exhausted: three rejections (three resubmits without an approval count as one)"),
        (status = 413, body = crate::dto::ErrorBody, description = "payload_too_large: an image over 10 MB, refused while streaming"),
        (status = 415, body = crate::dto::ErrorBody, description = "unsupported_file_type: not JPEG or PNG by content; nothing is stored"),
        (status = 422, body = crate::dto::ErrorBody, description = "decompression_bomb (over 100 megapixels or 12,000 px a side), invalid_image, or idempotency_key_reused"),
    ),
    security(("bearer" = [])))]
#[post("/personal-identities/{id}/documents")]
pub async fn upload_document(
    state: State,
    caller: Writer,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    let caller = caller.0;
    let format = body_format(req.headers())?;
    let limits = state.quality.limits;
    let cap = match format {
        BodyFormat::Form => form_cap(&limits),
        BodyFormat::Json => json_cap(&limits),
    };
    if content_length(req.headers()).is_some_and(|len| len > cap as u64) {
        return Err(REQUEST_TOO_LARGE);
    }
    let (st, tenant) = (state.clone(), caller.tenant);
    blocking(move || {
        st.db
            .run(|conn| workflow::may_upload(conn, &st, tenant, id))
    })
    .await?;

    let raw = match format {
        BodyFormat::Form => read_form(req.headers(), payload, &limits).await?,
        BodyFormat::Json => read_json(payload, &limits).await?,
    };
    let (raw, digest) = if req.headers().contains_key(idempotency::HEADER) {
        blocking(move || {
            let digest = raw.digest();
            Ok((raw, digest))
        })
        .await?
    } else {
        (raw, Vec::new())
    };
    let st = state.clone();
    let actor = caller.actor();
    idempotency::run(
        &state,
        &caller,
        &req,
        &digest,
        document_location,
        move || async move {
            let permit = st
                .image_slots
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| ApiError::Unavailable)?;
            let config = st.quality.clone();
            let checked = blocking(move || {
                // Held until the checks finish, even if the client goes away meanwhile.
                let _permit = permit;
                check_upload(raw, &config)
            })
            .await?;
            metrics.observe_document(match checked.quality() {
                kyc_docs::Verdict::Pass => "pass",
                kyc_docs::Verdict::Resubmit(_) => "resubmit",
                kyc_docs::Verdict::Rejected(_) => "rejected",
            });
            let store = st.clone();
            let uploaded =
                blocking(move || store_upload(&store, tenant, actor, id, &checked)).await?;
            let dto = DocumentDto::new(&uploaded.document, uploaded.reason)
                .with_identity(&uploaded.identity);
            Ok(Reply::created(
                &dto,
                format!("{BASE}/documents/{}", uploaded.document.id),
            ))
        },
    )
    .await
}

/// The recorded process reason of a document, if any.
fn reason_of(conn: &mut DbConnection, doc: &Document) -> Result<Option<ProcessReason>, ApiError> {
    Ok(
        documents::reasons_for_identity(conn, doc.tenant_id, doc.identity_id)?
            .into_iter()
            .find_map(|(id, reason)| (id == doc.id).then_some(reason)),
    )
}

/// The documents of a personal identity, newest first.
#[utoipa::path(get, path = "/api/trust/v1/personal-identities/{id}/documents", tag = "documents",
    params(("id" = String, Path)),
    responses((status = 200, body = DocumentListDto), (status = 404, body = crate::dto::ErrorBody, description = "identity_not_found")),
    security(("bearer" = [])))]
#[get("/personal-identities/{id}/documents")]
pub async fn list_documents(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: PersonalIdentityId = path_id(&id, "id")?;
    let tenant = caller.tenant;
    let st = state.clone();
    let data = read(&state, move || {
        st.db.run(|conn| {
            personal::find(conn, st.db.keys(), tenant, id)?;
            let docs = documents::list_for_identity(conn, tenant, id)?;
            let reasons = documents::reasons_for_identity(conn, tenant, id)?;
            let reason = |doc: &Document| {
                reasons
                    .iter()
                    .find_map(|&(d, r)| (d == doc.id).then_some(r))
            };
            Ok::<_, ApiError>(
                docs.iter()
                    .map(|doc| DocumentDto::new(doc, reason(doc)))
                    .collect::<Vec<_>>(),
            )
        })
    })
    .await?;
    Ok(Reply::ok(&DocumentListDto { data }).into_response())
}

/// One document (its status and quality checks; not the images).
#[utoipa::path(get, path = "/api/trust/v1/documents/{id}", tag = "documents",
    params(("id" = String, Path)),
    responses((status = 200, body = DocumentDto), (status = 404, body = crate::dto::ErrorBody, description = "document_not_found")),
    security(("bearer" = [])))]
#[get("/documents/{id}")]
pub async fn get_document(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: DocumentId = path_id(&id, "id")?;
    let tenant = caller.tenant;
    let st = state.clone();
    let dto = read(&state, move || {
        st.db.run(|conn| {
            let doc = documents::find(conn, tenant, id)?;
            let reason = reason_of(conn, &doc)?;
            Ok::<_, ApiError>(DocumentDto::new(&doc, reason))
        })
    })
    .await?;
    Ok(Reply::ok(&dto).into_response())
}

fn image_url(
    state: &AppState,
    tenant: TenantId,
    doc: DocumentId,
    side: Side,
    now: OffsetDateTime,
) -> (i64, String) {
    let (expires, signature) = state.presigner.sign(tenant, doc, side, now);
    let url = format!(
        "{}{BASE}/documents/{doc}/image?side={}&tenant={tenant}&expires={expires}&signature={signature}",
        state.public_url,
        side.as_str(),
    );
    (expires, url)
}

/// Short-lived links (15 minutes by default) to the document's images, usable without an API
/// key (seed 001).
#[utoipa::path(get, path = "/api/trust/v1/documents/{id}/presign-url", tag = "documents",
    params(("id" = String, Path)),
    responses(
        (status = 200, body = PresignedUrlDto),
        (status = 404, body = crate::dto::ErrorBody, description = "document_not_found, or document_image_not_found for an imported verification, which has no image"),
    ),
    security(("bearer" = [])))]
#[get("/documents/{id}/presign-url")]
pub async fn presign_url(
    state: State,
    caller: Reader,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: DocumentId = path_id(&id, "id")?;
    let tenant = caller.tenant;
    let st = state.clone();
    let doc = read(&state, move || {
        Ok(st.db.run(|conn| documents::find(conn, tenant, id))?)
    })
    .await?;
    // Every upload has its quality checks; only an imported verification has none, and it
    // has no image either.
    if doc.front_checks.is_empty() {
        return Err(ApiError::not_found(
            "document_image_not_found",
            "This document has no stored image.",
        ));
    }
    let now = state.now();
    let (expires, front) = image_url(&state, tenant, id, Side::Front, now);
    let back =
        (!doc.back_checks.is_empty()).then(|| image_url(&state, tenant, id, Side::Back, now).1);
    let expires_at = OffsetDateTime::from_unix_timestamp(expires)
        .map(rfc3339)
        .map_err(ApiError::internal)?;
    let dto = PresignedUrlDto {
        url: front.clone(),
        expires_at,
        front,
        back,
    };
    Ok(Reply::ok(&dto)
        .header("cache-control", "private, no-store".to_owned())
        .into_response())
}

/// The query of a presigned image link.
#[derive(Deserialize)]
struct ImageQuery {
    side: Side,
    tenant: TenantId,
    expires: i64,
    signature: String,
}

/// One image of a document, through a presigned link: no API key; the signature is the
/// authority. A bad, expired or tampered link is the same 404 as a missing document.
#[utoipa::path(get, path = "/api/trust/v1/documents/{id}/image", tag = "documents",
    params(
        ("id" = String, Path),
        ("side" = String, Query, description = "front or back"),
        ("tenant" = String, Query),
        ("expires" = i64, Query, description = "Unix seconds"),
        ("signature" = String, Query),
    ),
    responses(
        (status = 200, description = "The image as stored (metadata stripped), with Cache-Control: private, no-store", content((String = "image/jpeg"), (String = "image/png"))),
        (status = 404, body = crate::dto::ErrorBody, description = "document_not_found: missing, or the link is invalid or expired"),
    ))]
#[get("/documents/{id}/image")]
pub async fn get_image(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    const NOT_FOUND: ApiError = ApiError::not_found("document_not_found", "No such document.");
    let id: DocumentId = id.parse().map_err(|_| NOT_FOUND)?;
    let query = web::Query::<ImageQuery>::from_query(req.query_string())
        .map_err(|_| NOT_FOUND)?
        .into_inner();
    state
        .presigner
        .verify(
            query.tenant,
            id,
            query.side,
            query.expires,
            &query.signature,
            state.now(),
        )
        .map_err(|_| NOT_FOUND)?;
    let side = match query.side {
        Side::Front => ImageSide::Front,
        Side::Back => ImageSide::Back,
    };
    let st = state.clone();
    let image = read(&state, move || {
        Ok(st
            .db
            .run(|conn| documents::image(conn, st.db.keys(), query.tenant, id, side))?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(image.content_type)
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(image.bytes))
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use kyc_docs::testing::Scene;

    use super::*;

    fn limits(max_bytes: usize) -> Limits {
        Limits {
            max_bytes,
            ..Limits::default()
        }
    }

    fn rules(err: ApiError) -> Vec<(String, String)> {
        let ApiError::Validation(details) = err else {
            panic!("not a validation error: {err:?}");
        };
        details
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["field"].as_str().unwrap().to_owned(),
                    v["rule"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nrest";

    #[test]
    fn data_urls_and_bare_base64_decode() {
        let bytes = b"\xFF\xD8\xFF\xE0 a jpeg".to_vec();
        let url = format!("data:image/png;base64,{}", STANDARD.encode(&bytes));
        assert_eq!(decode_image_text(&url, 100), Ok(bytes.clone()));
        assert_eq!(
            decode_image_text(&STANDARD_NO_PAD.encode(&bytes), 100),
            Ok(bytes.clone())
        );
        let wrapped = STANDARD
            .encode(&bytes)
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(decode_image_text(&wrapped, 100), Ok(bytes));
        for bad in [
            "data:image/png,abcd",
            "data:image/png;base64",
            "not base64!",
        ] {
            assert_eq!(
                decode_image_text(bad, 100),
                Err(TextImageError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_decoded_size_is_checked_before_decoding() {
        for len in [0_usize, 1, 2, 3, 10, 11, 12] {
            let text = STANDARD.encode(vec![0xFF; len]);
            let unpadded = STANDARD_NO_PAD.encode(vec![0xFF; len]);
            for t in [&text, &unpadded] {
                assert_eq!(decode_image_text(t, len).map(|b| b.len()), Ok(len));
                if len > 0 {
                    assert_eq!(
                        decode_image_text(t, len - 1),
                        Err(TextImageError::TooLarge),
                        "{len}"
                    );
                }
            }
        }
    }

    #[test]
    fn json_uploads_are_validated_before_decoding() {
        let l = Limits::default();
        let err = parse_json(
            &serde_json::json!({"documentType": "visa", "front": 3, "colour": "red"}),
            &l,
        )
        .unwrap_err();
        let mut found = rules(err);
        found.sort();
        assert_eq!(
            found,
            [
                ("colour".to_owned(), "unknown_field".to_owned()),
                ("documentType".to_owned(), "enum".to_owned()),
                ("front".to_owned(), "type".to_owned()),
            ]
        );
        let err = parse_json(&serde_json::json!({"documentType": "visa"}), &l).unwrap_err();
        let mut found = rules(err);
        found.sort();
        assert_eq!(
            found,
            [
                ("documentType".to_owned(), "enum".to_owned()),
                ("front".to_owned(), "required".to_owned()),
            ]
        );
        let front = STANDARD.encode(PNG);
        let err = parse_json(
            &serde_json::json!({"documentType": "license", "front": front}),
            &l,
        )
        .unwrap_err();
        assert_eq!(rules(err), [("back".to_owned(), "required".to_owned())]);
        let raw = parse_json(
            &serde_json::json!({"documentType": "passport", "front": front, "back": null}),
            &l,
        )
        .unwrap();
        assert_eq!(
            (raw.doc_type, raw.front.as_slice()),
            (DocumentType::Passport, PNG)
        );
        assert!(raw.back.is_none());
    }

    #[test]
    fn json_uploads_may_use_the_form_names() {
        let l = Limits::default();
        let image = STANDARD.encode(PNG);
        for body in [
            serde_json::json!({"DocumentType": "license", "DocumentFront": image, "DocumentBack": image}),
            serde_json::json!({"documentType": "license", "documentFront": image, "documentBack": image}),
        ] {
            let raw = parse_json(&body, &l).unwrap();
            assert_eq!(raw.doc_type, DocumentType::License, "{body}");
            assert_eq!(raw.front.as_slice(), PNG);
            assert_eq!(raw.back.as_deref(), Some(PNG));
        }
        // One input under two names is ambiguous.
        let err = parse_json(
            &serde_json::json!({"documentType": "passport", "front": image, "DocumentFront": image}),
            &l,
        )
        .unwrap_err();
        assert_eq!(rules(err), [("front".to_owned(), "duplicate".to_owned())]);
    }

    #[test]
    fn json_images_are_sized_and_sniffed() {
        let big = STANDARD.encode([PNG, &[0; 32]].concat());
        let err = parse_json(
            &serde_json::json!({"documentType": "passport", "front": big}),
            &limits(16),
        )
        .unwrap_err();
        assert!(matches!(err, ApiError::PayloadTooLarge(_)), "{err:?}");
        let gif = format!("data:image/jpeg;base64,{}", STANDARD.encode(b"GIF89a...."));
        let err = parse_json(
            &serde_json::json!({"documentType": "passport", "front": gif}),
            &Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, ApiError::UnsupportedFileType), "{err:?}");
    }

    #[test]
    fn a_passport_may_have_a_back_and_the_others_must() {
        let parts = |t: &str, back: bool| Parts {
            doc_type: Some(t.to_owned()),
            front: Some(PNG.to_vec()),
            back: back.then(|| PNG.to_vec()),
        };
        assert!(parts("passport", false).finish(&FORM, Vec::new()).is_ok());
        assert!(
            parts("passport", true)
                .finish(&FORM, Vec::new())
                .unwrap()
                .back
                .is_some()
        );
        for t in ["license", "identificationCard", "residencePermit"] {
            assert_eq!(
                rules(parts(t, false).finish(&FORM, Vec::new()).unwrap_err()),
                [("DocumentBack".to_owned(), "required".to_owned())]
            );
            assert!(parts(t, true).finish(&FORM, Vec::new()).is_ok());
        }
        let empty = Parts {
            front: Some(Vec::new()),
            ..Parts::default()
        };
        assert_eq!(
            rules(empty.finish(&FORM, Vec::new()).unwrap_err()),
            [
                ("DocumentFront".to_owned(), "required".to_owned()),
                ("DocumentType".to_owned(), "required".to_owned()),
            ]
        );
    }

    #[test]
    fn digests_depend_on_type_and_every_byte() {
        let raw = |t, front: &[u8], back: Option<&[u8]>| RawUpload {
            doc_type: t,
            front: front.to_vec(),
            back: back.map(<[u8]>::to_vec),
        };
        let a = raw(DocumentType::License, b"ab", Some(b"c")).digest();
        assert_eq!(a, raw(DocumentType::License, b"ab", Some(b"c")).digest());
        assert_ne!(a, raw(DocumentType::Passport, b"ab", Some(b"c")).digest());
        assert_ne!(a, raw(DocumentType::License, b"a", Some(b"bc")).digest());
        assert_ne!(a, raw(DocumentType::License, b"ab", None).digest());
    }

    #[test]
    fn body_caps_leave_room_for_two_full_images() {
        let l = Limits::default();
        assert!(form_cap(&l) >= 2 * l.max_bytes);
        assert!(json_cap(&l) >= 2 * STANDARD.encode(vec![0; l.max_bytes]).len());
        assert!(json_cap(&l) < 30 * 1024 * 1024);
    }

    #[test]
    fn a_sharp_photo_is_stripped_and_passes() {
        let png = Scene::sharp(1200, 1800).png();
        let raw = RawUpload {
            doc_type: DocumentType::Passport,
            front: png.clone(),
            back: None,
        };
        let checked = check_upload(raw, &QualityConfig::default()).unwrap();
        assert_eq!(checked.front.image.content_type, "image/png");
        assert_eq!(checked.front.checks.len(), 6);
        assert_eq!(checked.quality(), kyc_docs::Verdict::Pass);
    }

    #[test]
    fn a_non_image_is_refused_by_intake() {
        let raw = RawUpload {
            doc_type: DocumentType::Passport,
            front: b"\xFF\xD8\xFF\xE0 but not really a jpeg".to_vec(),
            back: None,
        };
        let Err(err) = check_upload(raw, &QualityConfig::default()) else {
            panic!("a broken JPEG passed intake");
        };
        assert_eq!(err.code(), "invalid_image");
    }
}
