//! The kycd end-to-end harness: [`TestApp`] starts the real server in-process on port 0
//! against a fresh database (SQLite in a temporary directory, or, when `TEST_DATABASE_URL` is
//! set, a PostgreSQL database created for the one test) and talks to it over HTTP with one
//! helper per endpoint. The suite itself is the `api` test binary (`tests/api/`).
//!
//! Invariant: tests share nothing mutable. Each [`TestApp`] owns its server, its database and
//! its data directory, all gone when it drops (the PostgreSQL database with
//! `DROP DATABASE ... WITH (FORCE)`, also when a test fails). The one process-wide thing is the
//! append-only log capture ([`captured_logs`]), which tests only read.
//!
//! ```
//! use kycd_tests::{TestApp, person_body, unique_email};
//! use kyc_model::Role;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = TestApp::spawn().await;
//! let tenant = app.create_tenant("acme");
//! let key = app.api_key(&tenant, Role::Integrator);
//!
//! let created = app.create_person(&key, &person_body(&unique_email())).await;
//! created.assert_status(201);
//! assert_eq!(created.json["kycLevel"], "L0");
//!
//! let missing = app.get_person(&key, &uuid::Uuid::new_v4().to_string()).await;
//! missing.assert_error(404, "identity_not_found");
//! # }
//! ```

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test harness: a broken fixture must fail the test that uses it, loudly"
)]

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock, PoisonError},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use kyc_model::Role;
pub use kyc_store::tenants::Tenant;
use kyc_store::{Db, api_keys, scratch::ScratchDatabase, tenants};
use kycd::{
    cli::{GlobalArgs, LogFormat, Mode, ServeArgs},
    startup::Application,
};
pub use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tracing_subscriber::{
    EnvFilter,
    fmt::{MakeWriter, format::FmtSpan},
    prelude::*,
};

/// The API's base path.
pub const BASE: &str = "/api/trust/v1";

/// The database a [`TestApp`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test may change about the server it starts. The defaults suit almost every test:
/// sandbox mode and rate limits no test reaches.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mode: Mode::Sandbox,
            rate_limit_per_second: 1_000_000,
            rate_limit_burst: 1_000_000,
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Log capture

/// Every log line of the process (all servers of this test binary), for PII assertions.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// Installs (once per process) a subscriber writing every event at DEBUG and above, plus span
/// openings and closings with their fields, into the shared buffer. The HTTP client's own
/// crates stay at INFO: they are our side of the wire, and chatty.
fn init_logging() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let filter = EnvFilter::new(
            "debug,hyper=info,hyper_util=info,reqwest=info,h2=info,want=info,mio=info,tokio=info,runtime=info",
        );
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(LogSink(Arc::clone(&buffer)))
            .with_ansi(false)
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE);
        // Another subscriber already installed would make captured_logs() empty; the PII test
        // checks that the capture sees its own requests, so that cannot pass silently.
        drop(tracing_subscriber::registry().with(filter).with(layer).try_init());
        buffer
    });
}

/// Everything logged so far by any server of this process.
pub fn captured_logs() -> String {
    let Some(buffer) = LOGS.get() else {
        return String::new();
    };
    let bytes = buffer.lock().unwrap_or_else(PoisonError::into_inner);
    String::from_utf8_lossy(&bytes).into_owned()
}

// ----------------------------------------------------------------------------------------------
// The application

/// A running server and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub port: u16,
    pub backend: Backend,
    /// The server's store, for fixtures (tenants, keys) the API does not create.
    pub db: Db,
    client: reqwest::Client,
    // Field order is drop order: the store handle before the database it points to.
    _pg: Option<ScratchDatabase>,
    data_dir: tempfile::TempDir,
}

impl TestApp {
    /// A server on SQLite in a fresh temporary directory.
    pub async fn spawn() -> Self {
        Self::spawn_with(Backend::Sqlite, Options::default())
            .await
            .expect("SQLite is always available")
    }

