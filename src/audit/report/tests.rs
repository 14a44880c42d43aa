//! Tests of the monthly report.

use serde_json::json;

use super::*;
use crate::audit::{Audit, Event, Outcome};
use crate::state::State;

fn t() -> Thresholds {
    Thresholds { burst_logins: 3, burst_minutes: 10, unpicked_days: 14 }
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Events of a small month, recorded through the real audit log.
fn month() -> (tempfile::TempDir, Vec<Record>) {
    let dir = tempfile::tempdir().unwrap();
    let a = Audit::open(State::open(&dir.path().join("s.db")).unwrap()).unwrap();
    let put = |ev: Event, ts: &str| {
        a.emit_at_blocking(ev, at(ts)).unwrap();
    };
    let login = |actor: &str, o: Outcome, origin: &str| Event::new(actor, "login", o).origin(origin);
    put(login("creditor:woonstad", Outcome::Ok, "10.0.0.1:5000"), "2026-11-02T08:00:00Z");
    put(
        Event::new("creditor:woonstad", "upload", Outcome::Ok).object(json!({"file_id": "F1"})),
        "2026-11-02T08:00:01Z",
    );
    put(
        Event::new("system", "receipt", Outcome::Ok)
            .object(json!({"creditor": "woonstad", "records": {"total": 12, "accepted": 10}})),
        "2026-11-02T08:00:02Z",
    );
    // A burst of four failed logins from one host within ten minutes, then one much later.
    for (i, ts) in ["09:00:00", "09:02:00", "09:04:00", "09:09:00", "15:00:00"].iter().enumerate() {
        put(
            login("unknown", Outcome::Denied, &format!("192.0.2.7:{}", 40000 + i)),
            &format!("2026-11-03T{ts}Z"),
        );
    }
    put(
        Event::new("system", "batch", Outcome::Ok).object(json!({"period": "2026-10", "version": 1,
            "municipalities": [{"gemeente": "GM0505", "households": 3, "signals": 5},
                               {"gemeente": "GM0599", "households": 1, "signals": 1}]})),
        "2026-11-26T01:00:00Z",
    );
    put(
        Event::new("gemeente:GM0505", "pickup", Outcome::Ok)
            .object(json!({"bundle": "GM0505_2026-10_v1_signalen.csv.age"})),
        "2026-11-27T10:00:00Z",
    );
    put(Event::new("gemeente:GM0505", "feedback", Outcome::Ok), "2026-11-28T10:00:00Z");
    put(
        Event::new("system", "feedback_routed", Outcome::Ok).object(json!({"creditor": "woonstad"})),
        "2026-11-28T10:00:01Z",
    );
    put(
        Event::new("operator", "shred", Outcome::Ok).object(json!({"period": "2026-04"})),
        "2026-11-29T03:00:00Z",
    );
    put(Event::new("system", "batch", Outcome::Error), "2026-11-29T04:00:00Z");
    // Next month: not counted.
    put(login("creditor:woonstad", Outcome::Ok, "10.0.0.1:5001"), "2026-12-01T08:00:00Z");
    let recs = a.records().unwrap();
    (dir, recs)
}

#[test]
fn counts_per_party_and_day() {
    let (_d, recs) = month();
    let p = Period::new(2026, 11).unwrap();
    let r = build(&recs, p, at("2026-12-20T00:00:00Z"), t());
    assert_eq!(r.events, 14);
    let w = &r.parties["creditor:woonstad"];
    assert_eq!((w.logins_ok, w.files, w.records, w.records_accepted, w.feedback_received), (1, 1, 12, 10, 1));
    let g = &r.parties["gemeente:GM0505"];
    assert_eq!((g.deliveries, g.signals_delivered, g.pickups, g.feedback), (1, 5, 1, 1));
    assert_eq!(r.parties["unknown"].logins_failed, 5);
    assert_eq!(r.parties["operator"].actions["shred"], 1, "new actions are counted by name");
    assert_eq!(r.days["2026-11-03"].logins_failed, 5);
    assert!(!r.days.contains_key("2026-12-01"));
}

#[test]
fn anomalies_bursts_unpicked_and_errors() {
    let (_d, recs) = month();
    let p = Period::new(2026, 11).unwrap();
    let r = build(&recs, p, at("2026-12-20T00:00:00Z"), t());
    let bursts: Vec<_> =
        r.anomalies.iter().filter(|a| matches!(a, Anomaly::FailedLoginBurst { .. })).collect();
    // One burst per key (the actor `unknown` and the host), each of the four close failures.
    assert_eq!(bursts.len(), 2, "{bursts:?}");
    assert!(bursts.iter().all(|b| matches!(b, Anomaly::FailedLoginBurst { count: 4, .. })));
    assert!(
        bursts.iter().any(|b| matches!(b, Anomaly::FailedLoginBurst { by, .. } if by == "origin 192.0.2.7"))
    );
    let unpicked: Vec<_> =
        r.anomalies.iter().filter(|a| matches!(a, Anomaly::UnpickedBundle { .. })).collect();
    assert_eq!(
        unpicked,
        vec![&Anomaly::UnpickedBundle {
            municipality: "GM0599".into(),
            uitvoerder: None,
            period: "2026-10".into(),
            version: 1,
            delivered_at: "2026-11-26T01:00:00.000Z".into()
        }]
    );
    assert!(r.anomalies.contains(&Anomaly::Errors { action: "batch".into(), count: 1 }));
    // Seen the day after delivery, nothing is overdue yet.
    let early = build(&recs, p, at("2026-11-27T00:00:00Z"), t());
    assert!(!early.anomalies.iter().any(|a| matches!(a, Anomaly::UnpickedBundle { .. })));
    // A higher burst threshold finds no burst.
    let calm = build(&recs, p, at("2026-12-20T00:00:00Z"), Thresholds { burst_logins: 5, ..t() });
    assert!(!calm.anomalies.iter().any(|a| matches!(a, Anomaly::FailedLoginBurst { .. })));
}

#[test]
fn an_executors_bundle_is_its_own_to_pick_up() {
    let dir = tempfile::tempdir().unwrap();
    let a = Audit::open(State::open(&dir.path().join("s.db")).unwrap()).unwrap();
    let put = |ev: Event, ts: &str| a.emit_at_blocking(ev, at(ts)).unwrap();
    put(
        Event::new("system", "batch", Outcome::Ok).object(json!({"period": "2026-10", "version": 1,
            "municipalities": [{"gemeente": "GM0505", "households": 0, "signals": 0}],
            "executors": [{"uitvoerder": "SDD", "gemeente": "GM0505", "households": 2, "signals": 3}]})),
        "2026-11-26T01:00:00Z",
    );
    // Dordrecht picks up its manifest; the executor's bundle of Dordrecht stays where it is.
    put(
        Event::new("gemeente:GM0505", "pickup", Outcome::Ok)
            .object(json!({"bundle": "GM0505_2026-10_v1_manifest.json"})),
        "2026-11-27T10:00:00Z",
    );
    let r = build(&a.records().unwrap(), Period::new(2026, 11).unwrap(), at("2026-12-20T00:00:00Z"), t());
    let sdd = &r.parties["uitvoerder:SDD"];
    assert_eq!((sdd.deliveries, sdd.signals_delivered), (1, 3));
    let unpicked: Vec<_> =
        r.anomalies.iter().filter(|a| matches!(a, Anomaly::UnpickedBundle { .. })).collect();
    assert_eq!(
        unpicked,
        vec![&Anomaly::UnpickedBundle {
            municipality: "GM0505".into(),
            uitvoerder: Some("SDD".into()),
            period: "2026-10".into(),
            version: 1,
            delivered_at: "2026-11-26T01:00:00.000Z".into()
        }]
    );
}
