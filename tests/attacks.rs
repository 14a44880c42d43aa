//! Attacks on the real daemon, one test per class (issue 20; more classes follow).
//!
//! - CSV formula injection: a creditor's record whose text fields start the way a spreadsheet
//!   starts a formula reaches the municipality's CSV bundle neutralised (a leading `'`), read
//!   back with the real `age` CLI and Python's `csv` module; the JSON bundle keeps the values.
//! - Bundle files are not world-readable: every file in a pickup folder is mode 0640.
//! - Bidi overrides and zero-width characters in upload names and record fields
//!   (`attacks/hidden_chars.rs`).
//! - A feedback upload renamed to a name that is not a terugmelding (`attacks/feedback_names.rs`).
//! - Out-of-order writes on many handles and sessions: one party's memory stays bounded
//!   (`attacks/reorder_memory.rs`).

mod common;

#[path = "attacks/autorun.rs"]
mod autorun;
#[path = "attacks/before_auth.rs"]
mod before_auth;
#[path = "attacks/feedback_names.rs"]
mod feedback_names;
#[path = "attacks/forged_headers.rs"]
mod forged_headers;
#[path = "attacks/hidden_chars.rs"]
mod hidden_chars;
#[path = "attacks/injection.rs"]
mod injection;
#[path = "attacks/key_blobs.rs"]
mod key_blobs;
#[path = "attacks/links_and_races.rs"]
mod links_and_races;
#[path = "attacks/path_tricks.rs"]
mod path_tricks;
#[path = "attacks/probe.rs"]
mod probe;
#[path = "attacks/reorder_memory.rs"]
mod reorder_memory;
#[path = "attacks/smuggling.rs"]
mod smuggling;
#[path = "attacks/stale_login.rs"]
mod stale_login;
#[path = "attacks/static_keys.rs"]
mod static_keys;
#[path = "attacks/truncated_and_lies.rs"]
mod truncated_and_lies;

use std::process::Command;

use common::{Server, local_file, text};

/// The formula-like values, by column of the signal file, and what the CSV bundle must hold.
/// `voorvoegsel` starts with a space that validation trims, which used to make it live.
const FORMULAS: [(&str, &str, &str); 8] = [
    ("voorletters", "-2+3", "'-2+3"),
    ("voorvoegsel", " =1+1", "'=1+1"),
    ("achternaam", "@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("straatnaam", "=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("huisnummertoevoeging", "=1", "'=1"),
    ("plaatsnaam", "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("telefoonnummer", "+31 6 1234 5678", "'+31 6 1234 5678"),
    ("email", "=a@b.nl", "'=a@b.nl"),
];

/// Reads the CSV bundle: every cell's first character, and the row of referentie `R`.
const PY_CHECK: &str = r#"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))
header, body = rows[0], rows[1:]
live = [(i, header[j], c) for i, r in enumerate(body) for j, c in enumerate(r) if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
print(json.dumps({"live": live, "rows": len(body), "header": header, "cells": body}))
"#;

/// One valid woninghuur record of the demo's samples, with the formula values put in.
fn formula_file() -> Vec<u8> {
    let csv = common::sample_csv("F", "woninghuur", 1);
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let mut record: Vec<String> = lines.next().unwrap().split(';').map(str::to_owned).collect();
    for (column, value, _) in FORMULAS {
        let i = header.iter().position(|h| *h == column).unwrap();
        record[i] = format!("\"{}\"", value.replace('"', "\"\""));
    }
    format!("{}\n{}\n", header.join(";"), record.join(";")).into_bytes()
}

#[test]
fn a_formula_in_a_record_reaches_the_csv_bundle_neutralised() {
    let s = Server::start();
    let f = local_file(&s, "formula.csv", &formula_file());
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/formula.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let receipt = &s.wait_receipts("woonstad", 1)[0];
    assert_eq!(receipt["records"]["accepted"], 1, "{receipt}");
    common::run_batch(&s);

    let bundles: Vec<_> = ["GM0505", "GM0642"]
        .iter()
        .flat_map(|code| {
            let dir = s.data().join("parties").join(code).join("pickup");
            std::fs::read_dir(&dir).into_iter().flatten().map(move |e| (*code, e.unwrap().path()))
        })
        .filter(|(_, p)| p.to_string_lossy().ends_with("_signalen.csv.age"))
        .collect();
    assert_eq!(bundles.len(), 1, "the one signal is in one municipality's bundle: {bundles:?}");
    let (code, bundle) = &bundles[0];
    let key = s.inst.dir.join("clients").join(code).join("age.key");
    let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(bundle).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let plain = s.tmp.path().join("bundle.csv");
    std::fs::write(&plain, &o.stdout).unwrap();

    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(python).arg("-c").arg(PY_CHECK).arg(&plain).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let read: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(read["rows"], 1, "{read}");
    assert_eq!(read["live"], serde_json::json!([]), "cells a spreadsheet would evaluate: {read}");
    let header: Vec<&str> = read["header"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    let row = &read["cells"][0];
    for (column, _, expected) in FORMULAS {
        let i = header.iter().position(|h| *h == column).unwrap_or_else(|| panic!("no column {column}"));
        assert_eq!(row[i], expected, "{column}");
    }

    // The JSON bundle keeps the values as they are (trimmed by validation, not neutralised).
    let json_bundle = bundle.with_file_name(
        bundle.file_name().unwrap().to_string_lossy().replace("_signalen.csv.age", "_signalen.json.age"),
    );
    let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(&json_bundle).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let json = String::from_utf8(o.stdout).unwrap();
    for (column, value, _) in FORMULAS {
        let quoted = serde_json::to_string(value.trim_start()).unwrap();
        assert!(json.contains(&quoted), "{column}: {quoted} in the JSON bundle");
    }
}

#[test]
fn no_file_in_a_pickup_folder_is_readable_by_others() {
    let (s, _) = common::delivered();
    let mut seen = 0;
    for code in ["GM0505", "GM0642"] {
        let dir = s.data().join("parties").join(code).join("pickup");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let mode =
                std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
            assert_eq!(mode & 0o777, 0o640, "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 4, "manifests and bundles of both municipalities: {seen}");
}
