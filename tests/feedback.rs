//! Feedback end to end: batch → the municipality downloads and decrypts its bundle with the
//! real `age` CLI → uploads a terugmelding (OpenSSH `sftp`, `curl`) → each creditor gets
//! exactly its own signals, with only the statuses it may see.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::{Server, delivered, local_file, text};
use meldpunt::domain::period::Period;

/// What a creditor may see for each municipal result (docs/feedback.md), written out independently of
/// the code under test.
const CREDITOR_SEES: [(&str, &str); 14] = [
    ("hulp_geaccepteerd", "hulp_geaccepteerd"),
    ("vervolghulp_financieel", "opgepakt"),
    ("quick_fix", "opgepakt"),
    ("geen_hulp_nodig", "opgepakt"),
    ("al_betaald_of_regeling", "al_betaald_of_regeling"),
    ("geen_contact", "niet_opgepakt"),
    ("geen_reactie_na_contact", "niet_opgepakt"),
    ("al_bekend_schuldhulpverlening", "niet_opgepakt"),
    ("ander_lopend_traject", "niet_opgepakt"),
    ("herhaalde_melding", "herhaalde_melding"),
    ("onterecht_signaal", "onterecht_signaal"),
    ("overleden", "niet_opgepakt"),
    ("geen_inwoner", "niet_opgepakt"),
    ("niet_opgepakt_andere_reden", "niet_opgepakt"),
];

const CREDITORS: [&str; 3] = ["woonstad", "vitens", "eneco"];

fn today() -> jiff::civil::Date {
    meldpunt::domain::period::local_date(jiff::Timestamp::now())
}

