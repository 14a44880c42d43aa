//! The monthly review report (pure: records in, report out): per party and per day, and the
//! anomalies an officer should look at. Action names it relies on are listed in the module
//! docs of [`crate::audit`].

use std::collections::{BTreeMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use super::{Outcome, Record};
use crate::domain::period::{Period, local_date, zone};

/// Thresholds for anomalies.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Failed logins (per actor or per origin) that make a burst …
    pub burst_logins: usize,
    /// … within this many minutes.
    pub burst_minutes: i64,
    /// A delivered bundle not picked up after this many days is an anomaly.
    pub unpicked_days: i64,
}

/// Counts for one party (actor).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PartyStats {
    /// Successful logins.
    pub logins_ok: u64,
    /// Refused logins.
    pub logins_failed: u64,
    /// Files uploaded and answered with a receipt.
    pub files: u64,
    /// Records in those files (receipts' totals).
    pub records: u64,
    /// Records accepted.
    pub records_accepted: u64,
    /// Bundles delivered to it (municipalities).
    pub deliveries: u64,
    /// Signals in those bundles.
    pub signals_delivered: u64,
    /// Bundle files read (`pickup`).
    pub pickups: u64,
    /// Bundle files removed after pickup (`pickup_ack`).
    pub pickup_acks: u64,
    /// Feedback files sent (municipalities).
    pub feedback: u64,
    /// Feedback routed to it (creditors).
    pub feedback_received: u64,
    /// Events with outcome `denied`.
    pub denied: u64,
    /// Events with outcome `error`.
    pub errors: u64,
    /// Every action by this actor, counted by name (`shred`, `erase`, … included).
    pub actions: BTreeMap<String, u64>,
}

/// Counts for one day (Europe/Amsterdam).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DayStats {
    /// All events.
    pub events: u64,
    /// Successful logins.
    pub logins_ok: u64,
    /// Refused logins.
    pub logins_failed: u64,
    /// Files received.
    pub files: u64,
    /// Bundles delivered.
    pub deliveries: u64,
    /// Pickups and pickup acknowledgements.
    pub pickups: u64,
    /// Feedback files.
    pub feedback: u64,
    /// Denied events.
    pub denied: u64,
}

/// Something to look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anomaly {
    /// Events that failed on meldpunt's side.
    Errors {
        /// The action.
        action: String,
        /// How many.
        count: u64,
    },
    /// Many failed logins close together.
    FailedLoginBurst {
        /// `actor <actor>` or `origin <address>`.
        by: String,
        /// Failed logins in the burst.
        count: u64,
        /// First of them.
        from: String,
        /// Last of them.
        to: String,
    },
    /// A delivered bundle nobody picked up in time.
    UnpickedBundle {
        /// The municipality.
        #[serde(rename = "gemeente")]
        municipality: String,
        /// The executor whose bundle of that municipality it is, if it is not the
        /// municipality's own.
        #[serde(skip_serializing_if = "Option::is_none")]
        uitvoerder: Option<String>,
        /// Bundle period.
        period: String,
        /// Bundle version.
        version: u64,
        /// When it was delivered.
        delivered_at: String,
    },
}

/// The monthly report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The period, YYYY-MM.
    pub period: String,
    /// Events in the period.
    pub events: u64,
    /// Per actor.
    pub parties: BTreeMap<String, PartyStats>,
    /// Per local day.
    pub days: BTreeMap<String, DayStats>,
    /// What to look at.
    pub anomalies: Vec<Anomaly>,
}

struct Delivery {
    /// Who picks it up: `gemeente:<code>` or `uitvoerder:<id>`.
    actor: String,
    municipality: String,
    period: String,
    version: u64,
    at: Timestamp,
}

