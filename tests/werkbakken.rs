//! Bundles a case worker can act on (docs/bundles.md, docs/feedback.md), against the real daemon:
//!
//! - every bundle row carries the creditor's `referentie_signaalpartner`, and a terugmelding that
//!   names signals by creditor and reference reaches those creditors (read back with the real
//!   `age` CLI and Python's `csv` module);
//! - the Drechtsteden queue rules of the demo put each signal of a generated month in the queue
//!   an independent reading of the bundle's own columns expects; a leave-out rule removes
//!   exactly the signals it holds for, and their creditors' batch reports say `left_out`
//!   without naming the rule;
//! - `meldpunt check` refuses a rule with an unknown field, kind or queue, naming its line.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::{Server, local_file, text};

/// Reads a decrypted CSV bundle with Python's csv module: a list of {column: value} rows.
const PY_ROWS: &str = r#"
import csv, json, sys
print(json.dumps(list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))))
"#;

/// The creditors of the generated month: (party, referentie prefix, kind).
const MONTH: [(&str, &str, &str); 3] =
    [("woonstad", "W", "woninghuur"), ("vitens", "V", "drinkwater"), ("eneco", "E", "elektriciteit")];

/// A generated month's file for one creditor, with variety the queue rules look at: every 3rd
/// record a small amount, every 7th a crisis signal, every 5th electricity record about to be
/// cut off.
fn month_file(prefix: &str, kind: &str, seed: u64) -> Vec<u8> {
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let mut csv = Vec::new();
    meldpunt::demo::sample::write_csv(&mut csv, prefix, kind.parse().unwrap(), 40, 40, seed, today).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut out = format!("{}\n", header.join(";"));
    for (i, line) in lines.enumerate() {
        let mut f: Vec<String> = line.split(';').map(str::to_owned).collect();
        if i % 3 == 0 {
            f[col("bedrag")] = format!("{},00", 20 + i);
        }
        if i % 7 == 0 {
            f[col("crisissignaal")] = "ja".into();
        }
        if kind == "elektriciteit" && i % 5 == 0 {
            f[col("fase")] = "eindelevering".into();
        }
        out.push_str(&f.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}

/// Starts a demo daemon (with `edit` applied to its configuration), pushes the generated month
/// over SFTP and runs the batch; returns the server.
fn batched(edit: impl FnOnce(&mut String)) -> Server {
    let s = Server::start_with(edit);
    for (i, (party, prefix, kind)) in MONTH.into_iter().enumerate() {
        let f = local_file(&s, &format!("{party}.csv"), &month_file(prefix, kind, 70 + i as u64));
        let o = s.sftp(party, &s.key(party), &format!("put {} /inbox/{party}.csv\n", f.display()));
        assert!(o.status.success(), "{}", text(&o));
        let receipt = &s.wait_receipts(party, 1)[0];
        assert_eq!(receipt["records"]["rejected"], 0, "{receipt}");
    }
    common::run_batch(&s);
    s
}

/// The rows of `code`'s CSV bundle, decrypted with the `age` CLI and read with Python's csv.
fn bundle_rows(s: &Server, code: &str) -> Vec<BTreeMap<String, String>> {
    let dir = s.data().join("parties").join(code).join("pickup");
    let bundle = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_signalen.csv.age"))
        .unwrap_or_else(|| panic!("no CSV bundle in {}", dir.display()));
    let key = s.inst.dir.join("clients").join(code).join("age.key");
    let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(&bundle).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let plain = s.tmp.path().join(format!("{code}.csv"));
    std::fs::write(&plain, &o.stdout).unwrap();
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(python).arg("-c").arg(PY_ROWS).arg(&plain).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Every creditor's batch report of the run: (creditor, entry) per signal.
fn batch_reports(s: &Server) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for (party, _, _) in MONTH {
        let dir = s.data().join("parties").join(party).join("receipts");
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("batch_") && name.ends_with(".json") {
                let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                for entry in report["signals"].as_array().unwrap() {
                    out.push((party.to_owned(), entry.clone()));
                }
            }
        }
    }
    out
}

/// Euros as the bundle writes them (`1234,56`), in cents.
fn cents(s: &str) -> u64 {
    let (euros, cents) = s.split_once(',').unwrap();
    euros.parse::<u64>().unwrap() * 100 + cents.parse::<u64>().unwrap()
}

/// The queue the Drechtsteden rules give a bundle row, read from the row's own columns.
fn expected_queue(row: &BTreeMap<String, String>) -> &'static str {
    if row["crisissignaal"] == "ja" || row["fase"] == "eindelevering" {
        "sdd"
    } else if cents(&row["totaal_achterstand_huishouden"]) >= 500_00 {
        "brief_en_bellen"
    } else {
        "brief"
    }
}