    /// A server on `backend`; `None` for PostgreSQL when `TEST_DATABASE_URL` is unset.
    pub async fn spawn_on(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, Options::default()).await
    }

    /// A server on `backend` with `options`; `None` for PostgreSQL when `TEST_DATABASE_URL`
    /// is unset (with a note on stderr, so a skipped run is visible with `--nocapture`).
    pub async fn spawn_with(backend: Backend, options: Options) -> Option<Self> {
        init_logging();
        let data_dir = tempfile::tempdir().unwrap();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
                    eprintln!("note: TEST_DATABASE_URL is unset; this PostgreSQL test is skipped");
                    return None;
                };
                Some(
                    ScratchDatabase::create(&admin_url, "kyc_e2e")
                        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL does not serve: {e}")),
                )
            }
        };
        let global = GlobalArgs {
            data_dir: data_dir.path().to_path_buf(),
            database_url: pg.as_ref().map(|pg| pg.url().to_owned()),
            mode: options.mode,
            encryption_key: Some(STANDARD.encode(uuid_bytes::<32>())),
            old_encryption_keys: None,
            log_format: LogFormat::Pretty,
        };
        let serve = ServeArgs {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            policy: None,
            rate_limit_per_second: options.rate_limit_per_second,
            rate_limit_burst: options.rate_limit_burst,
            workers: Some(2),
            public_url: None,
            ..ServeArgs::default()
        };
        let app = Application::build(&global, &serve).expect("the server builds");
        let port = app.port();
        let db = app.state().db.clone();
        // Dropped with the test's runtime, which stops the server's workers.
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        Some(Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            backend,
            db,
            client,
            _pg: pg,
            data_dir,
        })
    }

    /// The server's data directory (SQLite database, WAL, generated files).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Every byte of every file under the data directory, for raw scans. Empty on PostgreSQL
    /// apart from what the server writes there itself.
    pub fn data_dir_bytes(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    out.push((path, bytes));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.data_dir(), &mut out);
        out
    }

    /// The files under the data directory that contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        self.data_dir_bytes()
            .into_iter()
            .filter(|(_, bytes)| contains(bytes, needle.as_bytes()))
            .map(|(path, _)| path)
            .collect()
    }

    /// A new tenant (integrator).
    pub fn create_tenant(&self, name: &str) -> Tenant {
        self.db.write(|conn| tenants::create(conn, name)).unwrap()
    }

    /// A new API key of `tenant` with `role`.
    pub fn api_key(&self, tenant: &Tenant, role: Role) -> String {
        let (_, secret) = self
            .db
            .write(|conn| api_keys::create(conn, tenant.id, role))
            .unwrap();
        secret.into_string()
    }

    /// A new tenant and an integrator key for it.
    pub fn tenant_with_key(&self, name: &str) -> (Tenant, String) {
        let tenant = self.create_tenant(name);
        let key = self.api_key(&tenant, Role::Integrator);
        (tenant, key)
    }

    /// A request to `path` (absolute, e.g. `/health/live` or `format!("{BASE}/...")`).
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            builder: self
                .client
                .request(method, format!("{}{path}", self.address)),
        }
    }

    /// The generic request: `key` as a bearer token when given, `body` as JSON when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut call = self.call(method, path);
        if let Some(key) = key {
            call = call.key(key);
        }
        if let Some(body) = body {
            call = call.json(body);
        }
        call.send().await
    }

    // ------------------------------------------------------------------------------------------
    // One helper per endpoint.

    /// `POST /identity-containers`.
    pub async fn create_person(&self, key: &str, body: &Value) -> TestResponse {
        self.request(
            Method::POST,
            &format!("{BASE}/identity-containers"),
            Some(key),
            Some(body),
        )
        .await
    }

    /// `POST /identity-containers`, asserting `201`; returns the personal identity.
    pub async fn new_person(&self, key: &str, body: &Value) -> Value {
        let res = self.create_person(key, body).await;
        res.assert_status(201);
        res.json["personalIdentity"].clone()
    }

    /// `GET /identity-containers/{id}`.
    pub async fn get_container(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/identity-containers/{id}"),
            Some(key),
            None,
        )
        .await
    }

    /// `GET /personal-identities/{id}`.
    pub async fn get_person(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/personal-identities/{id}"),
            Some(key),
            None,
        )
        .await
    }

    /// `PATCH /personal-identities/{id}`.
    pub async fn patch_person(&self, key: &str, id: &str, body: &Value) -> TestResponse {
        self.request(
            Method::PATCH,
            &format!("{BASE}/personal-identities/{id}"),
            Some(key),
            Some(body),
        )
        .await
    }

    /// `DELETE /personal-identities/{id}`.
    pub async fn delete_person(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::DELETE,
            &format!("{BASE}/personal-identities/{id}"),
            Some(key),
            None,
        )
        .await
    }

    /// `GET /personal-identities?{query}` (`query` already encoded, may be empty).
    pub async fn list_people(&self, key: &str, query: &str) -> TestResponse {
        let path = if query.is_empty() {
            format!("{BASE}/personal-identities")
        } else {
            format!("{BASE}/personal-identities?{query}")
        };
        self.request(Method::GET, &path, Some(key), None).await
    }

    /// `GET /personal-identities/{id}/kyc`.
    pub async fn get_kyc(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/personal-identities/{id}/kyc"),
            Some(key),
            None,
        )
        .await
    }

    /// `GET /personal-identities/{id}/eligibility`.
    pub async fn get_eligibility(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/personal-identities/{id}/eligibility"),
            Some(key),
            None,
        )
        .await
    }

    /// `GET /personal-identities/{id}/events`.
    pub async fn get_events(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/personal-identities/{id}/events"),
            Some(key),
            None,
        )
        .await
    }

    /// `POST /personal-identities/{id}/kyc-checks`.
    pub async fn run_check(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::POST,
            &format!("{BASE}/personal-identities/{id}/kyc-checks"),
            Some(key),
            None,
        )
        .await
    }

    /// `POST /business-identities`.
    pub async fn create_business(&self, key: &str, body: &Value) -> TestResponse {
        self.request(
            Method::POST,
            &format!("{BASE}/business-identities"),
            Some(key),
            Some(body),
        )
        .await
    }

    /// `GET /business-identities/{id}`.
    pub async fn get_business(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/business-identities/{id}"),
            Some(key),
            None,
        )
        .await
    }

    /// `PATCH /business-identities/{id}`.
    pub async fn patch_business(&self, key: &str, id: &str, body: &Value) -> TestResponse {
        self.request(
            Method::PATCH,
            &format!("{BASE}/business-identities/{id}"),
            Some(key),
            Some(body),
        )
        .await
    }

    /// `GET /business-identities?{query}`.
    pub async fn list_businesses(&self, key: &str, query: &str) -> TestResponse {
        let path = if query.is_empty() {
            format!("{BASE}/business-identities")
        } else {
            format!("{BASE}/business-identities?{query}")
        };
        self.request(Method::GET, &path, Some(key), None).await
    }

    /// `POST /personal-identities/{id}/documents` with a JSON body (base64 data URLs).
    pub async fn upload_document_json(&self, key: &str, id: &str, body: &Value) -> TestResponse {
        self.request(
            Method::POST,
            &format!("{BASE}/personal-identities/{id}/documents"),
            Some(key),
            Some(body),
        )
        .await
    }

    /// `POST /personal-identities/{id}/documents` as `multipart/form-data` (seed 000's field
    /// names), from `(name, bytes)` parts.
    pub async fn upload_document_form(
        &self,
        key: &str,
        id: &str,
        parts: &[(&str, &[u8])],
    ) -> TestResponse {
        let (content_type, body) = multipart(parts);
        self.call(
            Method::POST,
            &format!("{BASE}/personal-identities/{id}/documents"),
        )
        .key(key)
        .body(body, &content_type)
        .send()
        .await
    }

    /// `GET /personal-identities/{id}/documents`.
    pub async fn list_documents(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/personal-identities/{id}/documents"),
            Some(key),
            None,
        )
        .await
    }

    /// `GET /documents/{id}`.
    pub async fn get_document(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/documents/{id}"),
            Some(key),
            None,
        )
        .await
    }

    /// `GET /documents/{id}/presign-url`.
    pub async fn presign_url(&self, key: &str, id: &str) -> TestResponse {
        self.request(
            Method::GET,
            &format!("{BASE}/documents/{id}/presign-url"),
            Some(key),
            None,
        )
        .await
    }

    /// `GET` of an absolute URL the server handed out (a presigned link), without a key.
    pub async fn get_url(&self, url: &str) -> TestResponse {
        let path = url
            .strip_prefix(&self.address)
            .unwrap_or_else(|| panic!("{url} is not on this server ({})", self.address));
        self.call(Method::GET, path).send().await
    }

    /// `POST /sandbox/personal-identities/{id}/simulate`.
    pub async fn simulate(&self, key: &str, id: &str, body: &Value) -> TestResponse {
        self.request(
            Method::POST,
            &format!("{BASE}/sandbox/personal-identities/{id}/simulate"),
            Some(key),
            Some(body),
        )
        .await
    }

    /// `PUT /kycs`.
    pub async fn start_session(&self, key: &str, body: &Value) -> TestResponse {
        self.request(Method::PUT, &format!("{BASE}/kycs"), Some(key), Some(body))
            .await
    }

    /// The number of personal identities the tenant of `key` has (`meta.total` of the list).
    pub async fn count_people(&self, key: &str) -> u64 {
        let res = self.list_people(key, "").await;
        res.assert_status(200);
        res.json["meta"]["total"]
            .as_u64()
            .unwrap_or_else(|| panic!("no meta.total in {}", res.text))
    }
}

