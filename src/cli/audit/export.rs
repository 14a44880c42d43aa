//! `meldpunt audit export [--since T] [--out FILE]`.

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;

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
    match &a.out {
        Some(f) => {
            let fix = || format!("{}: cannot write the export; choose a writable path", f.display());
            let dir = f.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let tmp = dir.join(format!(".{}.tmp", ulid::Ulid::new()));
            let written = (|| -> anyhow::Result<u64> {
                let mut w = std::io::BufWriter::new(crate::durable::create_new_private(&tmp)?);
                let lines = audit.export_blocking(&key, a.since, &mut w)?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                std::fs::rename(&tmp, f)?;
                crate::durable::sync_dir(dir)?;
                Ok(lines)
            })();
            let lines = written.inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            });
            let lines = lines.with_context(fix)?;
            eprintln!(
                "wrote {lines} lines to {}; verify anywhere with: meldpunt audit verify --pubkey audit.pub --from {}",
                f.display(),
                f.display()
            );
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            audit.export_blocking(&key, a.since, &mut w)?;
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
