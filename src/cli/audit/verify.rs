//! `meldpunt audit verify [--pubkey FILE] [--from EXPORT]`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::audit::export::parse;
use crate::audit::verify::{Log, Source, compare_with_earlier, verify};
use serde_json::json;

use crate::audit::{Audit, Event, Outcome, PublicKey, escape};

/// Arguments of `meldpunt audit verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: super::super::ConfigArg,
    /// The public key you keep off this host (as printed by `meldpunt keys audit-pub`).
    /// Without it, the key on this host is used, which proves less.
    #[arg(long, value_name = "FILE")]
    pubkey: Option<PathBuf>,
    /// Verify an export file (from `meldpunt audit export`) instead of this host's log; needs
    /// only --pubkey, no configuration.
    #[arg(long, value_name = "EXPORT")]
    from: Option<PathBuf>,
    /// Your earlier export, kept off this host: every event in it must still be there,
    /// unchanged (or purged under a signed anchor). Catches a rewrite re-signed with a stolen key.
    #[arg(long, value_name = "EARLIER_EXPORT")]
    against: Option<PathBuf>,
}

/// Runs the verification; exit 0 only when everything checks out.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let public = match &a.pubkey {
        Some(f) => {
            let text = String::from_utf8_lossy(&super::read_file(f, "the public key")?).into_owned();
            PublicKey::parse(&text).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no 'meldpunt-audit-ed25519 <64 hex digits>' line; use the output of `meldpunt keys audit-pub`",
                    f.display()
                )
            })?
        }
        None if a.from.is_some() => anyhow::bail!(
            "give --pubkey FILE (the public key printed by `meldpunt keys audit-pub`) to verify an export"
        ),
        None => {
            let config = super::super::load_config(&a.config.config)?;
            let key = super::signing_key(&config)?;
            eprintln!(
                "note: checking with the key on this host; give --pubkey with the copy you keep off the host for an independent check"
            );
            key.public()
        }
    };
    let mut db_audit = None;
    let (log, source, label) = match &a.from {
        Some(f) => match parse(&super::read_file(f, "the export")?) {
            Ok(log) => (log, Source::Export, f.display().to_string()),
            Err(e) => {
                println!("FAILED {}", escape::visible(&format!("{}: {e}", f.display())));
                return Ok(ExitCode::FAILURE);
            }
        },
        None => {
            let (config, audit) = super::open(&a.config.config)?;
            let db = crate::layout::Layout::new(&config.data_dir).state_db();
            let log = database_log(&audit)?;
            db_audit = Some(audit);
            (log, Source::Database, db.display().to_string())
        }
    };
    let mut result = verify(&log, &public, source);
    if let (Ok(_), Some(f)) = (&result, &a.against) {
        let earlier = match parse(&super::read_file(f, "the earlier export")?) {
            Ok(e) => e,
            Err(e) => {
                println!("FAILED {}", escape::visible(&format!("{}: {e}", f.display())));
                return Ok(ExitCode::FAILURE);
            }
        };
        if let Err(e) = verify(&earlier, &public, Source::Export) {
            println!(
                "FAILED {}",
                escape::visible(&format!("{} (the earlier export itself): {e}", f.display()))
            );
            return Ok(ExitCode::FAILURE);
        }
        if let Err(e) = compare_with_earlier(&log, &earlier) {
            result = Err(e);
        }
    }
    if let (Source::Database, Some(audit)) = (source, &db_audit) {
        // The officer's check is itself on the record (BIO 8.15: periodic integrity checks).
        let (outcome, object) = match &result {
            Ok(v) => {
                (Outcome::Ok, json!({ "events": v.events, "checkpoints": v.checkpoints, "key": public.id() }))
            }
            Err(f) => (Outcome::Error, json!({ "first_bad_event": f.seq(), "key": public.id() })),
        };
        let ev = Event::new("operator", "audit_verify", outcome).object(object);
        if let Err(e) = audit.emit_blocking(ev) {
            // An officer with read-only access can still verify.
            eprintln!(
                "note: this check could not be recorded in the audit log ({e}); run as the daemon's user to record it"
            );
        }
    }
    match result {
        Ok(v) => {
            let range = v.range.map_or("none".to_owned(), |(a, b)| format!("{a}..={b}"));
            println!(
                "OK {label}: {} events (seq {range}), {} checkpoints and {} purge anchors verified with key {}",
                v.events,
                v.checkpoints,
                v.anchors,
                public.id()
            );
            if v.purged_through > 0 {
                println!("  events 1..={} were purged for retention (signed anchor)", v.purged_through);
            }
            if let Some(f) = &a.against {
                println!("  every event of {} is still there, unchanged", f.display());
            }
            if v.unsigned_tail > 0 {
                println!(
                    "  the last {} events come after the last checkpoint: covered by the hash chain only until the next one",
                    v.unsigned_tail
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            println!("FAILED {}", escape::visible(&format!("{label}: {f}")));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The whole log of the database.
pub(crate) fn database_log(audit: &Audit) -> anyhow::Result<Log> {
    Ok(Log { records: audit.records()?, checkpoints: audit.checkpoints()?, anchors: audit.anchors()? })
}
