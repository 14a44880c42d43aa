//! The monthly drop (docs/ddas.md): on `[ddas] day` of each month, the previous month's export
//! of each municipality goes, encrypted with age to its recipients, into its pickup folder as
//! `<GM>_<YYYY-MM>_ddas.json.age`; an executor that may receive the municipality's signals gets
//! a copy encrypted to it in its own folder, `<GM>_<YYYY-MM>_<EXECUTOR>_ddas.json.age`. Each
//! file appears atomically (temporary name, fsync, rename, fsync of the folder); each drop is
//! recorded in the state database, so a restart later that month does not drop it again, and a
//! daemon that was down on the day drops it when it starts.

use std::io::Write;

use jiff::civil::Date;
use serde_json::json;

use super::{Counts, DdasError, export};
use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::config::{Config, Municipality};
use crate::domain::party::ExecutorId;
use crate::domain::period::{Period, local_date};
use crate::state::ddas;

/// The file name of `m`'s export of `month` in its pickup folder.
pub fn file_name(m: &Municipality, month: Period) -> String {
    format!("{}_{month}_ddas.json.age", m.code)
}

/// The file name of the copy of `m`'s export of `month` in the pickup folder of `executor`,
/// named like its bundles (`<GM>_<period>_v<n>_<EXECUTOR>_…`).
pub fn executor_file_name(m: &Municipality, executor: &ExecutorId, month: Period) -> String {
    format!("{}_{month}_{executor}_ddas.json.age", m.code)
}

/// The first and last day of `month`.
pub fn days_of(month: Period) -> (Date, Date) {
    let first = month.first_day();
    (first, month.next().first_day().yesterday().unwrap_or(first))
}

/// The month whose export is due on `today` with `[ddas] day` = `day`: the previous month,
/// from that day of the month on; none when `day` is 0.
pub fn due(day: u8, today: Date) -> Option<Period> {
    if day == 0 || today.day() < day as i8 {
        return None;
    }
    Period::new(today.year(), today.month()).map(Period::prev)
}

/// One pickup folder a municipality's export goes into: the municipality's own, or that of
/// the executor serving it.
struct Target<'c> {
    /// The municipality whose export it is.
    municipality: &'c Municipality,
    /// Who picks it up: the municipality code or the executor id.
    party: String,
    /// The key its drop is recorded under: the municipality code, or `<EXECUTOR>/<GM>` for an
    /// executor's copy.
    key: String,
    /// The age recipients it is encrypted to.
    recipients: &'c [String],
    /// The file name.
    name: String,
}

/// Every pickup folder the export of `month` goes into: each municipality's, and the folder
/// of each executor for every municipality it serves and may receive signals of
/// (`deliver_to` or a `deliver_werkbak` entry naming it).
fn targets(config: &Config, month: Period) -> Vec<Target<'_>> {
    let mut out: Vec<Target<'_>> = config
        .municipalities
        .iter()
        .map(|m| Target {
            municipality: m,
            party: m.code.to_string(),
            key: m.code.to_string(),
            recipients: &m.age_recipients,
            name: file_name(m, month),
        })
        .collect();
    for e in &config.executors {
        for m in config
            .municipalities
            .iter()
            .filter(|m| e.serves.contains(&m.code) && m.deliver_to.uses_executor())
        {
            out.push(Target {
                municipality: m,
                party: e.id.to_string(),
                key: format!("{}/{}", e.id, m.code),
                recipients: &e.age_recipients,
                name: executor_file_name(m, &e.id, month),
            });
        }
    }
    out
}

/// Drops `month`'s export into the pickup folder of each municipality, and of each executor
/// for the municipalities it serves, that does not have it yet (all of them again with
/// `again`); returns what was dropped.
pub fn drop_month(
    app: &App,
    month: Period,
    actor: &str,
    again: bool,
) -> Result<Vec<(String, Counts)>, DdasError> {
    let config = app.config();
    let (from, to) = days_of(month);
    let mut pending = Vec::new();
    for t in targets(&config, month) {
        if again || ddas::dropped(&app.state().lock(), &t.key, &month.to_string())?.is_none() {
            pending.push(t);
        }
    }
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    // Each municipality's export is made once, also when its executor gets a copy.
    let mut wanted: Vec<&Municipality> = Vec::new();
    for t in &pending {
        if !wanted.iter().any(|m| m.code == t.municipality.code) {
            wanted.push(t.municipality);
        }
    }
    let exports = export(app, &wanted, from, to)?.split();
    let mut out = Vec::new();
    for t in pending {
        let i = wanted.iter().position(|m| m.code == t.municipality.code).expect("wanted holds it");
        let ex = &exports[i];
        let mut cipher = Vec::new();
        {
            let mut w = crate::batch::bundle::encryptor(t.recipients)?.wrap_output(&mut cipher)?;
            w.write_all(&ex.to_json())?;
            w.finish()?;
        }
        let dir = app.layout().pickup(&t.party);
        std::fs::create_dir_all(&dir)?;
        crate::durable::write_atomic(&dir.join(&t.name), &cipher, false)?;
        let now = jiff::Timestamp::now();
        let at = now.round(jiff::Unit::Second).unwrap_or(now).to_string();
        ddas::record_drop(&app.state().lock(), &t.key, &month.to_string(), &t.name, &at)?;
        let counts = ex.counts.first().cloned().unwrap_or_default();
        audit(app, actor, from, to, "pickup", std::slice::from_ref(&counts), Some(&t.name));
        tracing::info!(party = %t.party, gemeente = %t.municipality.code, %month, file = %t.name, signals = counts.vroegsignalen, cases = counts.vroegsignaalzaken, "DDAS export dropped");
        out.push((t.name, counts));
    }
    Ok(out)
}

/// Drops the export due now, if one is (the daemon's hourly check).
pub fn drop_due(app: &App) -> Result<usize, DdasError> {
    let Some(month) = due(app.config().ddas_day, local_date(jiff::Timestamp::now())) else { return Ok(0) };
    Ok(drop_month(app, month, "system", false)?.len())
}

/// Audits an export: its range, where it went, and counts only.
pub fn audit(
    app: &App,
    actor: &str,
    from: Date,
    to: Date,
    target: &str,
    counts: &[Counts],
    file: Option<&str>,
) {
    let mut object =
        json!({ "from": from.to_string(), "to": to.to_string(), "target": target, "leveringen": counts });
    if let Some(f) = file {
        object["file"] = json!(f);
    }
    let ev = Event::new(actor, "ddas_export", Outcome::Ok).object(object);
    if let Err(e) = app.audit().emit_blocking(ev) {
        tracing::error!(error = %e, "could not write audit event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_month_is_due_from_the_day_on() {
        let d = |m, day| Date::new(2026, m, day).unwrap();
        assert_eq!(due(0, d(12, 20)), None);
        assert_eq!(due(5, d(12, 4)), None);
        assert_eq!(due(5, d(12, 5)), Period::new(2026, 11));
        assert_eq!(due(5, d(1, 28).with().year(2027).build().unwrap()), Period::new(2026, 12));
        assert_eq!(days_of(Period::new(2026, 2).unwrap()), (d(2, 1), d(2, 28)));
    }
}
