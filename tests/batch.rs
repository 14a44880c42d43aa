//! The monthly batch end to end: files from three creditors (SFTP now, the operator's backfill
//! for the month before), `meldpunt batch run`, bundles decrypted with the real `age` CLI and
//! read with Python's `csv` module; agreements; versions; a kill during delivery.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, bin, local_file, meldpunt, text};
use meldpunt::domain::period::{Cutoff, Period, zone};

/// A sample file of `n` records over `households` shared addresses, received on `on`.
fn sample(prefix: &str, kind: &str, n: u64, seed: u64, on: jiff::civil::Date) -> Vec<u8> {
    let mut out = Vec::new();
    meldpunt::demo::sample::write_csv(&mut out, prefix, kind.parse().unwrap(), n, 12, seed, on).unwrap();
    out
}

fn now_period() -> Period {
    Cutoff::default().period_of(jiff::Timestamp::now())
}

/// Files from woonstad (also last month, by backfill), vitens and eneco; vitens may only
/// deliver to GM0642.
fn installation() -> (Server, Period) {
    let s = Server::start_with(|t| {
        *t = t.replacen(
            "kinds = [\"drinkwater\"]\nagreements = [\"*\"]",
            "kinds = [\"drinkwater\"]\nagreements = [\"GM0642\"]",
            1,
        )
    });
    let p = now_period();
    // Last month, through the operator's backfill (the same intake).
    let before = p.prev().first_day().checked_add(jiff::ToSpan::days(9)).unwrap();
    let at = before.at(12, 0, 0, 0).to_zoned(zone()).unwrap().timestamp();
    let f = local_file(&s, "old.csv", &sample("O", "woninghuur", 20, 11, before));
    let o = Command::new(bin())
        .args(["ingest", "--as", "woonstad", "--received-at", &at.to_string(), "--config"])
        .arg(&s.inst.config)
        .arg(&f)
        .env("MELDPUNT_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // This month, over SFTP.
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    for (i, (party, prefix, kind)) in
        [("woonstad", "W", "woninghuur"), ("vitens", "V", "drinkwater"), ("eneco", "E", "elektriciteit")]
            .into_iter()
            .enumerate()
    {
        let f = local_file(&s, &format!("{party}.csv"), &sample(prefix, kind, 25, 20 + i as u64, today));
        let o = s.sftp(party, &s.key(party), &format!("put {} /inbox/{party}.csv\n", f.display()));
        assert!(o.status.success(), "{}", text(&o));
    }
    (s, p)
}

/// Decrypts an age file with a municipality's key (of the installation in `inst`) through the
/// `age` CLI.
fn decrypt(inst: &Path, code: &str, file: &Path) -> Vec<u8> {
    let key = inst.join("clients").join(code).join("age.key");
    let o = Command::new("age").arg("-d").arg("-i").arg(key).arg(file).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    o.stdout
}

fn pickup(inst: &Path, code: &str) -> PathBuf {
    inst.join("data").join("parties").join(code).join("pickup")
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

const PY_READ: &str = r#"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))
doc = json.load(open(sys.argv[2], encoding="utf-8"))
print(json.dumps({
    "rows": len(rows),
    "households": len({r["huishouden_id"] for r in rows}),
    "opeenvolgend": len({r["huishouden_id"] for r in rows if r["opeenvolgend"] == "ja"}),
    "meervoudig": len({r["huishouden_id"] for r in rows if r["meervoudig"] == "ja"}),
    "partners": sorted({r["signaalpartner"] for r in rows}),
    "json_households": len(doc["huishoudens"]),
    "json_signals": sum(len(p["signalen"]) for h in doc["huishoudens"] for p in h["personen"]),
}))
"#;

#[test]
fn batch_delivers_bundles_that_age_and_python_read_and_respects_agreements() {
    let (s, p) = installation();
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &p.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("GM0505") && out.contains("households"), "summary table: {out}");

    let mut delivered = 0;
    for code in ["GM0505", "GM0642"] {
        let dir = pickup(&s.inst.dir, code);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{code}_{p}_v1_manifest.json"))).unwrap())
                .unwrap();
        let signals = manifest["counts"]["signals"].as_u64().unwrap();
        delivered += signals;
        if signals == 0 {
            assert!(manifest["files"].as_array().unwrap().is_empty());
            continue;
        }
        let mut plain = Vec::new();
        for f in manifest["files"].as_array().unwrap() {
            let path = dir.join(f["name"].as_str().unwrap());
            let cipher = std::fs::read(&path).unwrap();
            assert_eq!(f["sha256"], sha256_hex(&cipher), "ciphertext hash in the manifest");
            let bytes = decrypt(&s.inst.dir, code, &path);
            assert_eq!(f["plaintext_sha256"], sha256_hex(&bytes), "plaintext hash in the manifest");
            let out = s.tmp.path().join(f["name"].as_str().unwrap().trim_end_matches(".age"));
            std::fs::write(&out, &bytes).unwrap();
            plain.push(out);
        }
        let csv = plain.iter().find(|p| p.to_string_lossy().ends_with(".csv")).unwrap();
        let json = plain.iter().find(|p| p.to_string_lossy().ends_with(".json")).unwrap();
        assert!(std::fs::read(csv).unwrap().starts_with("\u{feff}".as_bytes()), "CSV with BOM");
        let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let o = Command::new(python).arg("-c").arg(PY_READ).arg(csv).arg(json).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["rows"], signals, "{code}: CSV rows = manifest signals");
        assert_eq!(r["households"], manifest["counts"]["households"]);
        assert_eq!(r["json_households"], manifest["counts"]["households"]);
        assert_eq!(r["json_signals"], signals);
        assert_eq!(r["meervoudig"], manifest["counts"]["meervoudig"]);
        assert_eq!(r["opeenvolgend"], manifest["counts"]["opeenvolgend"]);
        if code == "GM0505" {
            assert!(!r["partners"].as_array().unwrap().iter().any(|p| p == "Vitens"), "no agreement: {r}");
            assert!(r["opeenvolgend"].as_u64().unwrap() > 0, "last month's history counts: {r}");
            assert!(r["meervoudig"].as_u64().unwrap() > 0, "{r}");
        }
    }
    assert!(delivered > 0);

    // Vitens' report lists its GM0505 signals as not delivered, with the reason.
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.data().join(format!("parties/vitens/receipts/batch_{p}.json"))).unwrap(),
    )
    .unwrap();
    let entries = report["signals"].as_array().unwrap();
    assert_eq!(entries.len(), 25);
    let refused: Vec<_> = entries.iter().filter(|e| e["delivered"] == false).collect();
    assert!(!refused.is_empty(), "{report}");
    assert!(refused.iter().all(|e| e["reason"] == "no_agreement" && e["gemeente"] == "GM0505"), "{report}");
    // Readable over SFTP like any receipt.
    let o = s.sftp("vitens", &s.key("vitens"), "ls /receipts\n");
    assert!(text(&o).contains(&format!("batch_{p}.json")), "{}", text(&o));

    // Exactly once: a second run is refused; --force makes v2 and keeps v1.
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &p.to_string()]);
    assert!(!o.status.success() && text(&o).contains("--force"), "{}", text(&o));
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &p.to_string(), "--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(pickup(&s.inst.dir, "GM0505").join(format!("GM0505_{p}_v2_manifest.json")).exists());
    assert!(pickup(&s.inst.dir, "GM0505").join(format!("GM0505_{p}_v1_manifest.json")).exists());
    // The re-issued manifest names the version it supersedes; the first names none.
    let manifest = |v: u32| -> serde_json::Value {
        let path = pickup(&s.inst.dir, "GM0505").join(format!("GM0505_{p}_v{v}_manifest.json"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    assert_eq!(manifest(2)["supersedes"], 1);
    assert!(manifest(1).get("supersedes").is_none());
    assert_eq!(s.audit().iter().filter(|e| e.action == "batch" && e.actor == "operator").count(), 2);
}

/// Every bundle file of every municipality, decrypted: name → plaintext.
fn all_plaintext(inst: &Path, version: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for code in ["GM0505", "GM0642"] {
        let dir = pickup(inst, code);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".age") && n.contains(version))
            .collect();
        names.sort();
        for n in names {
            let bytes = decrypt(inst, code, &dir.join(&n));
            out.push((n, bytes));
        }
    }
    out
}

