//! Retention: `meldpunt check` refuses a retention shorter than the lookback; `meldpunt shred`
//! removes an expired period so that nothing of it is left anywhere in the data directory
//! (SQLite files included), and a kept copy of its sealed files can no longer be decrypted.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use common::scan::{all_files, found, sample, with_household};
use common::{bin, text};

fn meldpunt(config: &Path, args: &[&str]) -> Output {
    Command::new(bin()).args(args).arg("--config").arg(config).env("MELDPUNT_LOG", "warn").output().unwrap()
}

/// Values of the personal columns of a sample file.
fn personal_values(csv: &[u8]) -> BTreeSet<String> {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let wanted = ["referentie", "achternaam", "postcode", "straatnaam", "email", "telefoonnummer"];
    let mut out = BTreeSet::new();
    for l in lines {
        for (h, v) in header.iter().zip(l.split(';')) {
            if wanted.contains(h) && v.len() >= 4 {
                out.insert(v.to_owned());
            }
        }
    }
    out
}

#[test]
fn check_refuses_a_retention_shorter_than_the_lookback() {
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let mut t = std::fs::read_to_string(&inst.config).unwrap();
    t.push_str("\n[retention]\nmonths = 3\n");
    std::fs::write(&inst.config, &t).unwrap();
    let line = t.lines().position(|l| l == "months = 3").unwrap() + 1;
    let o = Command::new(bin()).arg("check").arg("--config").arg(&inst.config).output().unwrap();
    assert!(!o.status.success());
    let out = text(&o);
    assert!(
        out.contains(&format!(":{line}:")) && out.contains("lookback_months") && out.contains("at least 6"),
        "{out}"
    );
}

