//! `meldpunt inzage --postcode P --huisnummer N [--huisletter L] [--toevoeging T]
//! [--achternaam X] --out FILE`: what meldpunt holds about an address or person, as JSON
//! (right of access, docs/storage-and-retention.md). Audited with counts only.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;

use super::ConfigArg;
use crate::audit::{Event, Outcome};
use crate::retention::inzage::{self, Selector};

/// Whom an access or erasure request is about (the address, and optionally one person at it).
#[derive(Debug, clap::Args)]
pub struct Subject {
    /// Postcode of the address (`1234AB`; spaces and case do not matter).
    #[arg(long)]
    postcode: String,
    /// House number.
    #[arg(long)]
    huisnummer: u32,
    /// House letter, if any.
    #[arg(long)]
    huisletter: Option<String>,
    /// House number addition, if any.
    #[arg(long)]
    toevoeging: Option<String>,
    /// Only this person at the address (surname; `van der Berg` = `Berg, van der`).
    #[arg(long)]
    achternaam: Option<String>,
}

impl Subject {
    /// The selector, or what is wrong with the postcode.
    pub fn selector(&self) -> anyhow::Result<Selector> {
        Selector::new(
            &self.postcode,
            self.huisnummer,
            self.huisletter.as_deref(),
            self.toevoeging.as_deref(),
            self.achternaam.as_deref(),
        )
        .with_context(|| "--postcode is not a Dutch postcode; write four digits and two letters, e.g. 1234AB")
    }
}

/// Arguments of `meldpunt inzage`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    subject: Subject,
    /// Where to write the JSON (created with mode 0600; it holds personal data).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `meldpunt inzage`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let who = a.subject.selector()?;
    let app = super::open_app(&a.config.config)?;
    let found = inzage::collect(app.layout(), app.state(), app.vault(), &who)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&a.out)
        .with_context(|| format!("creating {} (it must not exist yet)", a.out.display()))?;
    f.write_all(&serde_json::to_vec_pretty(&found)?)?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    let ev = Event::new("operator", "inzage", Outcome::Ok)
        .object(json!({ "signals": found.signalen.len(), "periods": found.perioden.len(), "by_person": who.achternaam.is_some() }));
    app.audit().emit_blocking(ev)?;
    println!(
        "{} signal(s) in {} period(s) written to {} (mode 0600; it holds personal data: hand it over securely)",
        found.signalen.len(),
        found.perioden.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