#[test]
fn a_batch_killed_during_delivery_and_run_again_gives_the_same_bundles() {
    killed_after(1);
}

#[test]
fn a_municipality_whose_bundle_was_complete_before_the_kill_is_not_delivered_twice() {
    // The bundle files of every municipality are renamed into place first (GM0505's csv and
    // json, then GM0642's), then the manifests, GM0505's first: the 5th file.
    killed_after(5);
}

fn killed_after(files: usize) {
    let (mut s, p) = installation();
    s.kill();
    // A copy of the whole installation runs uninterrupted, for comparison.
    let copy = s.tmp.path().join("copy");
    let o = Command::new("cp").arg("-a").arg(&s.inst.dir).arg(&copy).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let o = Command::new(bin())
        .args(["batch", "run", "--early", "--period", &p.to_string(), "--config"])
        .arg(&s.inst.config)
        .env("MELDPUNT_LOG", "warn")
        .env("MELDPUNT_TEST_ABORT_BATCH_AFTER", files.to_string())
        .output()
        .unwrap();
    assert!(!o.status.success(), "the batch was aborted after {files} file(s)");
    let gm0505 = pickup(&s.inst.dir, "GM0505");
    let manifest = gm0505.join(format!("GM0505_{p}_v1_manifest.json"));
    assert_eq!(manifest.exists(), files >= 5, "the manifests come after all bundle files");
    let before: Vec<(String, Vec<u8>)> = std::fs::read_dir(&gm0505)
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &p.to_string()]);
    assert!(o.status.success(), "the interrupted version is run again: {}", text(&o));
    if files >= 5 {
        for (name, bytes) in &before {
            assert_eq!(&std::fs::read(gm0505.join(name)).unwrap(), bytes, "{name} was not delivered again");
        }
    }
    assert!(pickup(&s.inst.dir, "GM0642").join(format!("GM0642_{p}_v1_manifest.json")).exists());

    let o = Command::new(bin())
        .args(["batch", "run", "--early", "--period", &p.to_string(), "--config"])
        .arg(copy.join("meldpunt.toml"))
        .env("MELDPUNT_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let (a, b) = (all_plaintext(&s.inst.dir, "_v1_"), all_plaintext(&copy, "_v1_"));
    assert!(!a.is_empty());
    assert_eq!(a, b, "byte-for-byte the same plaintext bundles");
    assert!(
        !pickup(&s.inst.dir, "GM0505").join(format!("GM0505_{p}_v2_manifest.json")).exists(),
        "no second version"
    );
    assert!(!s.data().join("batch/staging").read_dir().unwrap().any(|_| true), "staging emptied");
}

