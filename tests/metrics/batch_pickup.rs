//! The last batch run's gauges against the creditors' batch reports, and the pickup gauges
//! before and after a municipality picks its bundles up.

use std::collections::BTreeMap;

use crate::common::{delivered, text};
use crate::{now, scrape, value};

#[test]
fn batch_gauges_agree_with_the_reports_and_a_pickup_moves_the_pickup_gauges() {
    let before = now();
    let (s, p) = delivered();
    let after = now();
    let m = scrape(&s);

    // What the creditors' own reports say: delivered, and per reason not delivered.
    let mut outcomes: BTreeMap<String, f64> = BTreeMap::new();
    for party in std::fs::read_dir(s.data().join("parties")).unwrap().flatten() {
        let Ok(bytes) = std::fs::read(party.path().join("receipts").join(format!("batch_{p}.json"))) else {
            continue;
        };
        let report: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for e in report["signals"].as_array().unwrap() {
            let outcome = if e["delivered"] == true { "delivered" } else { e["reason"].as_str().unwrap() };
            *outcomes.entry(outcome.to_owned()).or_default() += 1.0;
        }
    }
    assert!(outcomes.get("delivered").is_some_and(|n| *n > 0.0), "{outcomes:?}");
    let labels = format!("period=\"{p}\",version=\"1\"");
    let series = |o: &str| format!("meldpunt_batch_last_run_signals{{{labels},outcome=\"{o}\"}}");
    for (outcome, n) in &outcomes {
        assert_eq!(value(&m, &series(outcome)), *n, "{outcome}");
    }
    // Every outcome is listed, those the reports do not have at zero.
    for reason in ["unroutable", "municipality_not_configured", "no_agreement", "below_threshold", "left_out"]
    {
        assert_eq!(value(&m, &series(reason)), outcomes.get(reason).copied().unwrap_or(0.0), "{reason}");
    }
    let ended = value(&m, &format!("meldpunt_batch_last_run_timestamp_seconds{{{labels}}}"));
    assert!((before..=after).contains(&ended), "{before} <= {ended} <= {after}");
    let took = value(&m, &format!("meldpunt_batch_last_run_duration_seconds{{{labels}}}"));
    assert!((0.0..=after - before).contains(&took), "{took}");

    // Each municipality's bundles wait in its pickup folder.
    let mut waiting = BTreeMap::new();
    for party in std::fs::read_dir(s.data().join("parties")).unwrap().flatten() {
        let code = party.file_name().to_string_lossy().into_owned();
        let Ok(rd) = std::fs::read_dir(party.path().join("pickup")) else { continue };
        let n = rd.flatten().filter(|f| f.file_name().to_string_lossy().ends_with(".age")).count();
        waiting.insert(code, n as f64);
    }
    let (code, n) = waiting.iter().find(|(_, n)| **n > 0.0).map(|(c, n)| (c.clone(), *n)).expect("a bundle");
    for (c, n) in &waiting {
        assert_eq!(value(&m, &format!("meldpunt_pickup_bundles{{gemeente=\"{c}\",state=\"unpicked\"}}")), *n);
        assert_eq!(
            value(&m, &format!("meldpunt_pickup_bundles{{gemeente=\"{c}\",state=\"picked_up\"}}")),
            0.0
        );
    }
    let age = format!("meldpunt_pickup_oldest_unpicked_age_seconds{{gemeente=\"{code}\"}}");
    assert!((0.0..=now() - before + 1.0).contains(&value(&m, &age)), "{}", value(&m, &age));

    let got = s.tmp.path().join("got");
    std::fs::create_dir_all(&got).unwrap();
    let o = s.sftp(&code, &s.key(&code), &format!("get /pickup/*.age {}/\n", got.display()));
    assert!(o.status.success(), "{}", text(&o));
    let m = scrape(&s);
    assert_eq!(value(&m, &format!("meldpunt_pickup_bundles{{gemeente=\"{code}\",state=\"picked_up\"}}")), n);
    assert_eq!(value(&m, &format!("meldpunt_pickup_bundles{{gemeente=\"{code}\",state=\"unpicked\"}}")), 0.0);
    assert_eq!(value(&m, &age), 0.0, "nothing waits any more");
}
