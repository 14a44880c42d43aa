//! The monthly drop (docs/ddas.md): on `[ddas] day` of each month, the previous month's export
//! of each municipality goes, encrypted with age to its recipients, into its pickup folder as
//! `<GM>_<YYYY-MM>_ddas.json.age`. The file appears atomically (temporary name, fsync, rename,
//! fsync of the folder); the drop is recorded in the state database, so a restart later that
//! month does not drop it again, and a daemon that was down on the day drops it when it starts.

use std::io::Write;

use jiff::civil::Date;
use serde_json::json;

use super::{Counts, DdasError, export};
use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::config::Municipality;
use crate::domain::period::{Period, local_date};
use crate::state::ddas;

/// The file name of `m`'s export of `month` in its pickup folder.
pub fn file_name(m: &Municipality, month: Period) -> String {
    format!("{}_{month}_ddas.json.age", m.code)
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

/// Drops `month`'s export into the pickup folder of each municipality that does not have it
/// yet (all of them again with `again`); returns what was dropped.
pub fn drop_month(
    app: &App,
    month: Period,
    actor: &str,
    again: bool,
) -> Result<Vec<(String, Counts)>, DdasError> {
    let config = app.config();
    let (from, to) = days_of(month);
    let mut pending = Vec::new();
    for m in &config.municipalities {
        if again || ddas::dropped(&app.state().lock(), m.code.as_str(), &month.to_string())?.is_none() {
            pending.push(m);
        }
    }
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (m, ex) in pending.iter().zip(export(app, &pending, from, to)?.split()) {
        let name = file_name(m, month);
        let mut cipher = Vec::new();
        {
            let mut w = crate::batch::bundle::encryptor(&m.age_recipients)?.wrap_output(&mut cipher)?;
            w.write_all(&ex.to_json())?;
            w.finish()?;
        }
        let dir = app.layout().pickup(m.code.as_str());
        std::fs::create_dir_all(&dir)?;
        crate::durable::write_atomic(&dir.join(&name), &cipher, false)?;
        let now = jiff::Timestamp::now();
        let at = now.round(jiff::Unit::Second).unwrap_or(now).to_string();
        ddas::record_drop(&app.state().lock(), m.code.as_str(), &month.to_string(), &name, &at)?;
        let counts = ex.counts.into_iter().next().unwrap_or_default();
        audit(app, actor, from, to, "pickup", std::slice::from_ref(&counts), Some(&name));
        tracing::info!(gemeente = %m.code, %month, file = %name, signals = counts.vroegsignalen, cases = counts.vroegsignaalzaken, "DDAS export dropped");
        out.push((name, counts));
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
