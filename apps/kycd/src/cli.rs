//! The command line (SPEC §10). Every flag also reads a `KYCD_*` environment variable.

use std::{
    net::{SocketAddr, ToSocketAddrs},
    path::PathBuf,
};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// kycd: self-hosted identity onboarding and tiered KYC.
#[derive(Debug, Parser)]
#[command(name = "kycd", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s settings when no subcommand is given (`kycd --bind ...` serves); ignored by
    /// the subcommands (`kycd serve` has its own).
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory for the SQLite database and the generated development key.
    #[arg(long, env = "KYCD_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// `sqlite://<path>` or `postgres://...`; defaults to `sqlite://<data dir>/kycd.db`. The
    /// binary also reads `DATABASE_URL` (SPEC §9) when neither this flag nor
    /// `KYCD_DATABASE_URL` is given.
    #[arg(long, env = "KYCD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// `sandbox` exposes the simulate route and magic values; `production` hides them.
    #[arg(long, env = "KYCD_MODE", value_enum, default_value_t = Mode::Sandbox, global = true)]
    pub mode: Mode,
    /// A 32-byte AES-256 master key as base64 or 64 hex digits, optionally `id:` first;
    /// required in production. Older keys for rotation go in `KYCD_OLD_ENCRYPTION_KEYS`.
    #[arg(
        long,
        env = "KYCD_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub encryption_key: Option<String>,
    /// Keys that still decrypt older rows: comma-separated `id:key` pairs (base64 or hex).
    #[arg(
        long,
        env = "KYCD_OLD_ENCRYPTION_KEYS",
        hide_env_values = true,
        global = true
    )]
    pub old_encryption_keys: Option<String>,
    /// Log format.
    #[arg(long, env = "KYCD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
}

/// The commands of SPEC §10.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve(ServeArgs),
    /// Run the database migrations and exit.
    Migrate,
    /// Manage tenants (integrators).
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Manage API keys.
    #[command(name = "api-keys", subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Print the OpenAPI document a server in this mode serves, and exit.
    Openapi(OpenapiArgs),
}

/// `kycd openapi`.
#[derive(Debug, Clone, Default, Args)]
pub struct OpenapiArgs {
    /// Print the API reference rendered from the document (docs/api.md) instead.
    #[arg(long)]
    pub markdown: bool,
}

/// `kycd serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on: `ip:port` or `host:port` (a name binds its first IPv4 address,
    /// else its first address).
    #[arg(long, env = "KYCD_BIND", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: SocketAddr,
    /// A tier policy TOML file replacing the built-in default policy.
    #[arg(long, env = "KYCD_POLICY")]
    pub policy: Option<PathBuf>,
    /// Requests per second allowed per API key (sustained).
    #[arg(long, env = "KYCD_RATE_LIMIT_PER_SECOND", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_per_second: u32,
    /// Requests allowed per API key in one burst.
    #[arg(long, env = "KYCD_RATE_LIMIT_BURST", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: u32,
    /// HTTP worker threads (defaults to the number of cores).
    #[arg(long, env = "KYCD_WORKERS", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub workers: Option<usize>,
    /// Public base URL used in presigned document links.
    #[arg(long, env = "KYCD_PUBLIC_URL")]
    pub public_url: Option<String>,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub reviews: ReviewArgs,
}

/// `--bind`: a socket address, or a host name and port resolved once at start.
fn parse_bind(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("not an address to listen on ({e}); expected host:port"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| format!("{text} resolves to no address"))
}

/// The webhook delivery worker (docs/webhooks.md).
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct WebhookArgs {
    /// Run the webhook delivery worker in this process (`false` for API-only replicas).
    #[arg(long = "webhook-worker", env = "KYCD_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub worker: bool,
    /// Seconds a receiver has to answer one delivery attempt.
    #[arg(long = "webhook-timeout-secs", env = "KYCD_WEBHOOK_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout_secs: u64,
    /// Delivery attempts per event before it is given up on.
    #[arg(long = "webhook-max-attempts", env = "KYCD_WEBHOOK_MAX_ATTEMPTS", default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Delay before the first retry, in milliseconds; it doubles per failed attempt (with
    /// jitter) up to 6 hours.
    #[arg(long = "webhook-retry-base-ms", env = "KYCD_WEBHOOK_RETRY_BASE_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub retry_base_ms: u64,
    /// How often the worker looks for due events when idle, in milliseconds.
    #[arg(long = "webhook-poll-ms", env = "KYCD_WEBHOOK_POLL_MS", default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: u64,
}

impl Default for WebhookArgs {
    fn default() -> Self {
        Self {
            worker: true,
            timeout_secs: 10,
            max_attempts: 15,
            retry_base_ms: 10_000,
            poll_ms: 1_000,
        }
    }
}

/// The reason codes a reviewer gives with a decision, unless configured.
pub const DEFAULT_REASON_CODES: &str = "documents_verified,data_verified_manually,fraud_suspected,document_expired,document_unreadable,data_mismatch,duplicate_identity,other";

/// The compliance review queue.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ReviewArgs {
    /// Reason codes a reviewer may give with a decision (comma-separated, `a-z`, `0-9`, `_`).
    #[arg(long = "review-reason-codes", env = "KYCD_REVIEW_REASON_CODES", value_delimiter = ',', default_value = DEFAULT_REASON_CODES)]
    pub reason_codes: Vec<String>,
}

impl Default for ReviewArgs {
    fn default() -> Self {
        Self {
            reason_codes: DEFAULT_REASON_CODES.split(',').map(str::to_owned).collect(),
        }
    }
}

