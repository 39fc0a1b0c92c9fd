//! The one-shot commands of the `kycd` binary (SPEC §10), run as an operator runs them.

#![expect(
    clippy::expect_used,
    reason = "a test: any failure should stop it loudly"
)]

use std::process::{Command, Output};

use kyc_store::scratch::ScratchDatabase;

fn kycd(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kycd"))
        .args(args)
        .env("KYCD_DATABASE_URL", url)
        .env("KYCD_MODE", "production")
        .env(
            "KYCD_ENCRYPTION_KEY",
            "cli:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        )
        .env("RUST_LOG", "warn")
        .output()
        .expect("the kycd binary runs")
}

/// `tenants create` and `api-keys create` on PostgreSQL end with their own exit status, never
/// a signal. Release builds used to crash (SIGSEGV in libpq's TLS code) in up to 6 runs of 20:
/// the connection pool refilled its reserve on a thread of its own as soon as the command took
/// a connection, and the process exited under that thread. The commands now open the store with
/// `DbOptions::one_shot`. A debug build is too slow to hit that window, so the pool behaviour
/// itself is checked in the store's tests
/// (`records::a_one_shot_store_opens_no_connection_in_the_background`).
#[test]
fn one_shot_commands_exit_cleanly_on_postgres() {
    let Ok(admin) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!(
            "note: TEST_DATABASE_URL is unset; the PostgreSQL CLI test passes without running"
        );
        return;
    };
    let db = ScratchDatabase::create(&admin, "kyc_cli").expect("a scratch database");
    let tenant = kycd(db.url(), &["tenants", "create", "acme"]);
    assert_eq!(tenant.status.code(), Some(0), "{tenant:?}");
    let create_key = |tenant: &str| {
        kycd(
            db.url(),
            &[
                "api-keys",
                "create",
                "--tenant",
                tenant,
                "--role",
                "integrator",
            ],
        )
    };
    for round in 0..20 {
        let key = create_key("acme");
        assert_eq!(key.status.code(), Some(0), "round {round}: {key:?}");
        let stdout = String::from_utf8_lossy(&key.stdout);
        assert!(
            stdout
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("kycd_")),
            "round {round}: {stdout}"
        );
        let missing = create_key("nosuch");
        assert_eq!(missing.status.code(), Some(1), "round {round}: {missing:?}");
        assert!(String::from_utf8_lossy(&missing.stderr).contains("tenant not found"));
    }
}
