//! The command line (SPEC §10). Every flag also reads a `KYCD_*` environment variable.

use std::{net::SocketAddr, path::PathBuf};

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
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Directory for the SQLite database and the generated development key.
    #[arg(long, env = "KYCD_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// `sqlite://<path>` or `postgres://...`; defaults to `sqlite://<data dir>/kycd.db`.
    #[arg(long, env = "KYCD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// `sandbox` exposes the simulate route and magic values; `production` hides them.
    #[arg(long, env = "KYCD_MODE", value_enum, default_value_t = Mode::Sandbox, global = true)]
    pub mode: Mode,
    /// Base64 of a 32-byte AES-256 key; required in production. Older keys for rotation go in
    /// `KYCD_OLD_ENCRYPTION_KEYS` (comma-separated `id:base64`).
    #[arg(
        long,
        env = "KYCD_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub encryption_key: Option<String>,
    /// Keys that still decrypt older rows: comma-separated `id:base64` pairs.
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
    /// Print the OpenAPI document and exit.
    Openapi,
}

/// `kycd serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KYCD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// A tier policy TOML file replacing the built-in default policy.
    #[arg(long, env = "KYCD_POLICY")]
    pub policy: Option<PathBuf>,
    /// Requests per second allowed per API key (sustained).
    #[arg(long, env = "KYCD_RATE_LIMIT_PER_SECOND", default_value_t = 100)]
    pub rate_limit_per_second: u32,
    /// Requests allowed per API key in one burst.
    #[arg(long, env = "KYCD_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,
    /// HTTP worker threads (defaults to the number of cores).
    #[arg(long, env = "KYCD_WORKERS")]
    pub workers: Option<usize>,
    /// Public base URL used in presigned document links.
    #[arg(long, env = "KYCD_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// `ServeArgs` alone, to read the serve settings from the environment when no subcommand is
/// given (`kycd` with no arguments serves).
#[derive(Debug, Parser)]
struct ServeOnly {
    #[command(flatten)]
    serve: ServeArgs,
}

impl ServeArgs {
    /// The serve settings from `KYCD_*` variables and defaults.
    pub fn from_env() -> Result<Self, clap::Error> {
        ServeOnly::try_parse_from(["kycd"]).map(|s| s.serve)
    }
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
        }
    }
}

/// `kycd tenants ...`.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant.
    Create {
        /// Unique tenant name.
        name: String,
    },
}

/// `kycd api-keys ...`.
#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create an API key; the key is printed alone on the last line and never shown again.
    Create {
        /// The tenant the key belongs to.
        #[arg(long)]
        tenant: String,
        /// What the key may do.
        #[arg(long, value_enum)]
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
