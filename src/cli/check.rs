//! `meldpunt check`: validate the configuration and the keys, certificates and CRLs it names.

use std::process::ExitCode;

use super::ConfigArg;
use crate::config::{Config, Problem, pki};
use crate::layout::Layout;

/// Arguments of `meldpunt check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs the check; every problem is printed as `file:line:column: message` plus a fix.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = &args.config.config;
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    match Config::load(path) {
        Err(p) => problems.extend(p.0),
        Ok(config) => {
            problems.extend(check_files(&config));
            if let Some(https) = &config.https {
                let found = pki::check(https, jiff::Timestamp::now().as_second());
                problems.extend(found.errors);
                warnings.extend(found.warnings);
            }
            if let Some(target) = &config.audit.syslog
                && let Err(why) = crate::config::syslog::probe(target)
            {
                warnings.push(Problem::whole_file(
                    &config.source,
                    format!("[audit] syslog = \"{target}\" cannot be reached now ({why}); the daemon runs without it and counts the audit copies it cannot send"),
                    "start the collector (or correct the address); the audit log itself is complete either way",
                ));
            }
        }
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if problems.is_empty() {
        let config = Config::load(path).map_err(|p| anyhow::anyhow!("{p}"))?;
        println!(
            "{}: ok ({} creditors, {} municipalities, {} executors, data in {})",
            path.display(),
            config.creditors.len(),
            config.municipalities.len(),
            config.executors.len(),
            config.data_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        eprintln!("{p}");
    }
    eprintln!("{}: {} problem(s)", path.display(), problems.len());
    Ok(ExitCode::FAILURE)
}

/// Problems with the files a valid configuration points at (data directory, keys).
fn check_files(config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let src = &config.source;
    let dir = &config.data_dir;
    if dir.exists() && !dir.is_dir() {
        out.push(Problem::whole_file(
            src,
            format!("data_dir {} exists but is not a directory", dir.display()),
            "point data_dir at a directory (it is created if missing)",
        ));
    }
    let layout = Layout::new(dir);
    if let Ok(entries) = std::fs::read_dir(layout.period_keys()) {
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if !text.lines().any(|l| l.trim().starts_with("AGE-SECRET-KEY-1")) {
                out.push(Problem::whole_file(
                    &e.path(),
                    "period key is not an age identity",
                    "restore it from backup; without it the period cannot be read",
                ));
            }
        }
    }
    let audit_key = layout.audit_key();
    if audit_key.exists()
        && let Err(e) = crate::audit::AuditKey::load(&audit_key)
    {
        out.push(Problem::whole_file(
            &audit_key,
            format!("the audit signing key cannot be used: {e}"),
            "restore it from backup; if it is lost, remove it (a new one is made at start) and give the officer the new `meldpunt keys audit-pub`",
        ));
    }
    if let Err(e) = crate::batch::routing::RoutingTable::load(&config.batch.routing_table) {
        out.push(Problem::whole_file(
            &config.batch.routing_table,
            format!("the routing table cannot be used: {e:#}"),
            "load a table with `meldpunt routing import FILE`, or point [batch] routing_table at one",
        ));
    }
    if let Some(sftp) = &config.sftp
        && sftp.host_key.exists()
        && russh::keys::PrivateKey::read_openssh_file(&sftp.host_key).is_err()
    {
        out.push(Problem::whole_file(
            &sftp.host_key,
            "the SSH host key cannot be read as an OpenSSH private key",
            "remove it to have a new ed25519 host key created at start (clients will see a new fingerprint)",
        ));
    }
    out
}
