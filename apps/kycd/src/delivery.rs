//! The webhook worker (SPEC §8, docs/webhooks.md): takes events from the outbox, signs them in
//! the Standard Webhooks layout, POSTs them to the tenant's endpoint and records every attempt.
//!
//! Invariants:
//! - At least once: an event is claimed with a lease (`kyc_store::webhooks`), delivered outside
//!   any transaction, and only then marked; a process that dies mid-delivery leaves the event to
//!   be claimed again when the lease ends. Receivers deduplicate on `webhook-id`.
//! - In order per tenant: only the oldest pending event of a tenant can be claimed
//!   ([`webhooks::claim_next_per_tenant`]), so a tenant's events go out one at a time, and a
//!   failing event holds back the later ones until it is delivered or given up. Replicas on one
//!   PostgreSQL claim with `FOR UPDATE SKIP LOCKED` and never hold the same event at once.
//! - Nothing about a person leaves in a delivery beyond the thin payload (ids and what
//!   changed), and nothing of a receiver's answer is kept but its status code and timing.
//!
//! ```
//! use kycd::delivery::{sign, verify};
//!
//! let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
//! let body = br#"{"type":"identity.created","timestamp":"2026-01-01T00:00:00Z","data":{}}"#;
//! let signature = sign(secret, "msg_1", 1_767_225_600, body).unwrap();
//! assert!(signature.starts_with("v1,"));
//! assert!(verify(secret, "msg_1", 1_767_225_600, body, &signature));
//! assert!(!verify(secret, "msg_2", 1_767_225_600, body, &signature));
//! ```

use std::{sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac, digest::KeyInit};
use kyc_model::EventType;
use kyc_store::{
    Db, StoreError,
    webhooks::{self, NewDelivery, OutboxEvent, WebhookConfig, WebhookSecret},
};
use rand::{Rng, RngCore, rngs::OsRng};
use sha2::Sha256;
use tokio::{sync::watch, task::JoinSet};

use crate::{cli::WebhookArgs, dto::rfc3339};

/// The prefix of a Standard Webhooks signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The headers of a delivery.
pub mod headers {
    pub const ID: &str = "webhook-id";
    pub const TIMESTAMP: &str = "webhook-timestamp";
    pub const SIGNATURE: &str = "webhook-signature";
}

/// A fresh signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> WebhookSecret {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    WebhookSecret::new(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

fn keyed(secret: &str) -> Option<Hmac<Sha256>> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    <Hmac<Sha256> as KeyInit>::new_from_slice(&key).ok()
}

fn signed_content(mac: &mut Hmac<Sha256>, id: &str, timestamp: i64, body: &[u8]) {
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
}

/// The `webhook-signature` value for a message: `v1,` and the base64 of the HMAC-SHA256 of
/// `{id}.{timestamp}.{body}` under the secret's decoded bytes. `None` when the secret is not
/// base64 (kycd only makes secrets that are).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = keyed(secret)?;
    signed_content(&mut mac, id, timestamp, body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Whether any `v1` signature of a `webhook-signature` header (space-separated) matches, in
/// constant time: what a receiver does (it should also refuse timestamps far from its clock).
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(mut mac) = keyed(secret) else {
        return false;
    };
    signed_content(&mut mac, id, timestamp, body);
    header.split(' ').any(|candidate| {
        candidate
            .strip_prefix("v1,")
            .and_then(|sig| STANDARD.decode(sig).ok())
            .is_some_and(|sig| mac.clone().verify_slice(&sig).is_ok())
    })
}

/// The body of an event's delivery: `{"type", "timestamp", "data"}`, the Standard Webhooks
/// payload shape; `timestamp` is when the change happened, `data` the thin payload.
pub fn body(event: &OutboxEvent) -> Vec<u8> {
    let payload = serde_json::json!({
        "type": event.event_type.as_str(),
        "timestamp": rfc3339(event.created_at),
        "data": event.payload,
    });
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// The worker's settings, from `kycd serve`'s webhook flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// Whether this process runs the worker.
    pub enabled: bool,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
    /// Attempts per event before it is given up on (`dead`).
    pub max_attempts: u32,
    /// The first retry's delay; each later one doubles, up to [`WorkerSettings::retry_cap`].
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// How often to look for due events when there is nothing to do.
    pub poll: Duration,
    /// Deliveries in flight at once (to different tenants).
    pub concurrency: usize,
}

