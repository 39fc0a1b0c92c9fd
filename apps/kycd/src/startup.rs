//! Building and running the server: configuration to a bound [`Application`], which `main`
//! runs and tests start on port 0.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    sync::Arc,
};

use actix_web::{App, HttpServer, dev::Server, middleware::ErrorHandlers, web};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac, digest::KeyInit};
use kyc_model::Role;
use kyc_store::{Db, DbOptions, Keyring, api_keys, tenants};
use kyc_tiers::{BuiltinVerifier, Policy, SandboxVerifier, Verifier};
use sha2::Sha256;

use crate::{
    cli::{GlobalArgs, Mode, ServeArgs},
    metrics::Metrics,
    observe::Observe,
    presign::Presigner,
    ratelimit::KeyRateLimiter,
    routes,
    state::{AppState, PersonReads, ReadPool},
};

/// Why the server could not start. Texts never include key material or database passwords.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("store: {0}")]
    Store(#[from] kyc_store::StoreError),
    #[error("tier policy: {0}")]
    Policy(#[from] kyc_tiers::TierError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A file or directory of the configuration (data directory, key file, policy) failed.
    #[error("{}: {source}", path.display())]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Maps an I/O error on `path` to [`StartError::File`], which names the path.
fn at(path: &Path) -> impl FnOnce(std::io::Error) -> StartError + '_ {
    move |source| StartError::File {
        path: path.to_owned(),
        source,
    }
}

/// The default database URL for a data directory.
pub fn database_url(global: &GlobalArgs) -> String {
    global
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", global.data_dir.join("kycd.db").display()))
}

/// A master key from configuration: `[id:]key`, the key 32 bytes as base64 (standard or URL-safe,
/// padded or not) or as 64 hexadecimal digits (`openssl rand -hex 32`); the id defaults to `k1`.
fn decode_key(text: &str) -> Result<(String, [u8; 32]), StartError> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let (id, encoded) = match text.split_once(':') {
        Some((id, encoded)) => (id.trim().to_owned(), encoded.trim()),
        None => ("k1".to_owned(), text.trim()),
    };
    let bytes = if encoded.len() == 64 && encoded.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(encoded).ok()
    } else {
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(encoded).ok())
    };
    let bytes = bytes.ok_or_else(|| {
        StartError::Config("an encryption key is neither base64 nor 64 hex digits".into())
    })?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| {
        StartError::Config("an encryption key must be 32 bytes (base64 or 64 hex digits)".into())
    })?;
    Ok((id, key))
}

fn dev_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-encryption.key")
}

/// The master key: `KYCD_ENCRYPTION_KEY`, or in sandbox mode a development key generated into
/// the data directory on the first run. Production refuses to start without an explicit key.
fn master_key(global: &GlobalArgs) -> Result<(String, [u8; 32]), StartError> {
    if let Some(text) = &global.encryption_key {
        return decode_key(text);
    }
    if global.mode == Mode::Production {
        return Err(StartError::Config(
            "production mode needs an explicit KYCD_ENCRYPTION_KEY (32 bytes, base64 or hex)"
                .into(),
        ));
    }
    let path = dev_key_path(&global.data_dir);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode_key(&text);
    }
    create_data_dir(&global.data_dir).map_err(at(&global.data_dir))?;
    let key = Keyring::generate_master_key();
    write_private(&path, format!("dev:{}\n", STANDARD.encode(key)).as_bytes())
        .map_err(at(&path))?;
    tracing::warn!(path = %path.display(), "generated a development encryption key; set KYCD_ENCRYPTION_KEY in production");
    Ok(("dev".to_owned(), key))
}

/// Creates the data directory if it is missing, readable by its owner alone: the database in
/// it holds names, emails and phone numbers in clear. An existing directory is left as it is.
#[cfg(unix)]
fn create_data_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

