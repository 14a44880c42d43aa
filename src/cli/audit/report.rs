//! `meldpunt audit report --period YYYY-MM [--json]`: the monthly review.

use std::process::ExitCode;

use crate::audit::escape;
use crate::audit::report::{Anomaly, Report, Thresholds, build};
use crate::domain::period::Period;

/// Arguments of `meldpunt audit report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: super::super::ConfigArg,
    /// The month, YYYY-MM (Europe/Amsterdam); default: last month.
    #[arg(long)]
    period: Option<Period>,
    /// JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints the report.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let (config, audit) = super::open(&a.config.config)?;
    let now = jiff::Timestamp::now();
    let period = a.period.unwrap_or_else(|| {
        let d = crate::domain::period::local_date(now);
        Period::new(d.year(), d.month()).map_or_else(|| Period::new(2000, 1).expect("valid"), Period::prev)
    });
    let t = Thresholds {
        burst_logins: config.audit.failed_login_burst,
        burst_minutes: config.audit.failed_login_window_mins,
        unpicked_days: config.audit.unpicked_after_days,
    };
    // Only events from the period's start on (later ones count for pickups).
    let from = period.first_day().to_zoned(crate::domain::period::zone())?.timestamp();
    let mut records = Vec::new();
    audit.scan(Some(&format!("{from:.3}")), &mut |r| {
        records.push(r);
        true
    })?;
    let rep = build(&records, period, now, t);
    if a.json {
        println!("{}", escape::json(&rep));
    } else {
        print!("{}", text(&rep));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as text tables.
pub fn text(r: &Report) -> String {
    let mut out = format!("audit report {} — {} events\n\nper party\n", r.period, r.events);
    out.push_str(&format!(
        "{:<26} {:>8} {:>8} {:>6} {:>8} {:>10} {:>7} {:>8} {:>8} {:>6} {:>6}  other actions\n",
        "party",
        "login ok",
        "failed",
        "files",
        "records",
        "deliveries",
        "pickups",
        "feedback",
        "fb recv",
        "denied",
        "errors"
    ));
    const NAMED: [&str; 7] =
        ["login", "upload", "receipt", "pickup", "pickup_ack", "feedback", "feedback_routed"];
    for (party, p) in &r.parties {
        let other: Vec<String> = p
            .actions
            .iter()
            .filter(|(a, _)| !NAMED.contains(&a.as_str()))
            .map(|(a, n)| format!("{}={n}", escape::text(a)))
            .collect();
        out.push_str(&format!(
            "{:<26} {:>8} {:>8} {:>6} {:>8} {:>10} {:>7} {:>8} {:>8} {:>6} {:>6}  {}\n",
            escape::text(party),
            p.logins_ok,
            p.logins_failed,
            p.files,
            p.records,
            p.deliveries,
            p.pickups + p.pickup_acks,
            p.feedback,
            p.feedback_received,
            p.denied,
            p.errors,
            other.join(" ")
        ));
    }
    out.push_str(&format!(
        "\nper day\n{:<10} {:>6} {:>8} {:>8} {:>6} {:>10} {:>7} {:>8} {:>6}\n",
        "day", "events", "login ok", "failed", "files", "deliveries", "pickups", "feedback", "denied"
    ));
    for (day, d) in &r.days {
        out.push_str(&format!(
            "{:<10} {:>6} {:>8} {:>8} {:>6} {:>10} {:>7} {:>8} {:>6}\n",
            day,
            d.events,
            d.logins_ok,
            d.logins_failed,
            d.files,
            d.deliveries,
            d.pickups,
            d.feedback,
            d.denied
        ));
    }
    out.push_str(&format!("\nanomalies: {}\n", r.anomalies.len()));
    for a in &r.anomalies {
        let line = match a {
            Anomaly::Errors { action, count } => {
                format!("{count} '{}' event(s) failed on our side", escape::text(action))
            }
            Anomaly::FailedLoginBurst { by, count, from, to } => {
                format!("failed-login burst: {count} by {} from {from} to {to}", escape::text(by))
            }
            Anomaly::UnpickedBundle { municipality, uitvoerder, period, version, delivered_at } => format!(
                "bundle {}_{}_v{version}{} delivered {delivered_at} not picked up",
                escape::text(municipality),
                escape::text(period),
                uitvoerder.as_ref().map(|e| format!("_{}", escape::text(e))).unwrap_or_default()
            ),
        };
        out.push_str(&format!("  - {line}\n"));
    }
    out
}
