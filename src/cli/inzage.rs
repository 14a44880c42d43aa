//! `meldpunt inzage --postcode P --huisnummer N [--huisletter L] [--toevoeging T]
//! [--achternaam X] --out FILE`: what meldpunt holds about an address or person, as JSON
//! (right of access, SPEC §9). Audited with counts only.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;

use super::ConfigArg;
use crate::audit::{Event, Outcome};
use crate::intake::Intake;
use crate::layout::Layout;
use crate::retention::inzage::{self, Selector};

/// Arguments of `meldpunt inzage`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
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
    /// Where to write the JSON (created with mode 0600; it holds personal data).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `meldpunt inzage`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let who = Selector::new(
        &a.postcode,
        a.huisnummer,
        a.huisletter.as_deref(),
        a.toevoeging.as_deref(),
        a.achternaam.as_deref(),
    )
    .with_context(|| "--postcode is not a Dutch postcode; write four digits and two letters, e.g. 1234AB")?;
    let config = Arc::new(super::load_config(&a.config.config)?);
    let layout = Layout::new(&config.data_dir);
    let intake = Intake::open(config.clone(), layout.clone())?;
    let found = inzage::collect(&layout, intake.state(), intake.vault(), &who)?;
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
    intake.audit().emit_blocking(ev)?;
    println!(
        "{} signal(s) in {} period(s) written to {} (mode 0600; it holds personal data: hand it over securely)",
        found.signalen.len(),
        found.perioden.len(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