#[cfg(not(unix))]
fn create_data_dir(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// A key derived from the master secret for one purpose.
fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(master);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// Opens the store (running migrations first) with the configured keys and pool `options`.
pub fn open_store(global: &GlobalArgs, options: DbOptions) -> Result<(Db, [u8; 32]), StartError> {
    let (id, master) = master_key(global)?;
    let mut keys = Keyring::from_master_key(&id, &master)?;
    for old in global.old_encryption_keys.iter().flat_map(|s| s.split(',')) {
        if old.trim().is_empty() {
            continue;
        }
        let (old_id, old_key) = decode_key(old)?;
        keys = keys.with_previous_master(&old_id, &old_key)?;
    }
    let url = database_url(global);
    if url.starts_with("sqlite://") {
        create_data_dir(&global.data_dir).map_err(at(&global.data_dir))?;
    }
    Ok((Db::open_with(&url, keys, options)?, master))
}

/// Creates the `default` tenant and an integrator key on a local first start (sandbox mode, no
/// tenant yet), and returns the key, to be printed once.
fn bootstrap(db: &Db, mode: Mode) -> Result<Option<String>, StartError> {
    if mode != Mode::Sandbox {
        return Ok(None);
    }
    let key = db.write(|conn| {
        if !tenants::list(conn)?.is_empty() {
            return Ok::<_, kyc_store::StoreError>(None);
        }
        let tenant = tenants::create(conn, "default")?;
        let (_, secret) = api_keys::create(conn, tenant.id, Role::Integrator)?;
        Ok(Some(secret.into_string()))
    });
    match key {
        // Replicas started together on a new PostgreSQL database: another one created the
        // tenant between this one's look and its insert, and printed the key.
        Err(kyc_store::StoreError::Duplicate { entity: "tenant" }) => Ok(None),
        other => Ok(other?),
    }
}

/// A configured, bound server.
pub struct Application {
    server: Server,
    port: u16,
    bootstrap_key: Option<String>,
    state: web::Data<AppState>,
    /// The webhook worker, started beside the server (`None` when disabled).
    webhook_worker: Option<crate::delivery::Worker>,
}

impl Application {
    /// Opens the store, loads the policy, binds the listener and wires the routes.
    pub fn build(global: &GlobalArgs, serve: &ServeArgs) -> Result<Self, StartError> {
        let (db, master) = open_store(global, DbOptions::default())?;
        db.check_keys().map_err(|e| match e {
            kyc_store::StoreError::Crypto { .. } => StartError::Config(
                "the encryption key does not open the data already in this database: set \
                 KYCD_ENCRYPTION_KEY (and, after a rotation, KYCD_OLD_ENCRYPTION_KEYS) to the \
                 keys it was written with"
                    .into(),
            ),
            other => other.into(),
        })?;
        let policy = match &serve.policy {
            Some(path) => Policy::from_toml(&std::fs::read_to_string(path).map_err(at(path))?)?,
            None => Policy::default_policy(),
        };
        let verifier: Arc<dyn Verifier> = match global.mode {
            Mode::Sandbox => Arc::new(SandboxVerifier),
            Mode::Production => Arc::new(BuiltinVerifier),
        };
        let bootstrap_key = bootstrap(&db, global.mode)?;
        let listener = TcpListener::bind(serve.bind)?;
        let port = listener.local_addr()?.port();
        let public_url = serve.public_url.clone().unwrap_or_else(|| {
            let host = serve.bind.ip();
            let host = if host.is_unspecified() {
                "127.0.0.1".to_owned()
            } else {
                host.to_string()
            };
            format!("http://{host}:{port}")
        });
        let workers = serve.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
        });
        // SQLite reads are CPU work on a local file: a thread per core keeps them flowing
        // without waking sleeping threads. PostgreSQL reads wait on the network: a thread per
        // pooled connection. Reads of one identity coalesce (`state::find_person`): on
        // PostgreSQL one batch at a time, which gathers the most reads per round trip (at 64
        // connections 0.45-0.68x hello-world with one, 0.43-0.54x with two; see
        // docs/performance.md); on SQLite, with no round trip to share, one per read thread.
        let (read_threads, person_read_jobs) = match db.backend() {
            kyc_store::Backend::Sqlite => (workers, workers),
            kyc_store::Backend::Postgres => (db.max_connections() as usize, 1),
        };
        let write_slots = db.max_connections().max(1) as usize;
        let state = web::Data::new(AppState {
            db,
            policy: Arc::new(policy),
            verifier,
            mode: global.mode,
            presigner: Presigner::new(
                derive(&master, b"kycd presign key v1"),
                Presigner::DEFAULT_TTL,
            ),
            limiter: KeyRateLimiter::new(serve.rate_limit_per_second, serve.rate_limit_burst),
            keys: crate::auth::KeyCache::default(),
            quality: kyc_docs::QualityConfig::default(),
            image_slots: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
            write_slots: Arc::new(tokio::sync::Semaphore::new(write_slots)),
            public_url: public_url.trim_end_matches('/').to_owned(),
            reads: ReadPool::new(read_threads)?,
            person_reads: PersonReads::new(person_read_jobs),
        });
        let metrics = web::Data::new(Metrics::default());
        let review_settings = web::Data::new(
            crate::routes::reviews::ReviewSettings::new(&serve.reviews.reason_codes)
                .map_err(StartError::Config)?,
        );
        let worker_settings = crate::delivery::WorkerSettings::from(&serve.webhooks);
        let webhook_worker = if worker_settings.enabled {
            Some(
                crate::delivery::Worker::new(state.db.clone(), worker_settings)
                    .map_err(|e| StartError::Config(e.to_string()))?,
            )
        } else {
            None
        };
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(metrics.clone())
                .app_data(review_settings.clone())
                .app_data(web::PayloadConfig::new(256 * 1024))
                .wrap(ErrorHandlers::new().default_handler(crate::error::foreign_errors))
                .wrap(Observe)
                .configure(routes::configure)
                .default_service(web::to(routes::ops::not_found))
        })
        .workers(workers)
        .listen(listener)?
        .run();
        Ok(Self {
            server,
            port,
            bootstrap_key,
            state,
            webhook_worker,
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The key created on a local first start, if this start created one.
    pub fn bootstrap_key(&self) -> Option<&str> {
        self.bootstrap_key.as_deref()
    }

    /// The shared state (tests use its store to create tenants and keys).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until the server is stopped (Ctrl-C or SIGTERM), running the periodic
    /// maintenance and the webhook worker beside it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let maintenance = tokio::spawn(maintain(self.state.clone()));
        let worker = self.webhook_worker.map(crate::delivery::Worker::spawn);
        let result = self.server.await;
        maintenance.abort();
        // In-flight deliveries finish (bounded by their timeout); the rest wait in the outbox.
        if let Some(worker) = worker {
            worker.stop().await;
        }
        result
    }
}

