//! Load benchmark of the kycd API on loopback, next to baselines measured in the same run.
//!
//! ```sh
//! cargo run --release -p kycd --example load -- [--secs 5] [--rounds 3] [--connections 64]
//!     [--postgres postgres://postgres@127.0.0.1:5432/test]
//! ```
//!
//! Starts, in this process: kycd on SQLite in a temporary directory (port 0, sandbox mode, no
//! rate limit in the way) and an actix-web hello-world server with the same worker count. It
//! measures the raw single-transaction insert rate of SQLite on the same disk with kycd's
//! settings (1 KiB pages, WAL, `synchronous=FULL`, one row per transaction), then drives each
//! target with `--connections` keep-alive connections for `--secs` seconds:
//! `POST /identity-containers` (create), `GET /personal-identities/{id}` (get),
//! `GET /personal-identities?page[size]=30` (list) and the hello-world route. It prints one
//! JSON line per measurement (requests per second, p50 and p99 latency, and on Linux the CPU
//! time per request of each thread of this process by thread name, from
//! `/proc/self/task/*/schedstat`: less noisy than rates on a shared machine; and the KiB each
//! thread wrote per request, from `/proc/self/task/*/io`, which for the store's writer thread is
//! the WAL a create costs) and the ratios the
//! targets are stated in. Each measurement and its baseline alternate for `--rounds` rounds
//! (raw insert, create, raw insert, create, ...; hello-world, get, ...) and the medians are
//! reported, with the median of the per-round ratios (each from two adjacent runs), so that a
//! noisy neighbour slows both sides of a ratio. Traffic goes to 127.0.0.1 only, and every phase
//! stops by itself. The client shares the machine's cores with the servers, so compare ratios
//! from one run, not absolute numbers across machines.
//!
//! With `--postgres URL` (a URL naming an existing database, used to create and drop another:
//! `kyc_store::scratch::ScratchDatabase`), kycd runs on a fresh PostgreSQL database, and the raw
//! baseline is one row per transaction on that database, from one connection. Both connect with
//! the URL's parameters, and without TLS unless the URL names an `sslmode`, which keeps OpenSSL
//! out of the figures on loopback.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark: any failure should stop it loudly"
)]

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use diesel::{
    Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection,
    connection::SimpleConnection,
};
use kyc_store::scratch::ScratchDatabase;
use kycd::{
    cli::{GlobalArgs, LogFormat, Mode, ServeArgs},
    startup::Application,
};
use serde_json::json;

/// The shipped binary's allocator (`main.rs`), so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    secs: u64,
    rounds: usize,
    connections: usize,
    postgres: Option<String>,
}

fn options() -> Options {
    let mut opts = Options {
        secs: 5,
        rounds: 3,
        connections: 64,
        postgres: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned();
        match (pair[0].as_str(), value.as_deref().map(str::parse::<u64>)) {
            ("--secs", Some(Ok(v))) => opts.secs = v.max(1),
            ("--rounds", Some(Ok(v))) => opts.rounds = usize::try_from(v).unwrap().max(1),
            ("--connections", Some(Ok(v))) => {
                opts.connections = usize::try_from(v).unwrap().max(1);
            }
            ("--postgres", Some(_)) => opts.postgres = value,
            _ => panic!("usage: load [--secs N] [--rounds N] [--connections N] [--postgres URL]"),
        }
    }
    opts
}

#[derive(Debug)]
struct Measured {
    name: &'static str,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Microseconds of CPU per request, by thread name (empty where `/proc` is missing).
    cpu_us: BTreeMap<String, f64>,
    /// KiB written per request (files and sockets), by thread name.
    written_kib: BTreeMap<String, f64>,
}

/// What each thread name of this process has used so far: nanoseconds on the CPU, from
/// `/proc/self/task/*/schedstat`, and bytes written (`wchar` of `/proc/self/task/*/io`)
/// (Linux; empty elsewhere).
#[derive(Clone, Copy, Default)]
struct Used {
    cpu_ns: u64,
    written: u64,
}