#[test]
fn shredding_a_period_leaves_nothing_of_it_and_its_sealed_copies_cannot_be_opened() {
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let data = inst.dir.join("data");
    // An old period (March 2025), batched and delivered; and this month's file, which must stay.
    let old_day = jiff::civil::Date::constant(2025, 3, 10);
    let old = sample("OLD", 7, old_day);
    let now_day = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let new = sample("NEW", 8, now_day);
    for (name, bytes, at) in [("old.csv", &old, Some("2025-03-10T11:00:00Z")), ("new.csv", &new, None)] {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let mut args = vec!["ingest", "--as", "woonstad", f.to_str().unwrap()];
        if let Some(at) = at {
            args.extend(["--received-at", at]);
        }
        let o = meldpunt(&inst.config, &args);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = meldpunt(&inst.config, &["batch", "run", "--period", "2025-03"]);
    assert!(o.status.success(), "{}", text(&o));
    let secret: BTreeSet<String> =
        personal_values(&old).difference(&personal_values(&new)).cloned().collect();
    assert!(secret.len() > 20, "{secret:?}");
    assert!(
        !found(&data, &secret).is_empty(),
        "before shredding the old period's data is there (the scan works)"
    );
    let sealed_copy = dir.path().join("copy");
    std::fs::create_dir_all(&sealed_copy).unwrap();
    for f in all_files(&data.join("vault/2025-03")) {
        std::fs::copy(&f, sealed_copy.join(f.file_name().unwrap())).unwrap();
    }

    let o = meldpunt(&inst.config, &["shred", "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2025-03") && text(&o).contains("would shred 1 period"), "{}", text(&o));
    assert!(data.join("keys/periods/2025-03").exists(), "a dry run removes nothing");

    // Killed right after the key is gone: the period is unreadable already; a second run
    // finishes it.
    let o = Command::new(bin())
        .args(["shred", "--config"])
        .arg(&inst.config)
        .env("MELDPUNT_LOG", "warn")
        .env("MELDPUNT_TEST_ABORT_SHRED_AFTER_KEY", "1")
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!data.join("keys/periods/2025-03").exists() && data.join("vault/2025-03").exists());
    let o = meldpunt(&inst.config, &["shred"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("shredded 1 period"), "{}", text(&o));
    let hits = found(&data, &secret);
    assert!(hits.is_empty(), "left after shredding: {hits:?}");
    assert!(!data.join("keys/periods/2025-03").exists() && !data.join("vault/2025-03").exists());
    let leftovers: Vec<_> =
        all_files(&data).into_iter().filter(|p| p.to_string_lossy().contains("2025-03")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // This month is untouched.
    let p = meldpunt::domain::period::Cutoff::default().period_of(jiff::Timestamp::now());
    assert!(
        data.join(format!("keys/periods/{p}")).exists()
            && !all_files(&data.join(format!("vault/{p}"))).is_empty()
    );
    // The copied sealed files open with no key that is left.
    let copies = all_files(&sealed_copy);
    assert!(!copies.is_empty());
    for c in &copies {
        for key in all_files(&data.join("keys/periods")) {
            let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(c).output().unwrap();
            assert!(!o.status.success(), "{} opened with {}", c.display(), key.display());
        }
    }
    // Audited with counts only, and a second run finds nothing more to do.
    let state = meldpunt::state::State::open(&data.join("state.db")).unwrap();
    let events = meldpunt::audit::Audit::new(state).records().unwrap();
    let ev = events.iter().find(|e| e.action == "shred").expect("shred audited");
    assert_eq!(ev.object["period"], "2025-03");
    assert_eq!(ev.object["key"], false, "the interrupted run had removed the key already");
    assert!(ev.object["sealed_files"].as_u64().unwrap() > 0, "{ev:?}");
    let o = meldpunt(&inst.config, &["shred"]);
    assert!(text(&o).contains("nothing is past its retention"), "{}", text(&o));
}

#[test]
fn inzage_exports_everything_about_one_person_and_nobody_else() {
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let now = jiff::Timestamp::now();
    let p = meldpunt::domain::period::Cutoff::default().period_of(now);
    // Three periods: two months back and last month by backfill, this month as received now.
    for (i, period) in [p.prev().prev(), p.prev(), p].into_iter().enumerate() {
        let on = if period == p {
            meldpunt::domain::period::local_date(now)
        } else {
            period.first_day().checked_add(jiff::ToSpan::days(9)).unwrap()
        };
        let f = dir.path().join(format!("f{i}.csv"));
        std::fs::write(&f, with_household(&format!("P{i}"), 30 + i as u64, on)).unwrap();
        let at =
            on.at(12, 0, 0, 0).to_zoned(meldpunt::domain::period::zone()).unwrap().timestamp().to_string();
        let mut args = vec!["ingest", "--as", "woonstad", f.to_str().unwrap()];
        if period != p {
            args.extend(["--received-at", &at]);
        }
        let o = meldpunt(&inst.config, &args);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = meldpunt(&inst.config, &["batch", "run", "--period", &p.to_string()]);
    assert!(o.status.success(), "{}", text(&o));

    let out = dir.path().join("inzage.json");
    let o = meldpunt(
        &inst.config,
        &[
            "inzage",
            "--postcode",
            "3311 ab",
            "--huisnummer",
            "10",
            "--achternaam",
            "jansen-test",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let signals = doc["signalen"].as_array().unwrap();
    let periods: BTreeSet<&str> = signals.iter().map(|s| s["periode"].as_str().unwrap()).collect();
    assert_eq!(periods.len(), 3, "one signal in each period: {doc}");
    assert_eq!(signals.len(), 3, "{doc}");
    for s in signals {
        assert_eq!(s["signaal"]["achternaam"], "Jansen-Test");
        assert_eq!(s["signaal"]["postcode"], "3311AB");
    }
    let text_out = std::fs::read_to_string(&out).unwrap();
    assert!(!text_out.contains("Pietersen"), "nobody else's data");
    let this = signals.iter().find(|s| s["periode"] == p.to_string().as_str()).unwrap();
    assert_eq!(this["geleverd_aan"]["gemeente"], "GM0505", "{this}");
    // The whole address: both people, in every period.
    let all = dir.path().join("adres.json");
    let o = meldpunt(
        &inst.config,
        &["inzage", "--postcode", "3311AB", "--huisnummer", "10", "--out", all.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&all).unwrap()).unwrap();
    assert_eq!(doc["signalen"].as_array().unwrap().len(), 6, "{doc}");
    // Audited with counts, never the address.
    let state = meldpunt::state::State::open(&inst.dir.join("data/state.db")).unwrap();
    let events = meldpunt::audit::Audit::new(state).records().unwrap();
    let ev: Vec<_> = events.iter().filter(|e| e.action == "inzage").collect();
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0].object["signals"], 3);
    assert!(events.iter().all(|e| !e.object.to_string().contains("3311")), "no postcode in the audit");
    // An existing file is never overwritten.
    let o = meldpunt(
        &inst.config,
        &["inzage", "--postcode", "3311AB", "--huisnummer", "10", "--out", all.to_str().unwrap()],
    );
    assert!(!o.status.success() && text(&o).contains("must not exist"), "{}", text(&o));
}
