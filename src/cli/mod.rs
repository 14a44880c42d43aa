//! The command line (docs/commands.md): argument types and one module per command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod ban;
pub mod batch;
pub mod check;
pub mod clients;
pub mod ddas;
pub mod demo;
pub mod erase;
pub mod generate;
pub mod ingest;
pub mod inzage;
pub mod keys;
pub mod routing;
pub mod sample;
pub mod serve;
pub mod shred;
pub mod status;

/// Default configuration path.
pub const DEFAULT_CONFIG: &str = "/etc/meldpunt/meldpunt.toml";

/// meldpunt — the secure Digitaal Meldpunt for vroegsignalering.
#[derive(Debug, Parser)]
#[command(name = "meldpunt", version, about, long_about = None)]
pub struct Cli {
    /// Log as JSON lines (for journald or a log shipper).
    #[arg(long, global = true)]
    pub log_json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the configuration is.
#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// The configuration file.
    #[arg(long, short, env = "MELDPUNT_CONFIG", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: SFTP and HTTPS intake, the admin listener, the monthly batch.
    Serve(serve::Args),
    /// Check the configuration and keys; name every problem, exit non-zero if any.
    Check(check::Args),
    /// Feed a file that arrived another way through the same intake (audited as operator).
    Ingest(ingest::Args),
    /// Routing tables: `routing import FILE` checks a table (or the CBS export) and installs it.
    Routing(routing::Args),
    /// The monthly batch: match, classify and deliver a period (`batch run`).
    Batch(batch::Args),
    /// Write what is held about an address or person as JSON (right of access).
    Inzage(inzage::Args),
    /// The VNG/DDAS export for CBS: `ddas export --gemeente GM.. --from .. --to ..`, `ddas drop`.
    Ddas(ddas::Args),
    /// Remove a debtor's signals from every period, state and unpicked bundle (right to erasure).
    Erase(erase::Args),
    /// Crypto-shred every period past its retention (key first) and what is past its shorter window.
    Shred(shred::Args),
    /// The audit log for the security officer: `audit verify|show|export|report|purge`.
    Audit(audit::Args),
    /// Origins banned by the defender: `ban list`, `ban remove ADDRESS`.
    Ban(ban::Args),
    /// Keys: `keys audit-pub` (the audit log's public key), `keys receipt-pub` (the lines that
    /// verify signed receipts), `keys rotate-receipt`.
    Keys(keys::Args),
    /// Known clients, privately: `clients key new|rotate` (operator), `clients hash` (the
    /// party, on its own machine, over its case system's export).
    Clients(clients::Args),
    /// Where the installation stands: the open period, the batch schedule, periods held, bundles
    /// waiting for pickup.
    Status(status::Args),
    /// Run the whole flow on fictitious data in a scratch folder and show what happened.
    Demo(demo::Args),
    /// Write a fictitious, valid signal CSV (for trying things and benchmarks).
    #[command(hide = true)]
    Sample(sample::Args),
    /// Write the man pages or shell completions (for packagers).
    #[command(hide = true)]
    Generate(generate::Args),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Check(a) => check::run(a),
        Command::Ingest(a) => ingest::run(a),
        Command::Routing(a) => routing::run(a),
        Command::Batch(a) => batch::run(a),
        Command::Shred(a) => shred::run(a),
        Command::Inzage(a) => inzage::run(a),
        Command::Ddas(a) => ddas::run(a),
        Command::Erase(a) => erase::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Ban(a) => ban::run(a),
        Command::Keys(a) => keys::run(a),
        Command::Clients(a) => clients::run(a),
        Command::Status(a) => status::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Sample(a) => sample::run(a),
        Command::Generate(a) => generate::run(a),
    }
}

/// Loads the configuration at `path` and opens its installation: state, vault, audit log.
pub fn open_app(path: &std::path::Path) -> anyhow::Result<crate::app::App> {
    let config = std::sync::Arc::new(load_config(path)?);
    let layout = crate::layout::Layout::new(&config.data_dir);
    crate::app::App::open(config, layout)
}

/// The batch context of an operator's command.
pub fn operator(app: &crate::app::App) -> crate::batch::run::Context<'_> {
    crate::batch::run::Context::new(app, "operator")
}

/// Loads the configuration, printing every problem and failing if there are any.
pub fn load_config(path: &std::path::Path) -> anyhow::Result<crate::config::Config> {
    crate::config::Config::load(path).map_err(|problems| {
        for p in &problems.0 {
            eprintln!("{p}");
        }
        anyhow::anyhow!(
            "{} problem(s) in {}; run `meldpunt check --config {}`",
            problems.0.len(),
            path.display(),
            path.display()
        )
    })
}
