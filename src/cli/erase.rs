//! `meldpunt erase --postcode P --huisnummer N [--huisletter L] [--toevoeging T]
//! [--achternaam X] [--dry-run]`: remove a debtor's signals from every period still held
//! (right to erasure, docs/storage-and-retention.md) and print what went, in counts. Audited with counts only.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use super::ConfigArg;
use super::inzage::Subject;
use crate::retention::erase::{self, Erased};

/// Arguments of `meldpunt erase`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    subject: Subject,
    /// Count what would be erased; change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `meldpunt erase`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let who = a.subject.selector()?;
    let app = super::open_app(&a.config.config)?;
    let cx = super::operator(&app);
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |line: &str| {
        if terminal {
            eprintln!("{line}");
        }
    };
    let done = erase::erase(&cx, &who, a.dry_run, &mut progress)?;
    print!("{}", summary(&done, a.dry_run));
    Ok(ExitCode::SUCCESS)
}

/// What the command prints.
pub fn summary(e: &Erased, dry_run: bool) -> String {
    let verb = if dry_run { "would erase" } else { "erased" };
    let mut out = String::new();
    if e.resumed {
        out.push_str("finished an erasure that had been interrupted (its counts are included below)\n");
    }
    out.push_str(&format!(
        "{verb}: {} record(s) about the subject in {} period(s)\n\
         sealed lines (with other versions of the same signals): {}\n\
         sealed files re-sealed: {}\n\
         state rows (deliveries, feedback): {}\n\
         creditors' batch reports rewritten: {}\n\
         creditors' terugmelding files rewritten: {}\n\
         bundles re-issued: {} (older unpicked versions removed: {})\n",
        e.records,
        e.periods,
        e.sealed_lines,
        e.files_resealed,
        e.state_rows,
        e.batch_reports,
        e.creditor_feedback,
        e.bundles_reissued,
        e.versions_removed
    ));
    for (period, municipality, version) in &e.reissued {
        out.push_str(&format!(
            "  {municipality} {period}: {} v{version}\n",
            if dry_run { "new version" } else { "now" }
        ));
    }
    for (period, municipality) in &e.picked_up {
        out.push_str(&format!(
            "  {municipality} {period}: picked up already; the municipality holds the signal — tell it of the erasure\n"
        ));
    }
    if e.interrupted {
        out.push_str("an interrupted erasure is still to be finished: `meldpunt erase` (without --dry-run) does that first\n");
    }
    if dry_run {
        out.push_str("(dry run: nothing changed)\n");
    }
    out
}