/// A request being built.
pub struct Call {
    builder: reqwest::RequestBuilder,
}

impl Call {
    /// `Authorization: Bearer <key>`.
    #[must_use]
    pub fn key(mut self, key: &str) -> Self {
        self.builder = self.builder.bearer_auth(key);
        self
    }

    /// Any header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    /// A JSON body.
    #[must_use]
    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self.builder.json(body);
        self
    }

    /// A raw body, sent as `application/json` whatever it holds.
    #[must_use]
    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.builder = self
            .builder
            .header("content-type", "application/json")
            .body(body.into());
        self
    }

    /// A raw body with its content type.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        self.builder = self
            .builder
            .header("content-type", content_type)
            .body(body.into());
        self
    }

    /// Sends it and reads the whole answer.
    pub async fn send(self) -> TestResponse {
        let res = self.builder.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("the body reads");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            text,
            json,
        }
    }
}

/// `(field, rule)` pairs of a `validation_failed` error.
pub type Violations = Vec<(String, String)>;

/// [`Violations`] from literals.
pub fn violations(list: &[(&str, &str)]) -> Violations {
    list.iter()
        .map(|(field, rule)| ((*field).to_owned(), (*rule).to_owned()))
        .collect()
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    /// The body as text (lossy).
    pub text: String,
    /// The body as JSON, `null` when it is not JSON.
    pub json: Value,
}

