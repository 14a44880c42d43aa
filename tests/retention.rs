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

/// `meldpunt check` of a demo installation with `retention` appended: its text and the output.
fn check_with(retention: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let mut t = std::fs::read_to_string(&inst.config).unwrap();
    t.push_str(retention);
    std::fs::write(&inst.config, &t).unwrap();
    let o = Command::new(bin()).arg("check").arg("--config").arg(&inst.config).output().unwrap();
    assert!(!o.status.success());
    (t, text(&o))
}

#[test]
fn check_refuses_a_retention_shorter_than_the_lookback() {
    let (t, out) = check_with("\n[retention]\nmonths = 3\n");
    let line = t.lines().position(|l| l == "months = 3").unwrap() + 1;
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
    let events = meldpunt::audit::Audit::open(state).unwrap().records().unwrap();
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
    let o = meldpunt(&inst.config, &["batch", "run", "--early", "--period", &p.to_string()]);
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
    let events = meldpunt::audit::Audit::open(state).unwrap().records().unwrap();
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

#[test]
fn check_refuses_a_window_longer_than_the_retention() {
    let (t, out) = check_with("\n[retention]\nmonths = 6\nrejected_days = 200\nbatch_report_months = 7\n");
    let line = |l: &str| t.lines().position(|x| x == l).unwrap() + 1;
    for (l, fix) in
        [("rejected_days = 200", "at most 168 days"), ("batch_report_months = 7", "at most 6 months")]
    {
        assert!(out.contains(&format!(":{}:", line(l))) && out.contains(fix), "{out}");
    }
}

/// When something received at `at` is due after `months` calendar months (Amsterdam time).
fn after_months(at: jiff::Timestamp, months: i64) -> jiff::Timestamp {
    at.to_zoned(meldpunt::domain::period::zone())
        .checked_add(jiff::ToSpan::months(months))
        .unwrap()
        .timestamp()
}

fn mtime(p: &Path) -> jiff::Timestamp {
    jiff::Timestamp::try_from(std::fs::metadata(p).unwrap().modified().unwrap()).unwrap()
}

#[test]
fn each_shorter_window_removes_its_kind_on_its_day_and_not_earlier() {
    use jiff::SignedDuration;
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let data = inst.dir.join("data");
    let now = jiff::Timestamp::now();
    let p = meldpunt::domain::period::Cutoff::default().period_of(now);
    // A structurally rejected upload, and a good one that is batched (a batch report).
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, b"this is not a signal file\n").unwrap();
    let o = meldpunt(&inst.config, &["ingest", "--as", "woonstad", bad.to_str().unwrap()]);
    assert!(text(&o).contains("rejected"), "{}", text(&o));
    let good = dir.path().join("good.csv");
    std::fs::write(&good, sample("W", 3, meldpunt::domain::period::local_date(now))).unwrap();
    let o = meldpunt(&inst.config, &["ingest", "--as", "woonstad", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = meldpunt(&inst.config, &["ingest", "--as", "woonstad", good.to_str().unwrap()]);
    assert!(text(&o).contains("duplicate"), "{}", text(&o));
    let o = meldpunt(&inst.config, &["batch", "run", "--early", "--period", &p.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    let receipts = data.join("parties/woonstad/receipts");
    let report = receipts.join(format!("batch_{p}.json"));
    assert!(report.exists());
    let receipt_of = |status: &str| -> serde_json::Value {
        std::fs::read_dir(&receipts)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".receipt.json"))
            .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
            .find(|r: &serde_json::Value| r["status"] == status)
            .unwrap()
    };
    let rejected = receipt_of("rejected");
    let dup = receipt_of("duplicate");
    let dup_at: jiff::Timestamp = dup["received_at"].as_str().unwrap().parse().unwrap();
    let dup_files = ["json", "txt"].map(|e| receipts.join(format!("{}.{e}", common::receipt_base(&dup))));
    let rejected_at: jiff::Timestamp = rejected["received_at"].as_str().unwrap().parse().unwrap();
    let rejected_files =
        ["json", "txt"].map(|e| receipts.join(format!("{}.{e}", common::receipt_base(&rejected))));
    // Two terugmelding files from GM0505: one with a good line, one rejected.
    let config = std::sync::Arc::new(meldpunt::config::Config::load(&inst.config).unwrap());
    let layout = meldpunt::layout::Layout::new(&config.data_dir);
    let (feedback_at, ran_at) = {
        let app = meldpunt::app::App::open(config.clone(), layout.clone()).unwrap();
        let signal: String = app
            .state()
            .lock()
            .query_row("SELECT signal_id FROM delivered WHERE municipality = 'GM0505' LIMIT 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        let ran: String =
            app.state().lock().query_row("SELECT finished_at FROM batches", [], |r| r.get(0)).unwrap();
        let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
        let mut at = Vec::new();
        for body in [format!("signaal_id;resultaat;datum\n{signal};quick_fix;{today}\n"), "nonsense\n".into()]
        {
            let r = meldpunt::feedback::process(
                &app,
                meldpunt::feedback::Incoming {
                    sender: meldpunt::domain::party::Receiver::Municipality(
                        meldpunt::domain::party::MunicipalityCode::parse("GM0505").unwrap(),
                    ),
                    name: "t.csv".into(),
                    bytes: body.into_bytes(),
                    auth: "test".into(),
                    origin: "test".into(),
                    protocol: "sftp",
                },
            )
            .unwrap();
            at.push(r.received_at.parse::<jiff::Timestamp>().unwrap());
        }
        (at, ran.parse::<jiff::Timestamp>().unwrap())
    };
    let gm_receipts = || {
        std::fs::read_dir(data.join("parties/GM0505/receipts"))
            .map(|rd| rd.flatten().filter(|e| e.file_name().to_string_lossy().contains(".receipt.")).count())
            .unwrap_or(0)
    };
    assert_eq!(gm_receipts(), 6, "two feedback receipts, each JSON, its .sig and text");
    // Temporary files: an upload's vault file, an atomic write's leftover, a batch's staging.
    let temps = [
        data.join("vault/tmp/01KTEST.age"),
        receipts.join(".x.receipt.json.01KTEST.tmp"),
        data.join("batch/staging/2026-01-v9/GM0505_x.csv.age"),
    ];
    for t in &temps {
        std::fs::create_dir_all(t.parent().unwrap()).unwrap();
        std::fs::write(t, b"x").unwrap();
    }
    let temp_at = temps.iter().map(|t| mtime(t)).max().unwrap();
    let shred = |at: jiff::Timestamp, extra: &[&str]| {
        let mut args = vec!["shred", "--at"];
        let at = at.to_string();
        args.push(&at);
        args.extend(extra);
        let o = meldpunt(&inst.config, &args);
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let second = SignedDuration::from_secs(1);
    let day = SignedDuration::from_hours(24);

    // Temporary files: 24 hours after their last change, not a second earlier.
    let out = shred(temp_at + day - second, &[]);
    assert!(out.contains("nothing is past its retention"), "{out}");
    assert!(temps.iter().all(|t| t.exists()));
    let out = shred(temp_at + day, &["--dry-run"]);
    assert!(
        out.contains(
            "would remove past their window: 0 rejected or duplicate upload(s) with 0 receipt file(s), 3 temporary file(s)"
        ),
        "{out}"
    );
    assert!(temps.iter().all(|t| t.exists()), "a dry run removes nothing");
    shred(temp_at + day, &[]);
    assert!(temps.iter().all(|t| !t.exists()), "{temps:?}");
    assert!(rejected_files.iter().all(|f| f.exists()));

    // A rejected upload: 30 days after it was received. A crash after its row went, and a
    // start-up recovery after it, do not bring its receipt back; the next round finishes it.
    let out = shred(rejected_at + day * 30 - second, &[]);
    assert!(out.contains("nothing is past its retention"), "{out}");
    assert!(rejected_files.iter().all(|f| f.exists()));
    let o = Command::new(bin())
        .args(["shred", "--at", &(rejected_at + day * 30).to_string(), "--config"])
        .arg(&inst.config)
        .env("MELDPUNT_LOG", "warn")
        .env("MELDPUNT_TEST_ABORT_SWEEP_AFTER_ROWS", "1")
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    std::fs::remove_file(&rejected_files[1]).unwrap(); // as if the crash came after the text twin
    meldpunt::intake::Intake::new(meldpunt::app::App::open(config.clone(), layout.clone()).unwrap())
        .recover()
        .unwrap();
    assert!(!rejected_files[1].exists(), "recovery does not rewrite the receipt of a removed row");
    assert!(rejected_files[0].exists());
    let out = shred(rejected_at + day * 30, &[]);
    assert!(
        // The row went in the killed round, which could not audit it: this round does.
        out.contains("removed past their window: 1 rejected or duplicate upload(s) with 1 receipt file(s)"),
        "{out}"
    );
    assert!(rejected_files.iter().all(|f| !f.exists()));
    // The duplicate upload (nothing of it sealed) goes by the same window.
    let dup_sig = meldpunt::signature::sig_path(&dup_files[0]);
    assert!(dup_files.iter().all(|f| f.exists()) && dup_sig.exists());
    let out = shred(dup_at + day * 30, &[]);
    assert!(
        out.contains("removed past their window: 1 rejected or duplicate upload(s) with 2 receipt file(s)"),
        "{out}"
    );
    assert!(dup_files.iter().all(|f| !f.exists()) && !dup_sig.exists());

    // Feedback uploads and the batch report: three calendar months after receipt / the run.
    let first = feedback_at.iter().chain([&ran_at]).map(|t| after_months(*t, 3)).min().unwrap();
    let last = feedback_at.iter().chain([&ran_at]).map(|t| after_months(*t, 3)).max().unwrap();
    let out = shred(first - second, &[]);
    assert!(out.contains("nothing is past its retention"), "{out}");
    let report_sig = meldpunt::signature::sig_path(&report);
    assert!(report.exists() && report_sig.exists() && gm_receipts() == 6);
    let out = shred(last, &["--dry-run"]);
    assert!(
        out.contains("1 feedback upload record(s) (+1 reduced) with 4 receipt file(s), 1 batch report(s)"),
        "{out}"
    );
    shred(last, &[]);
    assert!(!report.exists() && !report_sig.exists() && gm_receipts() == 0, "signatures go with their files");
    let state = meldpunt::state::State::open(&data.join("state.db")).unwrap();
    let rows: Vec<(String, String)> = {
        let conn = state.lock();
        let mut stmt = conn.prepare("SELECT status, receipt FROM feedback_files").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(rows, [("accepted".to_owned(), String::new())], "the rejected file's record is gone");
    let files: i64 = state.lock().query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0)).unwrap();
    assert_eq!(files, 1, "the accepted upload stays with its period");
    assert!(data.join(format!("keys/periods/{p}")).exists(), "the period itself is not due");
    // Each round audited with counts only.
    let events = meldpunt::audit::Audit::open(state).unwrap().records().unwrap();
    let rounds: Vec<_> =
        events.iter().filter(|e| e.action == "shred").map(|e| &e.object["windows"]).collect();
    // The round killed after the rows wrote no event; the round that finished it audits both
    // the row and the file.
    assert_eq!(rounds.len(), 4, "{rounds:?}");
    for r in &rounds {
        assert!(r.as_object().unwrap().values().all(|v| v.is_u64()), "{r}");
    }
    assert_eq!(rounds[0]["temp_files"], 3);
    assert_eq!((&rounds[1]["rejected_rows"], &rounds[1]["rejected_receipts"]), (&1.into(), &1.into()));
    assert_eq!((&rounds[2]["rejected_rows"], &rounds[2]["rejected_receipts"]), (&1.into(), &2.into()));
    assert_eq!(rounds[3]["batch_reports"], 1);
}

/// The periods whose key and vault folder are still there.
fn held(data: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(data.join("keys/periods"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .filter(|n| data.join("vault").join(n).exists())
        .collect();
    out.sort();
    out
}

#[test]
fn across_a_year_the_daemon_binary_shreds_exactly_the_expired_periods_and_keeps_late_history() {
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let data = inst.dir.join("data");
    let months: Vec<String> = (1..=12).map(|m| format!("2025-{m:02}")).collect();
    for (i, m) in months.iter().enumerate() {
        let on = jiff::civil::Date::new(2025, i as i8 + 1, 10).unwrap();
        let f = dir.path().join(format!("{m}.csv"));
        std::fs::write(&f, sample(&format!("Y{i}"), 100 + i as u64, on)).unwrap();
        let at = format!("{m}-10T12:00:00Z");
        let o = meldpunt(
            &inst.config,
            &["ingest", "--as", "woonstad", f.to_str().unwrap(), "--received-at", &at],
        );
        assert!(o.status.success(), "{}", text(&o));
        // Every batch up to November ran on time; December's is late.
        if i < 11 {
            let o = meldpunt(&inst.config, &["batch", "run", "--period", m]);
            assert!(o.status.success(), "{}", text(&o));
        }
    }
    assert_eq!(held(&data), months);
    let shred_at = |at: &str| {
        let o = meldpunt(&inst.config, &["shred", "--at", at]);
        assert!(o.status.success(), "{}", text(&o));
    };
    // 1 December: January to May are six months past their end; June is not yet.
    shred_at("2025-12-01T10:00:00Z");
    assert_eq!(held(&data), months[5..]);
    // 10 January: June is past retention too, but December's batch has not run and June is in
    // its six months of lookback, so it stays.
    shred_at("2026-01-10T10:00:00Z");
    assert_eq!(held(&data), months[5..]);
    // Once December's batch has run, June goes.
    let o = meldpunt(&inst.config, &["batch", "run", "--period", "2025-12"]);
    assert!(o.status.success(), "{}", text(&o));
    shred_at("2026-01-10T10:00:00Z");
    assert_eq!(held(&data), months[6..]);
    // 30 June 2026: July to November are past retention, but January 2026's batch has not run
    // (nothing was received, nothing ran), so July 2025 onwards is its lookback and stays.
    shred_at("2026-06-30T10:00:00Z");
    assert_eq!(held(&data), months[6..]);
    // A year on, with every batch up to June 2026 run: everything of 2025 has gone.
    for m in 1..=6 {
        let o = meldpunt(&inst.config, &["batch", "run", "--period", &format!("2026-{m:02}")]);
        assert!(o.status.success(), "{}", text(&o));
    }
    shred_at("2026-07-01T10:00:00Z");
    assert_eq!(held(&data), Vec::<String>::new());
    let o = meldpunt(&inst.config, &["shred", "--at", "2026-07-01T10:00:00Z", "--dry-run"]);
    assert!(text(&o).contains("nothing is past its retention"), "{}", text(&o));
}