#[test]
fn bundle_rows_carry_the_referentie_and_feedback_by_reference_reaches_the_creditor() {
    let s = batched(|_| {});
    let rows = bundle_rows(&s, "GM0505");
    assert!(rows.len() > 20, "{}", rows.len());
    // Each row's reference is the one its creditor's batch report gives for its signal id.
    let reported: BTreeMap<String, (String, String)> = batch_reports(&s)
        .into_iter()
        .filter(|(_, e)| e["delivered"] == true)
        .map(|(c, e)| {
            (e["signaal_id"].as_str().unwrap().to_owned(), (c, e["referentie"].as_str().unwrap().to_owned()))
        })
        .collect();
    for row in &rows {
        let (_, referentie) = &reported[&row["signaal_id"]];
        assert_eq!(&row["referentie_signaalpartner"], referentie, "{row:?}");
    }

    // A terugmelding naming three signals by creditor (name or id) and reference only, and one
    // reference that was never delivered.
    let picked: Vec<&BTreeMap<String, String>> = rows.iter().step_by(rows.len() / 3).take(3).collect();
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let mut file = String::from("signaalpartner;referentie_signaalpartner;resultaat;datum\n");
    for (i, row) in picked.iter().enumerate() {
        let partner =
            if i == 0 { reported[&row["signaal_id"]].0.clone() } else { row["signaalpartner"].clone() };
        file.push_str(&format!("{partner};{};quick_fix;{today}\n", row["referentie_signaalpartner"]));
    }
    file.push_str(&format!("Vitens;V-99999999;quick_fix;{today}\n"));
    let f = local_file(&s, "terugmelding.csv", file.as_bytes());
    let (code, body) = s.curl(
        "GM0505",
        &["-X", "POST", "--data-binary", &format!("@{}", f.display())],
        "/v1/feedback?name=terugmelding.csv",
    );
    assert_eq!(code, 201, "{body}");
    let receipt: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(receipt["lines"]["accepted"], 3, "{receipt}");
    assert_eq!(receipt["errors"][0]["code"], "referentie_unknown", "{receipt}");
    assert_eq!(receipt["errors"][0]["line"], 5, "{receipt}");

    // Each creditor's feedback file holds its own references, and only those.
    for row in picked {
        let (creditor, referentie) = &reported[&row["signaal_id"]];
        let dir = s.data().join("parties").join(creditor).join("feedback");
        let got: String = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        assert!(got.contains(&format!("{referentie};opgepakt;{today}")), "{creditor}: {got}");
    }
}