impl TestResponse {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `x-request-id` header (panics when missing: every response must have one).
    pub fn request_id(&self) -> &str {
        self.header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on a {} response", self.status))
    }

    /// Panics unless the status is `expected`, showing the body.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status, expected,
            "expected {expected}, got {}: {}",
            self.status, self.text
        );
        self
    }

    /// Checks the spec's error shape (`{"error": {"code", "message", "requestId"}}`, the id
    /// equal to the `x-request-id` header) with `status` and `code`; returns the error object.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Value {
        self.assert_status(status);
        let error = &self.json["error"];
        assert!(error.is_object(), "no error object in: {}", self.text);
        assert_eq!(error["code"], code, "wrong code in: {}", self.text);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "no message in: {}",
            self.text
        );
        assert_eq!(
            error["requestId"].as_str(),
            Some(self.request_id()),
            "requestId differs from x-request-id in: {}",
            self.text
        );
        let allowed = ["code", "message", "details", "requestId"];
        for key in error.as_object().into_iter().flat_map(|o| o.keys()) {
            assert!(
                allowed.contains(&key.as_str()),
                "unexpected key {key} in: {}",
                self.text
            );
        }
        error
    }

    /// The `(field, rule)` pairs of a `400 validation_failed`, in the server's order.
    #[track_caller]
    pub fn violations(&self) -> Violations {
        let error = self.assert_error(400, "validation_failed");
        error["details"]
            .as_array()
            .unwrap_or_else(|| panic!("no details in: {}", self.text))
            .iter()
            .map(|v| {
                (
                    v["field"].as_str().unwrap_or_default().to_owned(),
                    v["rule"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

// ----------------------------------------------------------------------------------------------
// Test data

fn uuid_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(16) {
        let random = uuid::Uuid::new_v4();
        chunk.copy_from_slice(&random.as_bytes()[..chunk.len()]);
    }
    out
}

fn random_u64() -> u64 {
    u64::from_le_bytes(uuid_bytes::<8>())
}

/// An email address no other test uses.
pub fn unique_email() -> String {
    format!("user.{}@example.com", uuid::Uuid::new_v4().simple())
}

/// A random SSN that passes the KYC rules (area 001-665, group 01-99, serial 0001-9999, none of
/// the sandbox's magic values), as nine digits.
pub fn valid_ssn() -> String {
    loop {
        let r = random_u64();
        let area = 1 + r % 665;
        let group = 1 + (r >> 16) % 99;
        let serial = 1 + (r >> 32) % 9999;
        let ssn = format!("{area:03}{group:02}{serial:04}");
        if !["111111111", "222222222", "333333333", "123456789"].contains(&ssn.as_str()) {
            return ssn;
        }
    }
}

/// `123456789` as `123-45-6789`.
pub fn dashed_ssn(ssn: &str) -> String {
    format!("{}-{}-{}", &ssn[..3], &ssn[3..5], &ssn[5..])
}

/// A random, pronounceable surname such as `Kavorimelu`: distinctive enough to be searched for
/// in raw files, and free of the test patterns the name rule refuses (alternating consonants
/// and vowels give no keyboard runs, no repeated letters and no filler words).
pub fn unique_surname() -> String {
    const CONSONANTS: &[u8] = b"bdfgklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    let mut r = random_u64();
    let mut name = String::new();
    for i in 0..10 {
        let set = if i % 2 == 0 { CONSONANTS } else { VOWELS };
        let len = u64::try_from(set.len()).unwrap();
        let index = usize::try_from(r % len).unwrap();
        r /= len;
        let c = char::from(set[index]);
        name.push(if i == 0 { c.to_ascii_uppercase() } else { c });
    }
    name
}

/// The seed-000 address (Rushville, Indiana).
pub fn seed_address() -> Value {
    json!({
        "street1": "4220 Davisson Street",
        "postalCode": "46173",
        "city": "Rushville",
        "state": "IN",
        "country": "US"
    })
}

/// The seed-000 create body with the required fields only: John Second Doe.
pub fn person_body(email: &str) -> Value {
    json!({
        "firstName": "John",
        "middleName": "Second",
        "lastName": "Doe",
        "phone": "+12025550165",
        "email": email
    })
}

/// A complete US person that reaches L1: the seed's data with `ssn`.
pub fn full_person_body(email: &str, ssn: &str) -> Value {
    let mut body = person_body(email);
    body["address"] = seed_address();
    body["dateOfBirth"] = json!("1995-04-25");
    body["ssn"] = json!(ssn);
    body
}

// ----------------------------------------------------------------------------------------------
// Webhooks

/// One request a [`WebhookReceiver`] received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A minimal HTTP/1.1 endpoint on 127.0.0.1 that records every request and answers `status`
/// with an empty body: a webhook receiver. Runs on its own thread (std I/O, no runtime), which
/// stops when the receiver drops.
pub struct WebhookReceiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    addr: SocketAddr,
}

impl WebhookReceiver {
    /// Starts a receiver answering every request with `status`.
    pub fn start(status: u16) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (sink, flag) = (Arc::clone(&received), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let sink = Arc::clone(&sink);
                std::thread::spawn(move || serve_connection(stream, &sink, status));
            }
        });
        Self {
            url: format!("http://{addr}/hooks/kyc"),
            received,
            stop,
            addr,
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits (polling, at most `timeout`) until a received request satisfies `pred`.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&Received) -> bool) -> Received {
        let started = std::time::Instant::now();
        loop {
            if let Some(found) = self.received().into_iter().find(|r| pred(r)) {
                return found;
            }
            assert!(
                started.elapsed() < timeout,
                "nothing matching arrived within {timeout:?}; received: {:?}",
                self.received()
                    .iter()
                    .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // Wakes the accept loop so it sees the flag.
        drop(std::net::TcpStream::connect(self.addr));
    }
}

/// Reads requests off one keep-alive connection until it closes.
fn serve_connection(stream: std::net::TcpStream, sink: &Mutex<Vec<Received>>, status: u16) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Received {
                method,
                path,
                headers,
                body,
            });
        let reply = format!("HTTP/1.1 {status} Status\r\ncontent-length: 0\r\n\r\n");
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The Standard Webhooks signature of a message, computed here (not with the server's code):
/// `v1,` and the base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`, keyed with the base64
/// part of a `whsec_` secret.
pub fn webhook_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("the secret is base64");
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// A `multipart/form-data` body from `(name, bytes)` parts: its content type and bytes. The
/// files claim to be JPEG whatever they hold: the server must read the type from the bytes.
pub fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("kycd-test-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        // Like a browser: the type is a text field, the images are files.
        if *name == "DocumentType" {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
        } else {
            body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{name}.jpg\"\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(b"Content-Type: image/jpeg\r\n\r\n");
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `data:image/png;base64,...` of `bytes`.
pub fn data_url(bytes: &[u8]) -> String {
    format!("data:image/png;base64,{}", STANDARD.encode(bytes))
}

/// The smallest photo the quality checks pass (800 x 1200), as rendered pixels, computed once
/// per process: rendering takes about a second in a debug build.
fn document_pixels() -> &'static [u8] {
    static PIXELS: OnceLock<Vec<u8>> = OnceLock::new();
    PIXELS.get_or_init(|| kyc_docs::testing::Scene::sharp(800, 1200).render())
}

/// A sharp colour photo of an ID card that passes every quality check (PNG, 800 x 1200).
pub fn document_png() -> &'static [u8] {
    static PNG: OnceLock<Vec<u8>> = OnceLock::new();
    PNG.get_or_init(|| kyc_docs::testing::png_rgb(800, 1200, document_pixels()))
}

/// The same photo in shades of grey: a scan, which is rejected.
pub fn monochrome_png() -> &'static [u8] {
    static PNG: OnceLock<Vec<u8>> = OnceLock::new();
    PNG.get_or_init(|| {
        let grey: Vec<u8> = document_pixels()
            .chunks_exact(3)
            .map(|p| {
                let luma =
                    (u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000;
                u8::try_from(luma).unwrap_or(u8::MAX)
            })
            .collect();
        kyc_docs::testing::png_grey(800, 1200, &grey)
    })
}

/// A sharp photo below the minimum resolution (400 x 600): `resubmit` for `resolution`.
pub fn small_png() -> &'static [u8] {
    static PNG: OnceLock<Vec<u8>> = OnceLock::new();
    PNG.get_or_init(|| kyc_docs::testing::Scene::sharp(400, 600).png())
}

/// `png` with a `tEXt` chunk (`keyword`, `text`) after its header: metadata to be stripped.
pub fn png_with_text(png: &[u8], keyword: &str, text: &str) -> Vec<u8> {
    const AFTER_IHDR: usize = 8 + 4 + 4 + 13 + 4;
    let mut data = keyword.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(text.as_bytes());
    let mut chunk = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    let mut typed = b"tEXt".to_vec();
    typed.extend_from_slice(&data);
    chunk.extend_from_slice(&typed);
    chunk.extend_from_slice(&crc32(&typed).to_be_bytes());
    let mut out = png[..AFTER_IHDR].to_vec();
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

/// CRC-32 (ISO-HDLC), as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A quick check that the helpers above keep their promises; the suite relies on them.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_have_their_shape() {
        for _ in 0..200 {
            let ssn = valid_ssn();
            assert_eq!(ssn.len(), 9);
            assert!(ssn.bytes().all(|b| b.is_ascii_digit()));
            assert!(!ssn.starts_with("000") && !ssn.starts_with("666") && ssn[..3] < *"900");
            assert_ne!(&ssn[3..5], "00");
            assert_ne!(&ssn[5..], "0000");
            let name = unique_surname();
            assert_eq!(name.len(), 10);
            assert!(name.chars().next().unwrap().is_ascii_uppercase());
        }
        assert_eq!(dashed_ssn("305464885"), "305-46-4885");
        assert_ne!(unique_email(), unique_email());
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
