//! `meldpunt shred [--dry-run]`: crypto-shred every period past its retention now, and remove
//! what is past its shorter window (rejected and duplicate uploads, temporary files, feedback
//! uploads, batch reports); the daemon also does this daily.

use std::process::ExitCode;

use super::ConfigArg;

/// Arguments of `meldpunt shred`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    /// List what would be shredded; remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Act as if it were this moment (RFC 3339); for rehearsing a retention change.
    #[arg(long, hide = true)]
    at: Option<jiff::Timestamp>,
}

/// Runs `meldpunt shred`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let app = super::open_app(&args.config.config)?;
    let config = app.config();
    let now = args.at.unwrap_or_else(jiff::Timestamp::now);
    let round = crate::retention::run(&app, now, args.dry_run, "operator")?;
    let done = round.periods;
    let verb = if args.dry_run { "would remove" } else { "removed" };
    if !round.windows.is_empty() {
        let w = &round.windows;
        println!(
            "{verb} past their window: {} rejected or duplicate upload(s) with {} receipt file(s), {} temporary file(s), {} feedback upload record(s) (+{} reduced) with {} receipt file(s), {} batch report(s)",
            w.rows.rejected_rows,
            w.rejected_receipts,
            w.temp_files,
            w.rows.feedback_rows,
            w.rows.feedback_reduced,
            w.feedback_receipts,
            w.batch_reports
        );
    }
    if done.is_empty() {
        let what = if round.windows.is_empty() { "nothing" } else { "no period" };
        println!(
            "{what} is past its retention ({} months after the end of a period)",
            config.retention_months
        );
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if args.dry_run { "would shred" } else { "shredded" };
    println!(
        "{:<8} {:>4} {:>12} {:>9} {:>8} {:>11}",
        "period", "key", "sealed_files", "receipts", "bundles", "state_rows"
    );
    for s in &done {
        println!(
            "{:<8} {:>4} {:>12} {:>9} {:>8} {:>11}",
            s.period,
            if s.key { "yes" } else { "-" },
            s.sealed_files,
            s.receipts,
            s.bundles,
            s.state_rows
        );
    }
    println!("{verb} {} period(s)", done.len());
    Ok(ExitCode::SUCCESS)
}