/// Every delivered signal from the creditors' batch reports: id → (creditor, referentie, gemeente).
fn delivered_signals(s: &Server, p: Period) -> BTreeMap<String, (String, String, String)> {
    let mut out = BTreeMap::new();
    for c in CREDITORS {
        let (code, body) = s.curl(c, &[], &format!("/v1/receipts/batch_{p}.json"));
        assert_eq!(code, 200, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        for e in doc["signals"].as_array().unwrap() {
            if e["delivered"] == true {
                out.insert(
                    e["signaal_id"].as_str().unwrap().to_owned(),
                    (
                        c.to_owned(),
                        e["referentie"].as_str().unwrap().to_owned(),
                        e["gemeente"].as_str().unwrap().to_owned(),
                    ),
                );
            }
        }
    }
    out
}

/// The signal ids in a municipality's CSV bundle, fetched over HTTPS and decrypted with `age`.
fn bundle_ids(s: &Server, code: &str, p: Period) -> Vec<String> {
    let enc = s.tmp.path().join(format!("{code}.csv.age"));
    let (status, body) =
        s.curl(code, &["-o", enc.to_str().unwrap()], &format!("/v1/pickup/{code}_{p}_v1_signalen.csv.age"));
    assert_eq!(status, 200, "{body}");
    let key = s.inst.dir.join("clients").join(code).join("age.key");
    let o = Command::new("age").arg("-d").arg("-i").arg(key).arg(&enc).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').from_reader(&o.stdout[3..]);
    let col = rdr.headers().unwrap().iter().position(|h| h == "signaal_id").unwrap();
    rdr.records().map(|r| r.unwrap()[col].to_owned()).collect()
}

/// A creditor's terugmelding files over HTTPS: name → rows (after the header).
fn creditor_feedback(s: &Server, creditor: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let (code, body) = s.curl(creditor, &[], "/v1/feedback");
    assert_eq!(code, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut out = BTreeMap::new();
    for f in list["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap().to_owned();
        let (code, text) = s.curl(creditor, &[], &format!("/v1/feedback/{name}"));
        assert_eq!(code, 200, "{text}");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("referentie;status;datum;schuldenrust_tot"), "{name}");
        out.insert(name, lines.map(|l| l.split(';').map(str::to_owned).collect()).collect());
    }
    out
}

fn receipt_of(s: &Server, code: &str, id: &str) -> serde_json::Value {
    let (status, body) = s.curl(code, &[], &format!("/v1/receipts/{id}"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn post(s: &Server, code: &str, name: &str, bytes: &[u8]) -> (u16, serde_json::Value) {
    let f = local_file(s, "post.bin", bytes);
    let (status, body) =
        s.curl(code, &["--data-binary", &format!("@{}", f.display())], &format!("/v1/feedback?name={name}"));
    (status, serde_json::from_str(&body).unwrap_or_else(|_| serde_json::json!({ "raw": body })))
}

#[test]
fn feedback_round_trip_routes_each_creditor_only_its_own_signals_with_what_it_may_see() {
    let (s, p) = delivered();
    let signals = delivered_signals(&s, p);
    let ids = bundle_ids(&s, "GM0505", p);
    assert!(ids.len() >= 14, "enough signals for every code: {}", ids.len());
    for id in &ids {
        assert_eq!(signals[id].2, "GM0505", "the bundle holds GM0505's signals only");
    }
    // Every result code, on signals of every creditor.
    let mut file = String::from("signaal_id;resultaat;datum\n");
    let mut expected: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let (code, sees) = CREDITOR_SEES[i % CREDITOR_SEES.len()];
        let datum = today().checked_sub(jiff::ToSpan::days(i as i64 % 5)).unwrap();
        file.push_str(&format!("{id};{code};{datum}\n"));
        let rust = if code == "hulp_geaccepteerd" {
            datum.checked_add(jiff::ToSpan::days(30)).unwrap().to_string()
        } else {
            String::new()
        };
        let (creditor, referentie, _) = &signals[id];
        expected.entry(creditor.clone()).or_default().insert(vec![
            referentie.clone(),
            sees.to_owned(),
            datum.to_string(),
            rust,
        ]);
    }
    assert!(expected.len() >= 2, "signals of several creditors: {expected:?}");

    // Upload with OpenSSH sftp, as a .part renamed into place.
    let f = local_file(&s, "terugmelding.csv", file.as_bytes());
    let o = s.sftp(
        "GM0505",
        &s.key("GM0505"),
        &format!(
            "put {} /feedback/terugmelding.csv.part\nrename /feedback/terugmelding.csv.part /feedback/terugmelding.csv\nls /receipts\n",
            f.display()
        ),
    );
    assert!(o.status.success(), "{}", text(&o));
    let fb = s.audit().into_iter().find(|e| e.action == "feedback").expect("feedback audited");
    assert_eq!(fb.actor, "gemeente:GM0505");
    let id = fb.object["file_id"].as_str().unwrap();
    assert!(text(&o).contains(&format!("{id}.receipt.json")), "receipt listed: {}", text(&o));
    let r = receipt_of(&s, "GM0505", id);
    assert_eq!(r["status"], "accepted", "{r}");
    assert_eq!(r["lines"]["accepted"], ids.len() as u64, "{r}");
    assert_eq!(r["routed_to_creditors"], expected.len() as u64, "{r}");

    let date = today();
    for c in CREDITORS {
        let files = creditor_feedback(&s, c);
        match expected.get(c) {
            None => assert!(files.is_empty(), "{c} got nothing: {files:?}"),
            Some(want) => {
                let name = format!("terugmelding_{date}.csv");
                assert_eq!(files.keys().collect::<Vec<_>>(), [&name], "{c}");
                let got: BTreeSet<Vec<String>> = files[&name].iter().cloned().collect();
                assert_eq!(&got, want, "{c} sees exactly its own signals, mapped");
                for (code, sees) in CREDITOR_SEES {
                    if sees == "niet_opgepakt" {
                        assert!(!files[&name].iter().flatten().any(|v| v == code), "{c} never sees {code}");
                    }
                }
            }
        }
    }
    // Creditors also read it over SFTP.
    let c = expected.keys().next().unwrap().clone();
    let o = s.sftp(&c, &s.key(&c), "ls /feedback\n");
    assert!(text(&o).contains(&format!("terugmelding_{date}.csv")), "{}", text(&o));

    // The same signal again over HTTPS: the later result wins; an unchanged line is not resent.
    let (first, second) = (&ids[0], &ids[1]);
    let again = format!(
        "signaal_id;resultaat;datum\n{first};geen_contact;{date}\n{second};{};{}\n",
        CREDITOR_SEES[1].0,
        today().checked_sub(jiff::ToSpan::days(1)).unwrap()
    );
    let (status, r) = post(&s, "GM0505", "correctie.csv", again.as_bytes());
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["lines"]["accepted"], 2, "{r}");
    assert_eq!(r["lines"]["unchanged"], 1, "{r}");
    assert_eq!(r["routed_to_creditors"], 1, "{r}");
    let (creditor, referentie, _) = &signals[first];
    let files = creditor_feedback(&s, creditor);
    let later = &files[&format!("terugmelding_{date}_2.csv")];
    assert_eq!(later, &[vec![referentie.clone(), "niet_opgepakt".into(), date.to_string(), String::new()]]);
    assert!(
        files[&format!("terugmelding_{date}.csv")]
            .iter()
            .any(|r| &r[0] == referentie && r[1] == "hulp_geaccepteerd"),
        "the earlier file is left as the creditor may have fetched it"
    );
    let routed = s.audit().into_iter().filter(|e| e.action == "feedback_routed").count();
    assert_eq!(routed, expected.len() + 1);
}

/// A bad file: name, bytes, expected status, expected (line, code) errors.
type Case = (&'static str, Vec<u8>, &'static str, Vec<(u64, &'static str)>);

#[test]
fn bad_feedback_files_get_precise_receipts_and_nothing_of_bad_lines_is_routed() {
    let (s, p) = delivered();
    let signals = delivered_signals(&s, p);
    let own = |g: &str| signals.iter().filter(|(_, v)| v.2 == g).map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let (mine, theirs) = (own("GM0505"), own("GM0642"));
    let d = today();
    let future = d.checked_add(jiff::ToSpan::days(2)).unwrap();
    let cases: Vec<Case> = vec![
        ("columns.csv", format!("signaal_id;uitkomst;datum\n{};quick_fix;{d}\n", mine[0]).into_bytes(), "rejected", vec![(1, "columns_missing")]),
        ("extra.csv", format!("signaal_id;resultaat;datum;bsn\n{};quick_fix;{d};1\n", mine[0]).into_bytes(), "rejected", vec![(1, "columns_unknown")]),
        ("unknown.csv", format!("signaal_id;resultaat;datum\nS-00000000000000000000;quick_fix;{d}\nS-1;quick_fix;{d}\n").into_bytes(), "rejected", vec![(2, "signaal_id_unknown"), (3, "signaal_id_invalid")]),
        ("other.csv", format!("signaal_id;resultaat;datum\n{};quick_fix;{d}\n", theirs[0]).into_bytes(), "rejected", vec![(2, "signaal_id_other_gemeente")]),
        ("codes.jsonl", format!("{{\"signaal_id\":\"{}\",\"resultaat\":\"betaald\",\"datum\":\"{d}\"}}\n{{\"signaal_id\":\"{}\",\"resultaat\":\"quick_fix\",\"datum\":\"{future}\"}}\n", mine[0], mine[1]).into_bytes(), "rejected", vec![(1, "resultaat_invalid"), (2, "datum_future")]),
        ("latin1.csv", [format!("signaal_id;resultaat;datum\n{};quick_fix;{d}\n", mine[0]).as_bytes(), b"# caf\xe9\n"].concat(), "rejected", vec![(3, "encoding_invalid")]),
        ("mixed.csv", format!("signaal_id;resultaat;datum\n{};quick_fix;{d}\n{};overleden;{d}\n{};geen_contact;{future}\n", mine[0], theirs[1], mine[1]).into_bytes(), "accepted_with_errors", vec![(3, "signaal_id_other_gemeente"), (4, "datum_future")]),
    ];
    for (name, bytes, status, want) in &cases {
        let (code, r) = post(&s, "GM0505", name, bytes);
        assert_eq!(code, 201, "{name}: {r}");
        assert_eq!(r["status"], *status, "{name}: {r}");
        assert_eq!(r["file_name"], *name);
        let got: Vec<(u64, &str)> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(&got, want, "{name}: {r}");
        for e in r["errors"].as_array().unwrap() {
            let m = e["message"].as_str().unwrap();
            assert!(m.len() > 20, "{name}: a message that says what to do: {m}");
            assert!(
                !m.contains("GM0642") && !m.contains("betaald,") && !m.contains("uitkomst"),
                "{name}: {m}"
            );
        }
        if *name == "latin1.csv" {
            let off = bytes.iter().position(|b| *b == 0xE9).unwrap() as u64;
            assert_eq!(r["errors"][0]["byte_offset"], off, "{r}");
        }
        if name.ends_with(".csv") && *status == "rejected" {
            let txt = s
                .curl("GM0505", &[], &format!("/v1/receipts/{}.receipt.txt", r["file_id"].as_str().unwrap()))
                .1;
            assert!(txt.contains(want[0].1) && txt.contains(&format!("line {}", want[0].0)), "{txt}");
        }
    }
    // The same bad file over OpenSSH sftp gets the same receipt.
    let f = local_file(&s, "latin1.csv", &cases[5].1);
    let o = s.sftp("GM0505", &s.key("GM0505"), &format!("put {} /feedback/latin1.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let ev = s.audit().into_iter().rfind(|e| e.action == "feedback").unwrap();
    assert_eq!(ev.object["protocol"], "sftp");
    assert_eq!(ev.outcome, meldpunt::audit::Outcome::Denied);
    let r = receipt_of(&s, "GM0505", ev.object["file_id"].as_str().unwrap());
    assert_eq!(r["errors"][0]["code"], "encoding_invalid", "{r}");

    // Only the one good line (mixed.csv, line 2) reached a creditor.
    let (creditor, referentie, _) = &signals[&mine[0]];
    for c in CREDITORS {
        let files = creditor_feedback(&s, c);
        let rows: Vec<_> = files.values().flatten().cloned().collect();
        if c == creditor {
            assert_eq!(
                rows,
                [vec![referentie.clone(), "opgepakt".into(), d.to_string(), String::new()]],
                "{c}"
            );
        } else {
            assert!(rows.is_empty(), "{c}: {rows:?}");
        }
    }

    // Limits and who may post.
    let big = vec![b'a'; 17 << 20];
    let (code, r) = post(&s, "GM0505", "big.csv", &big);
    assert_eq!(code, 413, "{r}");
    let (code, r) = post(&s, "woonstad", "x.csv", b"signaal_id;resultaat;datum\n");
    assert_eq!(code, 403, "{r}");
    let (code, r) = post(&s, "GM0505", "..%2Fx.csv", b"signaal_id;resultaat;datum\n");
    assert_eq!(code, 400, "{r}");
}

#[test]
fn a_kill_between_storing_and_routing_is_finished_at_the_next_start_and_a_resend_routes_nothing_twice() {
    let (mut s, p) = delivered();
    let signals = delivered_signals(&s, p);
    let mine: Vec<&String> =
        signals.iter().filter(|(_, v)| v.2 == "GM0505").map(|(k, _)| k).take(3).collect();
    let d = today();
    let file: String = std::iter::once("signaal_id;resultaat;datum\n".to_owned())
        .chain(mine.iter().map(|id| format!("{id};hulp_geaccepteerd;{d}\n")))
        .collect();
    s.env = vec![("MELDPUNT_TEST_ABORT_FEEDBACK_STORED".into(), "1".into())];
    s.crash_and_restart();
    let (status, r) = post(&s, "GM0505", "t.csv", file.as_bytes());
    assert_ne!(status, 201, "the daemon died before answering: {r}");
    assert!(CREDITORS.iter().all(|c| creditor_feedback_on_disk(&s, c).is_empty()), "nothing routed yet");
    s.env.clear();
    s.crash_and_restart();
    // Start-up finished the stored file: the terugmeldingen and the receipt are there.
    let mut routed = 0;
    for c in CREDITORS {
        for (_, rows) in creditor_feedback(&s, c) {
            routed += rows.len();
            assert!(rows.iter().all(|r| r[1] == "hulp_geaccepteerd"), "{rows:?}");
        }
    }
    assert_eq!(routed, mine.len());
    let ev = s.audit().into_iter().find(|e| e.action == "feedback").expect("audited before the kill");
    let receipt = receipt_of(&s, "GM0505", ev.object["file_id"].as_str().unwrap());
    assert_eq!(receipt["status"], "accepted", "{receipt}");
    // The municipality never got its answer, so it sends the file again: nothing is sent twice.
    let (status, r) = post(&s, "GM0505", "t.csv", file.as_bytes());
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["lines"]["unchanged"], mine.len() as u64, "{r}");
    assert_eq!(r["routed_to_creditors"], 0, "{r}");
    let again: usize = CREDITORS.iter().map(|c| creditor_feedback_on_disk(&s, c).len()).sum();
    assert_eq!(again, creditor_feedback_count_before(&signals, &mine), "no new terugmelding files");
}

/// Terugmelding file names in a creditor's folder, straight from disk.
fn creditor_feedback_on_disk(s: &Server, creditor: &str) -> Vec<String> {
    std::fs::read_dir(s.data().join("parties").join(creditor).join("feedback"))
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

/// One terugmelding file per creditor among `ids`.
fn creditor_feedback_count_before(
    signals: &BTreeMap<String, (String, String, String)>,
    ids: &[&String],
) -> usize {
    ids.iter().map(|id| &signals[*id].0).collect::<BTreeSet<_>>().len()
}