fn thread_use() -> BTreeMap<String, Used> {
    let mut by_name: BTreeMap<String, Used> = BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let read = |file: &str| std::fs::read_to_string(task.path().join(file)).ok();
        let (Some(name), Some(stat)) = (read("comm"), read("schedstat")) else {
            continue;
        };
        let first_number = |text: &str| -> u64 {
            text.split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let written = read("io")
            .and_then(|io| {
                io.lines()
                    .find_map(|line| line.strip_prefix("wchar:").map(first_number))
            })
            .unwrap_or(0);
        let used = by_name.entry(name.trim().to_owned()).or_default();
        used.cpu_ns += first_number(&stat);
        used.written += written;
    }
    by_name
}

/// Use per request between two [`thread_use`] snapshots, by thread name: microseconds of CPU
/// (and their `total`), and KiB written where a thread wrote at least 0.1 KiB per request.
fn use_per_request(
    before: &BTreeMap<String, Used>,
    after: &BTreeMap<String, Used>,
    requests: usize,
) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
    let per = |v: u64, unit: f64| (v as f64 / unit / requests.max(1) as f64 * 10.0).round() / 10.0;
    let spent = |name: &String, after: Used| {
        let before = before.get(name).copied().unwrap_or_default();
        Used {
            cpu_ns: after.cpu_ns.saturating_sub(before.cpu_ns),
            written: after.written.saturating_sub(before.written),
        }
    };
    let spent: BTreeMap<&String, Used> = after
        .iter()
        .map(|(name, used)| (name, spent(name, *used)))
        .collect();
    let mut cpu_us: BTreeMap<String, f64> = spent
        .iter()
        .map(|(name, used)| ((*name).clone(), per(used.cpu_ns, 1e3)))
        .filter(|(_, us)| *us >= 1.0)
        .collect();
    if !after.is_empty() {
        let total = spent.values().map(|used| used.cpu_ns).sum();
        cpu_us.insert("total".to_owned(), per(total, 1e3));
    }
    let written_kib = spent
        .iter()
        .map(|(name, used)| ((*name).clone(), per(used.written, 1024.0)))
        .filter(|(_, kib)| *kib >= 0.1)
        .collect();
    (cpu_us, written_kib)
}

impl Measured {
    fn print(&self) {
        println!(
            "{}",
            json!({
                "measurement": self.name,
                "requests_per_s": (self.per_sec * 10.0).round() / 10.0,
                "p50_ms": (self.p50_ms * 1000.0).round() / 1000.0,
                "p99_ms": (self.p99_ms * 1000.0).round() / 1000.0,
                "cpu_us_per_request": self.cpu_us,
                "written_kib_per_request": self.written_kib,
            })
        );
    }
}