#[test]
fn queue_rules_sort_every_signal_and_a_leave_out_rule_removes_exactly_those() {
    // The demo's Dordrecht has the Drechtsteden rules (sdd, brief_en_bellen, brief).
    let s = batched(|_| {});
    let rows = bundle_rows(&s, "GM0505");
    let mut per_queue: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &rows {
        assert_eq!(row["werkbak"], expected_queue(row), "{row:?}");
        *per_queue.entry(expected_queue(row)).or_default() += 1;
    }
    assert_eq!(per_queue.len(), 3, "every queue gets signals in this month: {per_queue:?}");
    let manifest = std::fs::read_dir(s.data().join("parties/GM0505/pickup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_manifest.json"))
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(manifest).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["per_werkbak"], serde_json::json!(per_queue), "{manifest}");
    // `batch run --dry-run` prints the same counts.
    let period = meldpunt::domain::period::Cutoff::default().period_of(jiff::Timestamp::now());
    let o = Command::new(common::bin())
        .args(["batch", "run", "--dry-run", "--period", &period.to_string(), "--config"])
        .arg(&s.inst.config)
        .env("MELDPUNT_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let counts: Vec<String> = per_queue.iter().map(|(q, n)| format!("{q} {n}")).collect();
    let line = format!("GM0505 werkbakken: {}", counts.join(", "));
    assert!(String::from_utf8_lossy(&o.stdout).lines().any(|l| l == line), "{line}: {}", text(&o));
    // Zwijndrecht has no rules: an empty werkbak, no per_werkbak counts.
    assert!(bundle_rows(&s, "GM0642").iter().all(|r| r["werkbak"].is_empty()));
    let all: BTreeSet<(String, String)> =
        rows.iter().map(|r| (r["signaalpartner"].clone(), r["referentie_signaalpartner"].clone())).collect();
    // What a leave-out rule after the sdd rules will hold for: a household total under € 300.
    let small: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| expected_queue(r) != "sdd" && cents(&r["totaal_achterstand_huishouden"]) < 300_00)
        .map(|r| (r["signaalpartner"].clone(), r["referentie_signaalpartner"].clone()))
        .collect();
    assert!(!small.is_empty(), "the month has small households");
    drop(s);

    let s = batched(|config| {
        let rule = "[[municipality.werkbak_rule]]\nwerkbak = \"brief_en_bellen\"\n";
        assert!(config.contains(rule));
        *config = config.replacen(
            rule,
            &format!("[[municipality.werkbak_rule]]\nleave_out = true\ntotal_below = 300.00\n{rule}"),
            1,
        );
    });
    let kept: BTreeSet<(String, String)> = bundle_rows(&s, "GM0505")
        .iter()
        .map(|r| (r["signaalpartner"].clone(), r["referentie_signaalpartner"].clone()))
        .collect();
    assert_eq!(kept, all.difference(&small).cloned().collect::<BTreeSet<_>>());
    // Their creditors' reports say left_out, and nothing of the rule.
    let left_out: Vec<serde_json::Value> =
        batch_reports(&s).into_iter().map(|(_, e)| e).filter(|e| e["reason"] == "left_out").collect();
    assert_eq!(left_out.len(), small.len());
    for e in &left_out {
        assert_eq!(e["delivered"], false);
        assert_eq!(e["gemeente"], "GM0505");
        let message = e["message"].as_str().unwrap();
        for rule_word in ["300", "total", "werkbak", "rule", "brief"] {
            assert!(!message.contains(rule_word), "{message}");
        }
    }
}

#[test]
fn check_names_the_line_of_a_bad_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&tmp.path().join("inst")).unwrap();
    let good = std::fs::read_to_string(&inst.config).unwrap();
    let rule = "[[municipality.werkbak_rule]]\nwerkbak = \"brief\"\n";
    for (bad, message) in [
        ("werkbak = \"brief\"\nbedrag_vanaf = 10\n", "unknown field `bedrag_vanaf`"),
        ("werkbak = \"brief\"\nsoort = [\"huur\"]\n", "'huur' is not known here"),
        ("werkbak = \"bellen\"\n", "werkbak 'bellen' is not one of the queues of GM0505"),
    ] {
        let config = good.replacen(rule, &format!("[[municipality.werkbak_rule]]\n{bad}"), 1);
        std::fs::write(&inst.config, &config).unwrap();
        let line =
            1 + config[..config.find(bad).unwrap()].matches('\n').count() + bad.matches('\n').count() - 1;
        let o = Command::new(common::bin()).args(["check", "--config"]).arg(&inst.config).output().unwrap();
        assert!(!o.status.success());
        let out = text(&o);
        let at = format!("meldpunt.toml:{line}:");
        assert!(out.lines().any(|l| l.contains(&at) && l.contains(message)), "{at} {message}: {out}");
    }
}
