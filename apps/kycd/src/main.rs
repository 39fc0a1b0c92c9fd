use clap::Parser;
use kycd::cli::Cli;

fn main() {
    let cli = Cli::parse();
    kycd::telemetry::init(cli.global.log_format);
    println!("kycd {}", env!("CARGO_PKG_VERSION"));
}