impl WorkerSettings {
    /// The longest retry delay: 6 hours.
    pub const RETRY_CAP: Duration = Duration::from_secs(6 * 3600);

    /// How long a claimed event stays hidden from other claimers: the attempt's timeout and a
    /// margin to record its outcome. An event of a worker that died is claimed again after it.
    pub fn lease(&self) -> Duration {
        self.timeout + Duration::from_secs(5)
    }

    /// The delay before the next attempt after `failures` failed ones (1 for the first):
    /// `base * 2^(failures-1)`, capped, of which the first half is fixed and the second half
    /// random ("equal jitter"), so retries of many events spread out but never come early.
    pub fn retry_delay(&self, failures: u32, rng: &mut impl Rng) -> Duration {
        let exponent = failures.saturating_sub(1).min(31);
        let full = self
            .retry_base
            .saturating_mul(1u32 << exponent)
            .min(self.retry_cap);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rng.gen_range(0..=jitter_ms))
    }
}

impl From<&WebhookArgs> for WorkerSettings {
    fn from(args: &WebhookArgs) -> Self {
        Self {
            enabled: args.worker,
            timeout: Duration::from_secs(args.timeout_secs.max(1)),
            max_attempts: args.max_attempts.max(1),
            retry_base: Duration::from_millis(args.retry_base_ms.max(1)),
            retry_cap: Self::RETRY_CAP,
            poll: Duration::from_millis(args.poll_ms.max(10)),
            concurrency: 8,
        }
    }
}

/// Why the worker could not start.
#[derive(Debug, thiserror::Error)]
#[error("the webhook HTTP client could not be built: {0}")]
pub struct WorkerError(String);

/// A running worker; [`WorkerHandle::stop`] ends it gracefully.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    grace: Duration,
}

impl WorkerHandle {
    /// Stops claiming, lets deliveries in flight finish (each is bounded by the timeout), and
    /// returns. Events not claimed yet stay in the outbox for the next start.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(self.grace, &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// The HTTP client of the worker: rustls, the attempt's timeout, no redirects (a receiver that
/// redirects has moved, and following could send a signed event somewhere unintended).
fn client(settings: &WorkerSettings) -> Result<reqwest::Client, WorkerError> {
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("kycd-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| WorkerError(e.to_string()))
}

/// A worker ready to start: its HTTP client is built (so a bad TLS setup fails at start-up,
/// not at the first delivery).
pub struct Worker {
    db: Db,
    client: reqwest::Client,
    settings: WorkerSettings,
}

impl Worker {
    /// Prepares the worker.
    pub fn new(db: Db, settings: WorkerSettings) -> Result<Self, WorkerError> {
        Ok(Self {
            client: client(&settings)?,
            db,
            settings,
        })
    }

    /// Starts it on the current Tokio runtime.
    pub fn spawn(self) -> WorkerHandle {
        let grace = self.settings.lease();
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(Arc::new(self), stopped));
        WorkerHandle { stop, task, grace }
    }
}

async fn store<T, F>(db: &Db, f: F) -> Result<T, StoreError>
where
    F: FnOnce(&Db) -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let db = db.clone();
    tokio::task::spawn_blocking(move || f(&db))
        .await
        .map_err(|_| StoreError::Internal {
            reason: "a webhook store task was cancelled",
        })?
}

async fn run(worker: Arc<Worker>, mut stopped: watch::Receiver<bool>) {
    tracing::info!(
        timeout_secs = worker.settings.timeout.as_secs(),
        max_attempts = worker.settings.max_attempts,
        "webhook worker started"
    );
    let mut in_flight: JoinSet<()> = JoinSet::new();
    loop {
        if *stopped.borrow() {
            break;
        }
        let free = worker.settings.concurrency.saturating_sub(in_flight.len());
        if free > 0 {
            let (lease, limit) = (
                worker.settings.lease(),
                u32::try_from(free).unwrap_or(u32::MAX),
            );
            let claimed = store(&worker.db, move |db| {
                db.write(|conn| {
                    webhooks::claim_next_per_tenant(conn, kyc_store::now(), limit, lease)
                })
            })
            .await;
            match claimed {
                Ok(events) => {
                    for event in events {
                        in_flight.spawn(deliver(Arc::clone(&worker), event));
                    }
                }
                Err(err) => tracing::warn!(error = %err, "claiming webhook events failed"),
            }
        }
        // A finished delivery frees a slot and may have unblocked its tenant's next event, so
        // it wakes the loop at once; otherwise the loop polls.
        tokio::select! {
            _ = stopped.changed() => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            () = tokio::time::sleep(worker.settings.poll) => {}
        }
    }
    while in_flight.join_next().await.is_some() {}
    tracing::info!("webhook worker stopped");
}