#[test]
fn households_under_the_threshold_are_flagged_or_left_out_as_each_municipality_wants() {
    let s = Server::start_with(|t| {
        // GM0505 leaves them out, GM0642 takes them flagged; every household is under €100 000.
        *t = t.replacen(
            "drempelbedrag = 100.00",
            "drempelbedrag = 100000.00\nleave_out_onder_drempel = true",
            1,
        );
        *t = t.replacen("drempelbedrag = 100.00", "drempelbedrag = 100000.00", 1);
    });
    let p = now_period();
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let f = local_file(&s, "e.csv", &sample("E", "elektriciteit", 40, 5, today));
    let o = s.sftp("eneco", &s.key("eneco"), &format!("put {} /inbox/e.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &p.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    let manifest = |code: &str| -> serde_json::Value {
        let path = pickup(&s.inst.dir, code).join(format!("{code}_{p}_v1_manifest.json"));
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    };
    let (left_out, flagged) = (manifest("GM0505"), manifest("GM0642"));
    assert_eq!(left_out["counts"]["signals"], 0, "{left_out}");
    let c = &flagged["counts"];
    assert!(c["households"].as_u64().unwrap() > 0);
    assert_eq!(c["onder_drempel"], c["households"], "{flagged}");
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.data().join(format!("parties/eneco/receipts/batch_{p}.json"))).unwrap(),
    )
    .unwrap();
    let entries = report["signals"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["reason"] == "below_threshold" && e["gemeente"] == "GM0505"),
        "{report}"
    );
    assert!(entries.iter().filter(|e| e["gemeente"] == "GM0642").all(|e| e["delivered"] == true));
}

#[test]
fn status_shows_the_periods_their_batch_and_the_bundles_waiting_for_pickup() {
    let (mut s, p) = installation();
    s.kill();
    let row = |out: &str, period: Period| -> Vec<String> {
        let line =
            out.lines().find(|l| l.starts_with(&period.to_string())).unwrap_or_else(|| panic!("{out}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    let o = meldpunt(&s, &["status"]);
    assert!(o.status.success(), "{}", text(&o));
    let before = String::from_utf8(o.stdout).unwrap();
    assert!(before.contains(&format!("files received now belong to {p}")), "{before}");
    assert!(before.contains("no period delivered yet"), "{before}");
    // This month: three creditors' files over SFTP; last month: one backfilled file.
    assert_eq!(row(&before, p)[1..4], ["3", "3", "-"], "{before}");
    assert_eq!(row(&before, p.prev())[1..4], ["1", "1", "-"], "{before}");
    assert!(before.contains("every bundle file in the pickup folders has been picked up"), "{before}");

    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &p.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    let after = String::from_utf8(meldpunt(&s, &["status"]).stdout).unwrap();
    assert!(after.contains(&format!("last delivered period: {p}")), "{after}");
    assert_eq!(row(&after, p)[3..5], ["v1", "delivered"], "{after}");
    assert!(after.contains("2 of 2 municipalities have bundle files not picked up"), "{after}");
    // Ids, codes, dates and counts only: nothing of woonstad's records (the same file again).
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let file = sample("W", "woninghuur", 25, 20, today);
    let mut rows = csv::ReaderBuilder::new().delimiter(b';').from_reader(&file[..]);
    for r in rows.records() {
        let r = r.unwrap();
        // referentie, achternaam, straatnaam, postcode
        for field in [0, 5, 7, 11].into_iter().map(|i| &r[i]).filter(|f| f.len() >= 4) {
            assert!(!after.contains(field), "{field} in {after}");
        }
    }
}