/// `ServeArgs` alone, for tests of its defaults.
#[cfg(test)]
#[derive(Debug, Parser)]
struct ServeOnly {
    #[command(flatten)]
    serve: ServeArgs,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            policy: None,
            rate_limit_per_second: 100,
            rate_limit_burst: 200,
            workers: None,
            public_url: None,
            webhooks: WebhookArgs::default(),
            reviews: ReviewArgs::default(),
        }
    }
}

/// `kycd tenants ...`.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant.
    Create {
        /// Unique tenant name (1-100 characters, no control characters, no edge spaces).
        #[arg(value_parser = parse_tenant_name)]
        name: String,
    },
}

fn parse_tenant_name(raw: &str) -> Result<String, String> {
    let length = raw.chars().count();
    if !(1..=100).contains(&length) {
        return Err("a tenant name has 1-100 characters".into());
    }
    if raw.trim() != raw || raw.chars().any(char::is_control) {
        return Err("a tenant name has no control characters and no spaces at its ends".into());
    }
    Ok(raw.to_owned())
}

/// `kycd api-keys ...`.
#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create an API key; the key is printed alone on the last line and never shown again.
    Create {
        /// The tenant the key belongs to.
        #[arg(long, env = "KYCD_TENANT")]
        tenant: String,
        /// What the key may do.
        #[arg(long, env = "KYCD_ROLE", value_enum)]
        role: RoleArg,
    },
}

/// Run mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Sandbox,
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// An API key role on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Integrator,
    Readonly,
    Operator,
}

impl From<RoleArg> for kyc_model::Role {
    fn from(value: RoleArg) -> Self {
        match value {
            RoleArg::Integrator => Self::Integrator,
            RoleArg::Readonly => Self::Readonly,
            RoleArg::Operator => Self::Operator,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::try_parse_from(["kycd"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.global.mode, Mode::Sandbox);
        // Serve's flags work without the word `serve`, and with it.
        let bare =
            Cli::try_parse_from(["kycd", "--bind", "127.0.0.1:9", "--data-dir", "d"]).unwrap();
        assert!(bare.command.is_none());
        assert_eq!(bare.serve.bind, SocketAddr::from(([127, 0, 0, 1], 9)));
        let explicit = Cli::try_parse_from(["kycd", "serve", "--bind", "127.0.0.1:9"]).unwrap();
        assert!(matches!(explicit.command, Some(Command::Serve(s)) if s.bind.port() == 9));
        // A host name is resolved, IPv4 first; a missing port is refused.
        let named = Cli::try_parse_from(["kycd", "--bind", "localhost:9"]).unwrap();
        assert_eq!(named.serve.bind, SocketAddr::from(([127, 0, 0, 1], 9)));
        assert!(Cli::try_parse_from(["kycd", "--bind", "localhost"]).is_err());
        assert!(
            Cli::try_parse_from(["kycd", "--bind", "[::1]:9"])
                .is_ok_and(|c| c.serve.bind.is_ipv6())
        );
        // Settings shared by every command go before or after the subcommand.
        for args in [
            ["kycd", "--data-dir", "d", "migrate"],
            ["kycd", "migrate", "--data-dir", "d"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert!(matches!(cli.command, Some(Command::Migrate)));
            assert_eq!(cli.global.data_dir, PathBuf::from("d"));
        }
    }

    #[test]
    fn serve_defaults_match_default() {
        let serve = ServeOnly::try_parse_from(["kycd"]).unwrap().serve;
        assert_eq!(serve.webhooks, WebhookArgs::default());
        assert_eq!(serve.reviews, ReviewArgs::default());
        assert_eq!(serve.reviews.reason_codes.len(), 8);
        let custom = ServeOnly::try_parse_from([
            "kycd",
            "--webhook-timeout-secs",
            "2",
            "--webhook-worker",
            "false",
            "--review-reason-codes",
            "ok,bad_photo",
        ])
        .unwrap()
        .serve;
        assert_eq!(custom.webhooks.timeout_secs, 2);
        assert!(!custom.webhooks.worker);
        assert_eq!(custom.reviews.reason_codes, ["ok", "bad_photo"]);
    }

    #[test]
    fn out_of_range_settings_are_refused_by_the_parser() {
        for args in [
            ["kycd", "--workers", "0"],
            ["kycd", "--rate-limit-per-second", "0"],
            ["kycd", "--rate-limit-burst", "0"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        assert_eq!(
            Cli::try_parse_from(["kycd", "--workers", "3"])
                .unwrap()
                .serve
                .workers,
            Some(3)
        );
        for name in ["", " acme", "acme ", "ac\nme", &"a".repeat(101)] {
            assert!(
                Cli::try_parse_from(["kycd", "tenants", "create", name]).is_err(),
                "{name:?}"
            );
        }
        let ok = Cli::try_parse_from(["kycd", "tenants", "create", "Acme Corp"]).unwrap();
        assert!(matches!(
            ok.command,
            Some(Command::Tenants(TenantsCommand::Create { name })) if name == "Acme Corp"
        ));
    }

    #[test]
    fn api_keys_create_parses() {
        let cli = Cli::try_parse_from([
            "kycd", "api-keys", "create", "--tenant", "acme", "--role", "readonly",
        ])
        .unwrap();
        match cli.command {
            Some(Command::ApiKeys(ApiKeysCommand::Create { tenant, role })) => {
                assert_eq!(tenant, "acme");
                assert_eq!(role, RoleArg::Readonly);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