/// Why an event is not sent at all: the tenant does not want it.
fn skip_reason(config: Option<&WebhookConfig>, event_type: EventType) -> Option<&'static str> {
    match config {
        None => Some("skipped: no webhook configuration"),
        Some(c) if !c.enabled => Some("skipped: webhooks disabled"),
        Some(c) if !c.event_types.contains(&event_type) => {
            Some("skipped: event type not subscribed")
        }
        Some(_) => None,
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Delivered(u16),
    Failed {
        status: Option<u16>,
        /// A class, stable for the delivery log: `http_error`, `timeout`,
        /// `connection_failed`, `request_failed`.
        error: &'static str,
    },
}

fn classify(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connection_failed"
    } else {
        "request_failed"
    }
}

async fn deliver(worker: Arc<Worker>, event: OutboxEvent) {
    let tenant = event.tenant_id;
    let config = match store(&worker.db, move |db| {
        db.run(|conn| webhooks::get_config(conn, db.keys(), tenant))
    })
    .await
    {
        Ok(config) => config,
        Err(err) => {
            // The lease runs out and the event is claimed again.
            tracing::warn!(error = %err, event = %event.id, "reading a webhook configuration failed");
            return;
        }
    };
    if let Some(why) = skip_reason(config.as_ref(), event.event_type) {
        let id = event.id;
        if let Err(err) = store(&worker.db, move |db| {
            db.write(|conn| webhooks::mark_dead(conn, id, why))
        })
        .await
        {
            tracing::warn!(error = %err, event = %event.id, "skipping a webhook event failed");
        }
        return;
    }
    let Some(config) = config else { return };
    let outcome = attempt(&worker, &config, &event).await;
    record(&worker, &config, &event, outcome).await;
}

