//! The last delivered batch run, from its row in the state database (so a run by
//! `meldpunt batch run` shows as well as one by the scheduler): when it ended, how long it
//! took, and its signals per outcome.

use crate::app::App;
use crate::metrics::text::Text;
use crate::state::batches;

/// Renders the `meldpunt_batch_last_run_*` families (none before the first delivery).
pub(super) fn render(app: &App, t: &mut Text) {
    let run = match batches::last_delivered_run(&app.state().lock()) {
        Ok(Some(run)) => run,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the last batch run");
            return;
        }
    };
    let unix = |s: &str| s.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond() as f64 / 1000.0);
    let (Some(started), Some(finished)) = (unix(&run.started_at), unix(&run.finished_at)) else { return };
    let summary: serde_json::Value = serde_json::from_str(&run.summary).unwrap_or_default();
    let version = run.version.to_string();
    let labels = [("period", run.period.as_str()), ("version", version.as_str())];
    t.family(
        "meldpunt_batch_last_run_timestamp_seconds",
        "gauge",
        "When the last delivered batch run ended, Unix seconds.",
    );
    t.sample_f64(&labels, finished);
    t.family(
        "meldpunt_batch_last_run_duration_seconds",
        "gauge",
        "How long the last delivered batch run took.",
    );
    t.sample_f64(&labels, (finished - started).max(0.0));
    let help = "Signals of the last delivered batch run by outcome: delivered, or the reason it was not (as in the creditors' batch reports).";
    t.family("meldpunt_batch_last_run_signals", "gauge", help);
    for (outcome, n) in outcomes(&summary) {
        t.sample(&[labels[0], labels[1], ("outcome", outcome.as_str())], n);
    }
}

/// `delivered` (summed over the municipalities), then each reason of `not_delivered_by`; a
/// run recorded before reasons were kept shows its total as `not_delivered`.
fn outcomes(summary: &serde_json::Value) -> Vec<(String, u64)> {
    let delivered = summary["municipalities"]
        .as_array()
        .map_or(0, |ms| ms.iter().filter_map(|m| m["signals"].as_u64()).sum());
    let mut out = vec![("delivered".to_owned(), delivered)];
    match summary["not_delivered_by"].as_object() {
        Some(by) => out.extend(by.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))),
        None => out.push(("not_delivered".to_owned(), summary["not_delivered"].as_u64().unwrap_or(0))),
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn delivered_summed_and_reasons_listed() {
        let s = json!({
            "municipalities": [{ "gemeente": "GM0363", "signals": 4 }, { "gemeente": "GM0505", "signals": 3 }],
            "not_delivered": 2,
            "not_delivered_by": { "left_out": 0, "unroutable": 2 },
        });
        let o = outcomes(&s);
        assert_eq!(o, [("delivered".into(), 7), ("left_out".into(), 0), ("unroutable".into(), 2)]);
        let old = json!({ "municipalities": [], "not_delivered": 5 });
        assert_eq!(outcomes(&old), [("delivered".into(), 0), ("not_delivered".into(), 5)]);
    }
}
