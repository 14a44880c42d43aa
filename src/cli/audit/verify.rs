//! `meldpunt audit verify [--pubkey FILE] [--from EXPORT]`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::audit::export::parse;
use crate::audit::offline::{OfflineError, verify_export};
use crate::audit::verify::{Finding, Log, Source, Verified, Verifier, verify};
use anyhow::Context;
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
    // The earlier export is checked on its own first (it is small: one export).
    let earlier = match &a.against {
        None => None,
        Some(f) => {
            let checked =
                parse(&super::read_file(f, "the earlier export")?).map_err(|e| e.to_string()).and_then(
                    |log| verify(&log, &public, Source::Export).map(|_| log).map_err(|e| e.to_string()),
                );
            match checked {
                Ok(log) => Some(log),
                Err(e) => {
                    println!(
                        "FAILED {}",
                        escape::visible(&format!("{} (the earlier export): {e}", f.display()))
                    );
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    };
    let mut db_audit = None;
    let (result, source, label) = match &a.from {
        Some(f) => {
            let file = std::fs::File::open(f)
                .with_context(|| format!("{}: cannot read the export; check the path", f.display()))?;
            let result = match verify_export(std::io::BufReader::new(file), &public, earlier.as_ref()) {
                Ok(v) => Ok(v),
                Err(OfflineError::Found(finding)) => Err(finding),
                Err(e) => {
                    println!("FAILED {}", escape::visible(&format!("{}: {e}", f.display())));
                    return Ok(ExitCode::FAILURE);
                }
            };
            (result, Source::Export, f.display().to_string())
        }
        None => {
            let (config, audit) = super::open(&a.config.config)?;
            let db = crate::layout::Layout::new(&config.data_dir).state_db();
            let result = verify_database(&audit, &public, earlier.as_ref())?;
            db_audit = Some(audit);
            (result, Source::Database, db.display().to_string())
        }
    };
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

fn with_earlier<'a>(v: Verifier<'a>, earlier: Option<&Log>) -> Verifier<'a> {
    match earlier {
        Some(e) => v.against(e),
        None => v,
    }
}

/// Verifies the database's log event by event (a log of years is never held in memory).
fn verify_database(
    audit: &Audit,
    public: &PublicKey,
    earlier: Option<&Log>,
) -> anyhow::Result<Result<Verified, Finding>> {
    let (checkpoints, anchors) = (audit.checkpoints()?, audit.anchors()?);
    let mut v = match Verifier::new(&checkpoints, &anchors, Some(public), Source::Database) {
        Ok(v) => with_earlier(v, earlier),
        Err(f) => return Ok(Err(f)),
    };
    let mut found = None;
    audit.scan(None, &mut |r| match v.push(&r) {
        Ok(()) => true,
        Err(f) => {
            found = Some(f);
            false
        }
    })?;
    Ok(match found {
        Some(f) => Err(f),
        None => v.finish(),
    })
}
