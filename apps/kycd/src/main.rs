//! The `kycd` binary: parses the command line, sets up logging and calls into the library.

use std::process::ExitCode;

use clap::Parser;
use kyc_store::DbOptions;
use kycd::{
    cli::{ApiKeysCommand, Cli, Command, ServeArgs, TenantsCommand},
    startup::{Application, StartError, open_store},
};

/// mimalloc rather than glibc's malloc: creates on SQLite 3 822/s -> 4 483/s, CPU per create
/// 368 -> 318 µs (medians of three alternated runs of the load example, docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    kycd::telemetry::init(cli.global.log_format);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kycd: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), StartError> {
    let mut global = cli.global;
    // SPEC §9 names `DATABASE_URL`; `KYCD_DATABASE_URL` (or the flag) wins when both are set.
    if global.database_url.is_none() {
        global.database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty());
    }
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    match command {
        Command::Serve(serve) => serve_forever(&global, &serve),
        Command::Migrate => {
            open_store(&global, DbOptions::one_shot())?;
            println!("migrations applied");
            Ok(())
        }
        Command::Tenants(TenantsCommand::Create { name }) => {
            let (db, _) = open_store(&global, DbOptions::one_shot())?;
            let tenant = db.write(|conn| kyc_store::tenants::create(conn, &name))?;
            println!("{}", tenant.id);
            Ok(())
        }
        Command::ApiKeys(ApiKeysCommand::Create { tenant, role }) => {
            let (db, _) = open_store(&global, DbOptions::one_shot())?;
            let (key, secret) = db.write(|conn| {
                let tenant = kyc_store::tenants::find_by_name(conn, &tenant)?;
                kyc_store::api_keys::create(conn, tenant.id, role.into())
            })?;
            println!(
                "api key {} ({}) for tenant {tenant}; it is shown only once:",
                key.id,
                key.role.as_str()
            );
            println!("{}", secret.as_str());
            Ok(())
        }
        Command::Openapi(args) => {
            // The document a server in this mode serves (the committed one is sandbox's).
            let sandbox = global.mode == kycd::cli::Mode::Sandbox;
            if args.markdown {
                print!("{}", kycd::openapi::served_reference(sandbox));
            } else {
                print!("{}", kycd::openapi::served_json(sandbox));
            }
            Ok(())
        }
    }
}

#[actix_web::main]
async fn serve_forever(
    global: &kycd::cli::GlobalArgs,
    serve: &ServeArgs,
) -> Result<(), StartError> {
    let app = Application::build(global, serve)?;
    if let Some(key) = app.bootstrap_key() {
        println!(
            "kycd: first start: created tenant `default` with this integrator API key (shown once):"
        );
        println!("{key}");
    }
    tracing::info!(port = app.port(), mode = ?global.mode, "kycd listening");
    app.run_until_stopped().await?;
    Ok(())
}
