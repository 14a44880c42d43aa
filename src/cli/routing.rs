//! `meldpunt routing import FILE`: check a routing table (canonical or a CBS-style export, see
//! [`crate::batch::routing`]) and install it, in the canonical format, where the configuration's
//! `[batch] routing_table` says. Audited as an operator action.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ConfigArg;
use crate::audit::{Audit, Event, Outcome};
use crate::batch::routing::{RoutingProblem, RoutingTable};
use crate::domain::party::MunicipalityCode;
use crate::layout::Layout;
use crate::state::State;

/// Problems printed before "… and N more".
const PRINTED: usize = 1000;

/// Codes listed in a warning before "…".
const LISTED: usize = 20;

/// Arguments of `meldpunt routing`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Check a routing table (ours or a CBS export with PC6, Huisnummer, Gemeente2024 columns)
    /// and install it as the configured table; names every problem, exits non-zero if any.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The table: `postcode;huisnummer_van;huisnummer_tot;gemeente`, or a CBS-style export.
    file: PathBuf,
}

/// Runs `meldpunt routing …`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Import(a) => import(a),
    }
}

fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config.config)?;
    let file = &args.file;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let parsed = RoutingTable::parse(&String::from_utf8_lossy(&bytes));
    let dest = &config.batch.routing_table;
    let audit = open_audit(&config.data_dir)?;
    let table = match parsed {
        Ok(t) => t,
        Err(problems) => {
            print_problems(file, &problems);
            eprintln!(
                "{} problem(s) in {}; the routing table {} was not changed",
                problems.len(),
                file.display(),
                dest.display()
            );
            let ev = Event::new("operator", "routing_import", Outcome::Denied)
                .auth("operator")
                .origin("local")
                .object(json!({ "sha256": sha256, "bytes": bytes.len(), "problems": problems.len() }));
            audit.emit_blocking(ev).context("recording the audit event")?;
            return Ok(ExitCode::FAILURE);
        }
    };

    let canonical = table.to_canonical();
    crate::durable::write_atomic(dest, canonical.as_bytes(), false)
        .with_context(|| format!("writing the routing table {} ([batch] routing_table)", dest.display()))?;

    let counts = table.counts();
    let in_table = table.municipalities();
    let configured: std::collections::BTreeSet<MunicipalityCode> =
        config.municipalities.iter().map(|m| m.code.clone()).collect();
    let unconfigured: Vec<&MunicipalityCode> = in_table.difference(&configured).collect();
    let unrouted: Vec<&MunicipalityCode> = configured.difference(&in_table).collect();

    let ev = Event::new("operator", "routing_import", Outcome::Ok).auth("operator").origin("local").object(
        json!({
            "sha256": sha256,
            "bytes": bytes.len(),
            "format": table.format().as_str(),
            "rows": table.rows(),
            "entries": table.len(),
            "pc6": counts.pc6,
            "pc4": counts.pc4,
            "ranges": counts.pc6_ranges + counts.pc4_ranges,
            "municipalities": in_table.len(),
            "unconfigured": unconfigured.len(),
            "table_sha256": hex::encode(Sha256::digest(canonical.as_bytes())),
        }),
    );
    audit.emit_blocking(ev).with_context(|| {
        format!("the routing table {} was written, but recording the audit event failed", dest.display())
    })?;

    println!(
        "imported {} ({} format, {} lines, sha256 {sha256}) into {}",
        file.display(),
        table.format().as_str(),
        table.rows(),
        dest.display()
    );
    println!("entries:        {}", table.len());
    println!("PC6:            {} ({} with a house-number range)", counts.pc6, counts.pc6_ranges);
    println!("PC4:            {} ({} with a house-number range)", counts.pc4, counts.pc4_ranges);
    println!("municipalities: {}", in_table.len());
    println!("not configured: {}", unconfigured.len());
    if !unconfigured.is_empty() {
        eprintln!(
            "warning: {} municipalities in the table have no [[municipality]] in {}: {}; \
             signals routed there are not delivered",
            unconfigured.len(),
            config.source.display(),
            list(&unconfigured)
        );
    }
    if !unrouted.is_empty() {
        eprintln!("warning: configured municipalities that no postcode routes to: {}", list(&unrouted));
    }
    Ok(ExitCode::SUCCESS)
}

/// The audit log of the data directory.
fn open_audit(data_dir: &Path) -> anyhow::Result<Audit> {
    crate::durable::create_private_dir(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let layout = Layout::new(data_dir);
    let state = State::open(&layout.state_db())
        .with_context(|| format!("opening {}", layout.state_db().display()))?;
    Ok(Audit::open(state)?)
}

fn print_problems(file: &Path, problems: &[RoutingProblem]) {
    for p in problems.iter().take(PRINTED) {
        eprintln!("{}", p.at(file));
    }
    if problems.len() > PRINTED {
        eprintln!("… and {} more (fix these first and import again)", problems.len() - PRINTED);
    }
}

/// Up to [`LISTED`] codes, comma separated.
fn list(codes: &[&MunicipalityCode]) -> String {
    let mut s = codes.iter().take(LISTED).map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
    if codes.len() > LISTED {
        let _ = write!(s, ", … ({} more)", codes.len() - LISTED);
    }
    s
}
