//! `meldpunt ddas export --gemeente GMxxxx --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE]`: the
//! VNG/DDAS exchange model of a municipality's signals, cases and results (docs/ddas.md), to
//! standard output or a new file; `meldpunt ddas drop --month YYYY-MM`: the monthly drop into
//! the pickup folders now. Audited with counts only.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use jiff::civil::Date;

use super::ConfigArg;
use crate::config::Municipality;
use crate::ddas::{self, monthly};
use crate::domain::party::{ExecutorId, MunicipalityCode};
use crate::domain::period::Period;

/// Arguments of `meldpunt ddas`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

/// The `ddas` subcommands.
#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Write the DDAS export (Uitwisselmodel v1.2) of one or more municipalities as JSON.
    Export(Export),
    /// Put a month's export, encrypted, into every municipality's pickup folder now.
    Drop(Drop),
}

/// Arguments of `meldpunt ddas export`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).multiple(true).args(["gemeente", "uitvoerder"])))]
struct Export {
    #[command(flatten)]
    config: ConfigArg,
    /// The municipality (`GM0505`); repeat it for several, one `levering` each.
    #[arg(long)]
    gemeente: Vec<String>,
    /// An executor (`SDD`): every municipality it serves, one `levering` each.
    #[arg(long)]
    uitvoerder: Option<String>,
    /// First day of the batches to report on (`YYYY-MM-DD`, Europe/Amsterdam).
    #[arg(long)]
    from: String,
    /// Last day of the batches to report on (`YYYY-MM-DD`), inclusive.
    #[arg(long)]
    to: String,
    /// Write to this new file (mode 0600; it holds personal data) instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Arguments of `meldpunt ddas drop`.
#[derive(Debug, clap::Args)]
struct Drop {
    #[command(flatten)]
    config: ConfigArg,
    /// The month to export (`YYYY-MM`); the monthly drop takes the previous one.
    #[arg(long)]
    month: String,
    /// Drop it again for municipalities that already have this month's export.
    #[arg(long)]
    again: bool,
}

/// Runs `meldpunt ddas`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.command {
        Sub::Export(e) => export(e),
        Sub::Drop(d) => drop(d),
    }
}

fn date(text: &str, flag: &str) -> anyhow::Result<Date> {
    match text.parse::<Date>() {
        Ok(d) if text.len() == 10 => Ok(d),
        _ => bail!("{flag} {text:?} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-01"),
    }
}

fn export(a: Export) -> anyhow::Result<ExitCode> {
    let (from, to) = (date(&a.from, "--from")?, date(&a.to, "--to")?);
    if from > to {
        bail!("--from {from} lies after --to {to}; give the first day first");
    }
    let app = super::open_app(&a.config.config)?;
    let config = app.config();
    let mut chosen: Vec<&Municipality> = a
        .gemeente
        .iter()
        .map(|g| {
            let code = MunicipalityCode::parse(g.trim()).ok().with_context(|| {
                format!("--gemeente {g:?} is not a municipality code; write GM and four digits, e.g. GM0505")
            })?;
            config.municipality(&code).with_context(|| {
                format!(
                    "--gemeente {code} is not configured in {}; name a [[municipality]] of it",
                    config.source.display()
                )
            })
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(id) = &a.uitvoerder {
        let executor =
            ExecutorId::parse(id.trim()).ok().and_then(|id| config.executor(&id)).with_context(|| {
                format!(
                    "--uitvoerder {id:?} is not an executor configured in {}; name the id of an [[executor]]",
                    config.source.display()
                )
            })?;
        for code in &executor.serves {
            if let Some(m) = config.municipality(code).filter(|m| !chosen.iter().any(|c| c.code == m.code)) {
                chosen.push(m);
            }
        }
    }
    let ex = ddas::export(&app, &chosen, from, to)?;
    let json = ex.to_json();
    let target = match &a.out {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&json)?;
            out.flush()?;
            "stdout"
        }
        Some(path) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
            f.write_all(&json)?;
            f.sync_all()?;
            "file"
        }
    };
    monthly::audit(&app, "operator", from, to, target, &ex.counts, None);
    for c in &ex.counts {
        eprintln!(
            "{}: {} signal(s), {} case(s), {} with a result{}",
            c.gemeente,
            c.vroegsignalen,
            c.vroegsignaalzaken,
            c.met_resultaat,
            a.out
                .as_ref()
                .map(|p| format!(", written to {} (mode 0600; it holds personal data)", p.display()))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn drop(a: Drop) -> anyhow::Result<ExitCode> {
    let month: Period = a
        .month
        .parse()
        .ok()
        .with_context(|| format!("--month {:?} is not a month; write it as YYYY-MM", a.month))?;
    let app = super::open_app(&a.config.config)?;
    let dropped = monthly::drop_month(&app, month, "operator", a.again)?;
    if dropped.is_empty() {
        println!("every pickup folder has the export of {month} already; use --again to drop it anew");
    }
    for (name, c) in dropped {
        println!("{}: {name} ({} signal(s), {} case(s))", c.gemeente, c.vroegsignalen, c.vroegsignaalzaken);
    }
    Ok(ExitCode::SUCCESS)
}
