//! `meldpunt status --json`: the facts of the text, PROBLEM lines included, as one document.

use crate::common::{delivered, local_file, meldpunt, sample_csv, text};

#[test]
fn status_json_has_the_facts_of_the_text_and_its_problems() {
    let (s, p) = delivered();
    // A file for the next period, then the period after it delivered (early): the next one
    // is skipped, a PROBLEM once it is closed (described as at 70 days from now).
    let f = local_file(&s, "next.csv", &sample_csv("Z", "woninghuur", 3));
    let o = meldpunt(&s, &["ingest", f.to_str().unwrap(), "--as", "woonstad"]);
    assert!(o.status.success(), "{}", text(&o));
    let after = p.next().next().to_string();
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &after]);
    assert!(o.status.success(), "{}", text(&o));
    let at = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 70)).to_string();
    let o = meldpunt(&s, &["status", "--at", &at]);
    assert!(o.status.success(), "{}", text(&o));
    let plain = String::from_utf8(o.stdout).unwrap();
    let o = meldpunt(&s, &["status", "--json", "--at", &at]);
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();

    assert_eq!((doc["version"].as_u64(), doc["installed"].as_bool()), (Some(1), Some(true)), "{doc:#}");
    assert_eq!(doc["batch"]["last_delivered"], after, "{doc:#}");
    let row = doc["periods"].as_array().unwrap().iter().find(|r| r["period"] == p.to_string()).unwrap();
    assert_eq!(row["batch"], serde_json::json!({ "version": 1, "status": "delivered" }), "{doc:#}");
    assert_eq!((row["files"].as_u64(), row["creditors"].as_u64()), (Some(3), Some(3)), "{doc:#}");
    assert!(row["shred_from"].as_str().is_some_and(|d| d.len() == 10), "{doc:#}");
    assert_eq!(doc["pickup"]["waiting"].as_array().unwrap().len(), 2, "{doc:#}");
    assert!(doc["pickup"]["files_waiting"].as_u64().unwrap() >= 2, "{doc:#}");
    // Every PROBLEM line of the text is in `problems`, and only those.
    let problems: Vec<&str> = plain.lines().filter_map(|l| l.strip_prefix("PROBLEM  ")).collect();
    let skipped = format!("{} is closed and holds 1 accepted file(s)", p.next());
    assert!(problems.iter().any(|l| l.starts_with(&skipped)), "the skipped period is named: {plain}");
    let listed: Vec<&str> = doc["problems"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(listed, problems, "{doc:#}");
    assert!(plain.contains(&format!("last delivered period: {after}")), "{plain}");
}