fn ts(r: &Record) -> Timestamp {
    r.ts.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

fn str_field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn num(v: &Value, path: &[&str]) -> u64 {
    path.iter().try_fold(v, |v, k| v.get(*k)).and_then(Value::as_u64).unwrap_or(0)
}

/// Deliveries an event records: each municipality of a `batch` event, or a `delivery` event.
/// The deliveries an event records: (receiving actor, municipality, signals); an executor's
/// bundles of a municipality (`executors` of a `batch` event) are received by `uitvoerder:<id>`.
fn deliveries(r: &Record) -> Vec<(String, String, u64)> {
    if r.outcome != Outcome::Ok {
        return Vec::new();
    }
    let entries = |key: &str| r.object.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    match r.action.as_str() {
        "batch" => {
            let own = entries("municipalities").into_iter().filter_map(|m| {
                let g = str_field(&m, "gemeente")?.to_owned();
                Some((format!("gemeente:{g}"), g, num(&m, &["signals"])))
            });
            let executors = entries("executors").into_iter().filter_map(|e| {
                let g = str_field(&e, "gemeente")?.to_owned();
                Some((format!("uitvoerder:{}", str_field(&e, "uitvoerder")?), g, num(&e, &["signals"])))
            });
            own.chain(executors).collect()
        }
        "delivery" => str_field(&r.object, "gemeente")
            .map(|g| vec![(format!("gemeente:{g}"), g.to_owned(), num(&r.object, &["signals"]))])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Builds the report of `period` from every record (later ones count for pickups), as seen at
/// `now`.
pub fn build(records: &[Record], period: Period, now: Timestamp, t: Thresholds) -> Report {
    let tz = zone();
    let bound = |p: Period| p.first_day().to_zoned(tz.clone()).map(|z| z.timestamp()).unwrap_or(now);
    let (from, to) = (bound(period), bound(period.next()));
    let mut rep = Report {
        period: period.to_string(),
        events: 0,
        parties: BTreeMap::new(),
        days: BTreeMap::new(),
        anomalies: Vec::new(),
    };
    let mut delivered = Vec::new();
    let mut failed: BTreeMap<String, Vec<Timestamp>> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for r in records.iter().filter(|r| (from..to).contains(&ts(r))) {
        let at = ts(r);
        rep.events += 1;
        let day = rep.days.entry(local_date(at).to_string()).or_default();
        day.events += 1;
        let p = rep.parties.entry(r.actor.clone()).or_default();
        *p.actions.entry(r.action.clone()).or_default() += 1;
        match r.outcome {
            Outcome::Ok => {}
            Outcome::Denied => {
                p.denied += 1;
                day.denied += 1;
            }
            Outcome::Error => {
                p.errors += 1;
                *errors.entry(r.action.clone()).or_default() += 1;
            }
        }
        let ok = r.outcome == Outcome::Ok;
        match r.action.as_str() {
            "login" if ok => {
                p.logins_ok += 1;
                day.logins_ok += 1;
            }
            "login" => {
                p.logins_failed += 1;
                day.logins_failed += 1;
                failed.entry(format!("actor {}", r.actor)).or_default().push(at);
                if let Some(o) = &r.origin {
                    // The port differs per connection; a burst is per host.
                    let host = o.rsplit_once(':').map_or(o.as_str(), |(h, _)| h);
                    failed.entry(format!("origin {host}")).or_default().push(at);
                }
            }
            "upload" if ok => {
                p.files += 1;
                day.files += 1;
            }
            "pickup" | "pickup_ack" => {
                if r.action == "pickup" {
                    p.pickups += 1
                } else {
                    p.pickup_acks += 1
                }
                day.pickups += 1;
            }
            "feedback" if ok => {
                p.feedback += 1;
                day.feedback += 1;
            }
            _ => {}
        }
        let other = |key: Option<&str>, prefix: &str| key.map(|k| format!("{prefix}:{k}"));
        if r.action == "receipt"
            && let Some(c) = other(str_field(&r.object, "creditor"), "creditor")
        {
            let p = rep.parties.entry(c).or_default();
            p.records += num(&r.object, &["records", "total"]);
            p.records_accepted += num(&r.object, &["records", "accepted"]);
        }
        if r.action == "feedback_routed"
            && let Some(c) = other(str_field(&r.object, "creditor"), "creditor")
        {
            rep.parties.entry(c).or_default().feedback_received += 1;
        }
        for (actor, g, signals) in deliveries(r) {
            let p = rep.parties.entry(actor.clone()).or_default();
            p.deliveries += 1;
            p.signals_delivered += signals;
            if let Some(day) = rep.days.get_mut(&local_date(at).to_string()) {
                day.deliveries += 1;
            }
            let period = str_field(&r.object, "period").unwrap_or_default().to_owned();
            delivered.push(Delivery {
                actor,
                municipality: g,
                period,
                version: num(&r.object, &["version"]),
                at,
            });
        }
    }
    for (action, count) in errors {
        rep.anomalies.push(Anomaly::Errors { action, count });
    }
    for (by, times) in failed {
        bursts(&by, &times, t, &mut rep.anomalies);
    }
    for d in delivered {
        let prefix = format!("{}_{}_v{}_", d.municipality, d.period, d.version);
        let picked = records.iter().any(|r| {
            matches!(r.action.as_str(), "pickup" | "pickup_ack")
                && r.actor == d.actor
                && ts(r) >= d.at
                && str_field(&r.object, "bundle").is_some_and(|b| b.starts_with(&prefix))
        });
        if !picked && now.duration_since(d.at) > SignedDuration::from_hours(24 * t.unpicked_days) {
            rep.anomalies.push(Anomaly::UnpickedBundle {
                uitvoerder: d.actor.strip_prefix("uitvoerder:").map(str::to_owned),
                municipality: d.municipality,
                period: d.period,
                version: d.version,
                delivered_at: format!("{:.3}", d.at),
            });
        }
    }
    rep
}

/// Finds runs of at least `burst_logins` failures within `burst_minutes` (overlapping
/// windows merge into one burst).
fn bursts(by: &str, times: &[Timestamp], t: Thresholds, out: &mut Vec<Anomaly>) {
    let window = SignedDuration::from_mins(t.burst_minutes);
    let mut win: VecDeque<Timestamp> = VecDeque::new();
    let mut current: Option<(Timestamp, Timestamp, u64)> = None;
    let flush = |c: Option<(Timestamp, Timestamp, u64)>, out: &mut Vec<Anomaly>| {
        if let Some((from, to, count)) = c {
            out.push(Anomaly::FailedLoginBurst {
                by: by.to_owned(),
                count,
                from: format!("{from:.3}"),
                to: format!("{to:.3}"),
            });
        }
    };
    for &at in times {
        while win.front().is_some_and(|f| at.duration_since(*f) > window) {
            win.pop_front();
        }
        win.push_back(at);
        let in_burst = win.len() >= t.burst_logins.max(1);
        current = match current {
            // Still within the window of the burst's last failure: it goes on.
            Some((from, to, n)) if at.duration_since(to) <= window => Some((from, at, n + 1)),
            c if in_burst => {
                flush(c, out);
                Some((win[0], at, win.len() as u64))
            }
            c => c,
        };
    }
    flush(current, out);
}

#[cfg(test)]
mod tests;
