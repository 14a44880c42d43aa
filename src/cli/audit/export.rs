//! `meldpunt audit export [--since T] [--out FILE]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use jiff::Timestamp;
use serde_json::json;

use crate::audit::{Event, Outcome};

/// Arguments of `meldpunt audit export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: super::super::ConfigArg,
    /// Events from this time (2026-11-01 or RFC 3339); the export starts at the checkpoint
    /// before it so it verifies on its own. Default: everything kept.
    #[arg(long, value_parser = super::parse_time)]
    since: Option<Timestamp>,
    /// Write to this file (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Signs an export checkpoint and writes the export.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (config, audit) = super::open(&a.config.config)?;
    let key = super::signing_key(&config)?;
    let since = a.since.map(|t| format!("{t:.3}"));
    let ev = Event::new("operator", "audit_export", Outcome::Ok)
        .object(json!({ "since": since, "to_file": a.out.is_some() }));
    audit.emit_blocking(ev).context("recording the export in the audit log")?;
    let text = audit.export_blocking(&key, a.since)?;
    match &a.out {
        Some(f) => {
            crate::vault::fsutil::write_atomic(f, text.as_bytes(), true).with_context(|| {
                format!("{}: cannot write the export; choose a writable path", f.display())
            })?;
            eprintln!(
                "wrote {} lines to {}; verify anywhere with: meldpunt audit verify --pubkey audit.pub --from {}",
                text.lines().count(),
                f.display(),
                f.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
