//! `meldpunt sample`: write a fictitious valid signal CSV to stdout.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use crate::domain::signal::Kind;

/// Arguments of `meldpunt sample`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Signal kind.
    #[arg(long, default_value = "woninghuur")]
    kind: String,
    /// Number of records.
    #[arg(long, default_value_t = 1000)]
    records: u64,
    /// Distinct households.
    #[arg(long, default_value_t = 500)]
    households: u64,
    /// Referentie prefix.
    #[arg(long, default_value = "S")]
    prefix: String,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Writes the sample to stdout.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let kind: Kind = args.kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
    let on = crate::domain::period::local_date(jiff::Timestamp::now());
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    crate::demo::sample::write_csv(
        &mut out,
        &args.prefix,
        kind,
        args.records,
        args.households,
        args.seed,
        on,
    )?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