async fn attempt(
    worker: &Worker,
    config: &WebhookConfig,
    event: &OutboxEvent,
) -> (Outcome, Duration) {
    let started = std::time::Instant::now();
    let body = body(event);
    let id = event.id.to_string();
    let timestamp = kyc_store::now().unix_timestamp();
    let Some(signature) = sign(config.secret.as_str(), &id, timestamp, &body) else {
        let failed = Outcome::Failed {
            status: None,
            error: "request_failed",
        };
        return (failed, started.elapsed());
    };
    let sent = worker
        .client
        .post(&config.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(headers::ID, &id)
        .header(headers::TIMESTAMP, timestamp.to_string())
        .header(headers::SIGNATURE, signature)
        .body(body)
        .send()
        .await;
    let outcome = match sent {
        Ok(response) if response.status().is_success() => {
            Outcome::Delivered(response.status().as_u16())
        }
        Ok(response) => Outcome::Failed {
            status: Some(response.status().as_u16()),
            error: "http_error",
        },
        Err(err) => Outcome::Failed {
            status: err.status().map(|s| s.as_u16()),
            error: classify(&err),
        },
    };
    (outcome, started.elapsed())
}

async fn record(
    worker: &Worker,
    config: &WebhookConfig,
    event: &OutboxEvent,
    (outcome, took): (Outcome, Duration),
) {
    let (status, error) = match &outcome {
        Outcome::Delivered(code) => (Some(*code), None),
        Outcome::Failed { status, error } => (*status, Some(*error)),
    };
    let attempt = event.attempts;
    let delivery = NewDelivery {
        event_id: event.id,
        tenant_id: event.tenant_id,
        url: config.url.clone(),
        attempt,
        status_code: status,
        error: error.map(str::to_owned),
        duration_ms: i64::try_from(took.as_millis()).unwrap_or(i64::MAX),
    };
    let last_error = match (status, error) {
        (Some(code), Some(_)) => format!("HTTP {code}"),
        (None, Some(class)) => class.to_owned(),
        (_, None) => String::new(),
    };
    let failures = u32::try_from(attempt).unwrap_or(u32::MAX);
    let give_up = failures >= worker.settings.max_attempts;
    let next = kyc_store::now()
        + worker
            .settings
            .retry_delay(failures, &mut rand::thread_rng());
    let id = event.id;
    let delivered = matches!(outcome, Outcome::Delivered(_));
    let written = store(&worker.db, move |db| {
        db.write(|conn| {
            webhooks::record_delivery(conn, &delivery)?;
            if delivered {
                webhooks::mark_delivered(conn, id)
            } else if give_up {
                webhooks::mark_dead(
                    conn,
                    id,
                    &format!("gave up after {failures} attempts: {last_error}"),
                )
            } else {
                webhooks::reschedule(conn, id, next, &last_error)
            }
        })
    })
    .await;
    match written {
        Ok(()) => tracing::info!(
            event = %event.id,
            event_type = event.event_type.as_str(),
            attempt,
            status,
            error,
            took_ms = took.as_millis(),
            "webhook delivery attempt"
        ),
        // The lease runs out and the event is delivered again: at least once.
        Err(err) => {
            tracing::warn!(error = %err, event = %event.id, "recording a webhook delivery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    fn settings() -> WorkerSettings {
        WorkerSettings::from(&WebhookArgs::default())
    }

    /// The Standard Webhooks specification's own test vector.
    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let header = format!("v1,bm90IGl0 {signature}");
        assert!(verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            body,
            &header
        ));
        assert!(!verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_331,
            body,
            &signature
        ));
        assert!(!verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            b"{}",
            &signature
        ));
        assert!(!verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            body,
            "v2,abc"
        ));
    }

    #[test]
    fn secrets_are_whsec_and_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let raw = a.as_str().strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(STANDARD.decode(raw).unwrap().len(), 32);
        assert!(!format!("{a:?}").contains(raw));
    }

    #[test]
    fn retry_delays_grow_with_jitter_and_a_cap() {
        let s = settings();
        let mut rng = StdRng::seed_from_u64(7);
        for failures in 1..=20u32 {
            let full = (s.retry_base * 2u32.saturating_pow(failures - 1).min(1 << 20))
                .min(WorkerSettings::RETRY_CAP);
            let delay = s.retry_delay(failures, &mut rng);
            assert!(delay >= full / 2 && delay <= full, "{failures}: {delay:?}");
        }
        let spread: std::collections::HashSet<Duration> =
            (0..20).map(|_| s.retry_delay(4, &mut rng)).collect();
        assert!(spread.len() > 10, "jittered");
        assert!(s.retry_delay(u32::MAX, &mut rng) <= WorkerSettings::RETRY_CAP);
    }

    #[test]
    fn skipped_events_say_why() {
        let config = |enabled, types: Vec<EventType>| WebhookConfig {
            tenant_id: kyc_model::TenantId::random(),
            url: "https://example.com".into(),
            enabled,
            event_types: types,
            secret: new_secret(),
            created_at: kyc_store::now(),
            updated_at: kyc_store::now(),
        };
        let created = EventType::IdentityCreated;
        assert!(skip_reason(None, created).is_some());
        assert!(skip_reason(Some(&config(false, EventType::ALL.to_vec())), created).is_some());
        assert!(
            skip_reason(
                Some(&config(true, vec![EventType::ReviewRequired])),
                created
            )
            .is_some()
        );
        assert_eq!(
            skip_reason(Some(&config(true, vec![created])), created),
            None
        );
    }

    #[test]
    fn bodies_have_the_standard_shape() {
        let event = OutboxEvent {
            id: kyc_model::EventId::random(),
            tenant_id: kyc_model::TenantId::random(),
            event_type: EventType::KycLevelChanged,
            payload: serde_json::json!({ "identityId": "x", "from": "L0", "to": "L1" }),
            status: webhooks::OutboxStatus::Pending,
            attempts: 1,
            next_attempt_at: kyc_store::now(),
            created_at: time::macros::datetime!(2026-01-02 03:04:05 UTC),
            delivered_at: None,
            last_error: None,
        };
        let body: serde_json::Value = serde_json::from_slice(&body(&event)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "kyc.level_changed",
                "timestamp": "2026-01-02T03:04:05.000Z",
                "data": { "identityId": "x", "from": "L0", "to": "L1" },
            })
        );
    }
}