/// The run with the median rate of several rounds of one measurement.
fn median(mut runs: Vec<Measured>) -> Measured {
    runs.sort_by(|a, b| a.per_sec.total_cmp(&b.per_sec));
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

/// Alternates `a` and `b` for `rounds` rounds, printing each run. Returns both medians and the
/// median over the rounds of `b`'s rate over `a`'s (each ratio from two adjacent runs).
fn alternate(
    rounds: usize,
    mut a: impl FnMut() -> Measured,
    mut b: impl FnMut() -> Measured,
) -> (Measured, Measured, f64) {
    let (mut runs_a, mut runs_b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (run_a, run_b) = (a(), b());
        run_a.print();
        run_b.print();
        ratios.push(run_b.per_sec / run_a.per_sec);
        runs_a.push(run_a);
        runs_b.push(run_b);
    }
    ratios.sort_by(f64::total_cmp);
    (median(runs_a), median(runs_b), ratios[ratios.len() / 2])
}

fn summarize(
    name: &'static str,
    mut latencies: Vec<Duration>,
    elapsed: Duration,
    used_before: &BTreeMap<String, Used>,
) -> Measured {
    let (cpu_us, written_kib) = use_per_request(used_before, &thread_use(), latencies.len());
    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Measured {
        name,
        per_sec: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        cpu_us,
        written_kib,
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The raw baselines' table and row: an id, a 600-byte payload and a number.
const RAW_TABLE: &str = "CREATE TABLE IF NOT EXISTS t \
    (id TEXT PRIMARY KEY NOT NULL, payload TEXT NOT NULL, at BIGINT NOT NULL)";

fn raw_row(n: i64) -> diesel::query_builder::SqlQuery {
    diesel::sql_query(format!(
        "INSERT INTO t VALUES ('{n}', '{}', {n})",
        "x".repeat(600)
    ))
}

/// Times `insert(n)` (one row, one transaction) for `secs` seconds, numbering rows from `first`.
fn time_inserts(
    name: &'static str,
    secs: u64,
    first: i64,
    mut insert: impl FnMut(i64),
) -> Measured {
    let mut latencies = Vec::new();
    let used_before = thread_use();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let mut n = first;
    while Instant::now() < deadline {
        let t0 = Instant::now();
        insert(n);
        latencies.push(t0.elapsed());
        n += 1;
    }
    summarize(name, latencies, started.elapsed(), &used_before)
}

/// One row per transaction into a SQLite file with kycd's durability settings; the table grows
/// from round to round, as kycd's database does.
fn raw_sqlite_inserts(dir: &std::path::Path, secs: u64) -> Measured {
    let path = dir.join("raw.db");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute(&format!(
        "PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; {RAW_TABLE}"
    ))
    .unwrap();
    let first = diesel::sql_query("SELECT COUNT(*) AS n FROM t")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n;
    time_inserts("sqlite_raw_insert_1_per_txn", secs, first, |n| {
        conn.immediate_transaction(|c| raw_row(n).execute(c))
            .unwrap();
    })
}

/// One row per transaction into a PostgreSQL table, from one connection; the table grows from
/// round to round, as kycd's database does.
fn raw_postgres_inserts(url: &str, secs: u64) -> Measured {
    let mut conn = PgConnection::establish(url).unwrap();
    conn.batch_execute(RAW_TABLE).unwrap();
    let first = diesel::sql_query("SELECT COUNT(*) AS n FROM t")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n;
    time_inserts("postgres_raw_insert_1_per_txn", secs, first, |n| {
        conn.transaction(|c| raw_row(n).execute(c)).unwrap();
    })
}

/// Drives `make(i)` requests from `connections` concurrent keep-alive connections.
fn drive<F>(name: &'static str, opts: &Options, make: F) -> Measured
where
    F: Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let make = Arc::new(make);
    let connections = opts.connections;
    let secs = opts.secs;
    runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .build()
            .unwrap();
        let used_before = thread_use();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(secs);
        let mut tasks = Vec::new();
        for c in 0..connections {
            let (client, make) = (client.clone(), Arc::clone(&make));
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = c as u64 * 1_000_000;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let response = make(&client, i).send().await.unwrap();
                    let status = response.status();
                    let _ = response.bytes().await.unwrap();
                    assert!(status.is_success(), "{name}: {status}");
                    latencies.push(t0.elapsed());
                    i += 1;
                }
                latencies
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        summarize(name, all, started.elapsed(), &used_before)
    })
}

/// A well-formed SSN of its own for request `i` (area 001-665, group 01-99, serial 0001-9999),
/// so that creates measure the normal path rather than a growing duplicate-SSN review queue.
fn ssn(i: u64) -> String {
    let (serial, rest) = (1 + i % 9999, i / 9999);
    let (group, area) = (1 + rest % 99, 1 + (rest / 99) % 665);
    format!("{area:03}{group:02}{serial:04}")
}

fn person(i: u64) -> serde_json::Value {
    json!({
        "firstName": "Jonathan", "lastName": "Doe", "phone": "+12025550165",
        "email": format!("load{i}@example.com"),
        "address": {"street1": "4220 Davisson Street", "city": "Rushville", "state": "IN", "postalCode": "46173", "country": "US"},
        "dateOfBirth": "1987-03-25", "ssn": ssn(i),
    })
}

#[actix_web::main]
async fn main() {
    let opts = options();
    let dir = tempfile::tempdir().unwrap();
    // A database of its own for the run, dropped at the end.
    let pg = opts
        .postgres
        .as_deref()
        .map(|url| ScratchDatabase::create(url, "kycd_load").unwrap());
    let workers = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);

    let global = GlobalArgs {
        data_dir: dir.path().join("data"),
        database_url: pg.as_ref().map(|db| db.url().to_owned()),
        mode: Mode::Sandbox,
        encryption_key: Some("bench:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()),
        old_encryption_keys: None,
        log_format: LogFormat::Pretty,
    };
    let serve = ServeArgs {
        bind: "127.0.0.1:0".parse().unwrap(),
        rate_limit_per_second: 1_000_000,
        rate_limit_burst: 1_000_000,
        workers: Some(workers),
        ..ServeArgs::default()
    };
    let app = Application::build(&global, &serve).unwrap();
    let port = app.port();
    let key = app
        .bootstrap_key()
        .expect("a fresh data dir bootstraps a key")
        .to_owned();
    let state = app.state();
    actix_web::rt::spawn(app.run_until_stopped());

    let hello = actix_web::HttpServer::new(|| {
        actix_web::App::new().route(
            "/hello",
            actix_web::web::get()
                .to(|| async { actix_web::HttpResponse::Ok().json(json!({"hello": "world"})) }),
        )
    })
    .workers(workers)
    .bind("127.0.0.1:0")
    .unwrap();
    let hello_port = hello.addrs()[0].port();
    actix_web::rt::spawn(hello.run());

    // The phases block (their own client runtimes); the servers need this thread's runtime.
    let results = actix_web::rt::task::spawn_blocking(move || {
        let base = format!("http://127.0.0.1:{port}/api/trust/v1");
        let auth = format!("Bearer {key}");
        let mut round = 0;
        let (raw, create, create_vs_raw) = alternate(
            opts.rounds,
            || match &pg {
                Some(db) => raw_postgres_inserts(db.url(), opts.secs),
                None => raw_sqlite_inserts(dir.path(), opts.secs),
            },
            || {
                let (b, a) = (base.clone(), auth.clone());
                // Each round's request numbers (hence emails and SSNs) are its own.
                round += 1;
                let offset = round * 100_000;
                drive("kycd_create", &opts, move |c, i| {
                    c.post(format!("{b}/identity-containers")).header("authorization", &a).json(&person(i + offset))
                })
            },
        );
        if let Some((units, commits)) = state.db.group_commit_stats() {
            println!("{}", json!({"sqlite_units_per_commit": (units as f64 / commits.max(1) as f64 * 10.0).round() / 10.0}));
        }
        // Ids to read: a page of the identities just created.
        let ids: Vec<String> = {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let page: serde_json::Value = reqwest::Client::new()
                    .get(format!("{base}/personal-identities?page[size]=100"))
                    .header("authorization", &auth)
                    .send().await.unwrap().json().await.unwrap();
                page["data"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
            })
        };
        let ids = Arc::new(ids);
        let (b, a, i2) = (base.clone(), auth.clone(), Arc::clone(&ids));
        let (hello, get, get_vs_hello) = alternate(
            opts.rounds,
            || drive("hello_world_get", &opts, move |c, _| c.get(format!("http://127.0.0.1:{hello_port}/hello"))),
            || {
                let (b, a, i2) = (b.clone(), a.clone(), Arc::clone(&i2));
                drive("kycd_get", &opts, move |c, i| {
                    c.get(format!("{b}/personal-identities/{}", i2[usize::try_from(i).unwrap() % i2.len()])).header("authorization", &a)
                })
            },
        );
        let (b, a) = (base.clone(), auth.clone());
        let list = drive("kycd_list_30", &opts, move |c, _| {
            c.get(format!("{b}/personal-identities?page[size]=30")).header("authorization", &a)
        });
        list.print();
        println!(
            "{}",
            json!({
                "medians_of_rounds": opts.rounds,
                "raw_insert": raw.per_sec.round(), "hello_world": hello.per_sec.round(),
                "create": create.per_sec.round(), "create_p99_ms": (create.p99_ms * 10.0).round() / 10.0,
                "get": get.per_sec.round(), "get_p99_ms": (get.p99_ms * 10.0).round() / 10.0,
                "connections": opts.connections,
                "secs_per_phase": opts.secs,
                "create_vs_raw_insert": (create_vs_raw * 100.0).round() / 100.0,
                "get_vs_hello_world": (get_vs_hello * 100.0).round() / 100.0,
                "targets": {"create_vs_raw_insert": ">= 0.8", "get_vs_hello_world": ">= 0.5", "p99_ms": "< 20"},
            })
        );
        pg
    })
    .await;
    // Dropped before the exit, which runs no destructor.
    drop(results.unwrap());
    std::process::exit(0);
}