/// Periodic upkeep: expired idempotency records, idle rate-limiter state.
async fn maintain(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        state.limiter.shrink();
        let st = state.clone();
        let purged = web::block(move || {
            let now = st.now();
            st.db
                .write(|conn| kyc_store::idempotency::purge_expired(conn, now))
        })
        .await;
        if let Ok(Err(err)) = purged {
            tracing::warn!(error = %err, "purging expired idempotency records failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replicas started together on a new PostgreSQL database all come up, and exactly one
    /// creates the tenant and prints a key (the others used to exit with "tenant already
    /// exists"). SQLite is one process per data directory; without `TEST_DATABASE_URL` there is
    /// nothing to race on.
    #[test]
    fn replicas_bootstrap_one_tenant_together() {
        let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
            return;
        };
        for _ in 0..3 {
            let scratch = kyc_store::scratch::ScratchDatabase::create(&admin, "kyc_boot").unwrap();
            let keys = || kyc_store::Keyring::from_master_key("k1", &[7u8; 32]).unwrap();
            let dbs: Vec<Db> = (0..4)
                .map(|_| Db::open(scratch.url(), keys()).unwrap())
                .collect();
            let barrier = std::sync::Barrier::new(dbs.len());
            let printed: Vec<Option<String>> = std::thread::scope(|s| {
                let runs: Vec<_> = dbs
                    .iter()
                    .map(|db| {
                        s.spawn(|| {
                            barrier.wait();
                            bootstrap(db, Mode::Sandbox).unwrap()
                        })
                    })
                    .collect();
                runs.into_iter().map(|r| r.join().unwrap()).collect()
            });
            assert_eq!(printed.iter().flatten().count(), 1, "{printed:?}");
            assert_eq!(dbs[0].run(kyc_store::tenants::list).unwrap().len(), 1);
        }
    }

    /// A server started on a database with another encryption key than the one its data was
    /// written with refuses to start, saying so, instead of answering every read with 500.
    #[actix_web::test]
    async fn the_wrong_encryption_key_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let global = |key: &str| GlobalArgs {
            data_dir: dir.path().join("data"),
            database_url: None,
            mode: Mode::Sandbox,
            encryption_key: Some(key.to_owned()),
            old_encryption_keys: None,
            log_format: crate::cli::LogFormat::Pretty,
        };
        let serve = ServeArgs {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..ServeArgs::default()
        };
        let written_with = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let app = Application::build(&global(written_with), &serve).unwrap();
        let db = app.state().db.clone();
        let data = kyc_rules::parse_personal_create(&serde_json::json!({
            "firstName": "John", "lastName": "Doe", "email": "john@example.com",
            "phone": "+12025550165", "dateOfBirth": "1995-04-25",
        }))
        .unwrap();
        db.write(|c| {
            let tenant = tenants::list(c)?[0].id;
            let container = kyc_store::containers::create(c, tenant)?;
            kyc_store::personal::insert(
                c,
                db.keys(),
                &kyc_store::personal::NewPersonalIdentity {
                    id: kyc_model::PersonalIdentityId::random(),
                    tenant_id: tenant,
                    container_id: container.id,
                    data,
                    kyc: kyc_model::KycState::default(),
                },
            )
        })
        .unwrap();
        drop((app, db));
        let other = "k1:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
        match Application::build(&global(other), &serve) {
            Err(StartError::Config(message)) => {
                assert!(message.contains("encryption key"), "{message}")
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("started with the wrong key"),
        }
        // The right key still starts.
        Application::build(&global(written_with), &serve).unwrap();
    }

    /// A data directory or policy file that cannot be used is named in the error.
    #[actix_web::test]
    async fn file_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_dir = dir.path().join("plain-file");
        std::fs::write(&not_a_dir, b"x").unwrap();
        let global = GlobalArgs {
            data_dir: not_a_dir.join("data"),
            database_url: None,
            mode: Mode::Sandbox,
            encryption_key: None,
            old_encryption_keys: None,
            log_format: crate::cli::LogFormat::Pretty,
        };
        let serve = ServeArgs {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..ServeArgs::default()
        };
        let message = |result: Result<Application, StartError>| match result {
            Ok(_) => panic!("started"),
            Err(e) => e.to_string(),
        };
        let text = message(Application::build(&global, &serve));
        assert!(text.contains(&not_a_dir.display().to_string()), "{text}");
        let global = GlobalArgs {
            data_dir: dir.path().join("data"),
            ..global
        };
        let missing = dir.path().join("no-policy.toml");
        let serve = ServeArgs {
            policy: Some(missing.clone()),
            ..serve
        };
        let text = message(Application::build(&global, &serve));
        assert!(text.contains(&missing.display().to_string()), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn a_new_data_dir_is_its_owners_alone() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/data");
        create_data_dir(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        // An existing directory keeps its mode.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        create_data_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o750);
    }

    #[test]
    fn master_keys_are_read_from_base64_or_hex() {
        let key: [u8; 32] = std::array::from_fn(|i| (i * 7 + 250) as u8);
        let forms = [
            STANDARD.encode(key),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key),
            hex::encode(key),
            hex::encode_upper(key),
        ];
        for form in forms {
            let (id, decoded) = decode_key(&form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!((id.as_str(), decoded), ("k1", key), "{form}");
            let (id, decoded) = decode_key(&format!(" k2 : {form}\n")).unwrap();
            assert_eq!((id.as_str(), decoded), ("k2", key), "{form}");
        }
    }

    #[test]
    fn master_keys_of_other_lengths_or_alphabets_are_refused() {
        for text in [
            String::new(),
            "not a key".to_owned(),
            STANDARD.encode([1u8; 31]),
            STANDARD.encode([1u8; 33]),
            hex::encode([1u8; 31]),
            "g".repeat(64),
        ] {
            let err = decode_key(&text).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains("encryption key")),
                "{text:?}: {err:?}"
            );
        }
    }
}
