//! No silently stranded signal (docs/periods.md), against the real daemon: a batch for a period
//! whose deliveries are still open is refused unless it is asked to close the period early;
//! a file that arrives after its period's batch ran goes into the next period, its receipt
//! says so, `status` says where files go now, and the next period's batch delivers its signals
//! to the municipality (read back with the `age` CLI).

mod common;

use std::process::Command;

use common::{Server, local_file, meldpunt, sample_csv, text};

/// Pushes `csv` as `name` for woonstad over SFTP; its receipt.
fn push(s: &Server, name: &str, csv: &[u8], receipts_before: usize) -> serde_json::Value {
    let f = local_file(s, name, csv);
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/{name}\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    s.wait_receipts("woonstad", receipts_before + 1).pop().unwrap()
}

/// The referenties in the decrypted CSV bundles of `period` in both municipalities' pickup folders.
fn delivered_referenties(s: &Server, period: &str) -> Vec<String> {
    let mut out = Vec::new();
    for code in ["GM0505", "GM0642"] {
        let dir = s.data().join("parties").join(code).join("pickup");
        for e in std::fs::read_dir(&dir).into_iter().flatten() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with(&format!("{code}_{period}_")) && name.ends_with("_signalen.csv.age") {
                let key = s.inst.dir.join("clients").join(code).join("age.key");
                let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(&p).output().unwrap();
                assert!(o.status.success(), "{}", text(&o));
                let plain = String::from_utf8(o.stdout).unwrap();
                let mut lines = plain.lines();
                let header: Vec<&str> = lines.next().unwrap().split(';').collect();
                let col = header.iter().position(|h| *h == "referentie_signaalpartner").unwrap();
                out.extend(lines.map(|l| l.split(';').nth(col).unwrap().to_owned()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_file_after_an_early_batch_goes_into_the_next_period_and_reaches_a_municipality() {
    let s = Server::start();
    let now = jiff::Timestamp::now();
    let open = meldpunt::domain::period::Cutoff::default().period_of(now);
    let next = open.next();
    let first = push(&s, "first.csv", &sample_csv("A", "woninghuur", 8), 0);
    assert_eq!(first["period"], open.to_string(), "{first}");

    // The period is still open: refused, with the way out named; nothing delivered.
    let o = meldpunt(&s, &["batch", "run", "--period", &open.to_string()]);
    assert!(!o.status.success());
    assert!(text(&o).contains("is still open") && text(&o).contains("--early"), "{}", text(&o));
    assert!(delivered_referenties(&s, &open.to_string()).is_empty());

    // Closed early on purpose: delivered.
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &open.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(delivered_referenties(&s, &open.to_string()).len(), 8);

    // A file that arrives now belongs to the next period, and its receipt says why.
    let late = push(&s, "late.csv", &sample_csv("L", "woninghuur", 5), 1);
    assert_eq!(late["period"], next.to_string(), "{late}");
    assert_eq!(late["records"]["accepted"], 5, "{late}");
    let warning = late["warnings"].as_array().unwrap().iter().find(|w| w["code"] == "period_closed_early");
    let message = warning.unwrap_or_else(|| panic!("no period_closed_early warning: {late}"))["message"]
        .as_str()
        .unwrap();
    assert!(message.contains(&open.to_string()) && message.contains(&next.to_string()), "{message}");
    let o = meldpunt(&s, &["status"]);
    assert!(o.status.success(), "{}", text(&o));
    let expected = format!("files received now belong to {next}: {open} was closed early");
    assert!(String::from_utf8_lossy(&o.stdout).contains(&expected), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("PROBLEM"), "{}", text(&o));

    // The next period's batch (closed early too, as the test cannot wait for its cutoff)
    // delivers the late file's signals, and only those.
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &next.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    let got = delivered_referenties(&s, &next.to_string());
    let expected: Vec<String> = (0..5).map(|i| format!("L-{i:08}")).collect();
    assert_eq!(got, expected);
}
