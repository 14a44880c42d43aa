//! The municipal side, pickup: bundles fetched with OpenSSH `sftp` and `curl`, confined to the
//! municipality's own folder, byte-identical to the manifest, resumable with `Range`, and
//! acknowledged (audited, noted in the manifest) by removing them.

mod common;

use std::path::{Path, PathBuf};

use common::{Server, delivered, text};
use meldpunt::domain::period::Period;

fn pickup_dir(s: &Server, code: &str) -> PathBuf {
    s.data().join("parties").join(code).join("pickup")
}

fn manifest(s: &Server, code: &str, p: Period) -> serde_json::Value {
    let path = pickup_dir(s, code).join(format!("{code}_{p}_v1_manifest.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_municipality_cannot_reach_another_ones_bundles_by_any_path() {
    let (s, p) = delivered();
    let theirs = names(&pickup_dir(&s, "GM0642"));
    assert!(theirs.len() >= 2, "GM0642 has bundles: {theirs:?}");
    let victim = theirs.iter().find(|n| n.ends_with(".age")).unwrap().clone();
    let key = s.key("GM0505");

    // OpenSSH sftp: every trick in one batch ('-' keeps going after a failure).
    let got = s.tmp.path().join("got");
    std::fs::create_dir_all(&got).unwrap();
    let g = got.display();
    let tricks = [
        format!("/pickup/../GM0642/pickup/{victim}"),
        format!("../GM0642/pickup/{victim}"),
        format!("/../../parties/GM0642/pickup/{victim}"),
        format!("/pickup/{victim}"),
        format!("pickup//./{victim}"),
        format!("/pickup/..\\GM0642\\pickup\\{victim}"),
        format!("/GM0642/pickup/{victim}"),
        format!("/receipts/../pickup/../../GM0642/pickup/{victim}"),
    ];
    let mut batch = String::new();
    for t in &tricks {
        batch.push_str(&format!("-get \"{t}\" {g}/\n-rm \"{t}\"\n"));
    }
    batch.push_str("-ls -la /pickup/../GM0642\n-ls -la /GM0642/pickup\n-ls -la /pickup\n");
    let o = s.sftp("GM0505", &key, &batch);
    // What the server answered (the batch commands themselves are echoed with "sftp>").
    let out: String =
        text(&o).lines().filter(|l| !l.starts_with("sftp>")).map(|l| format!("{l}\n")).collect();
    assert!(names(&got).is_empty(), "nothing fetched: {:?}\n{out}", names(&got));
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with("-rw") || l.starts_with('d')).collect();
    assert!(
        !listed.is_empty() && listed.iter().all(|l| !l.contains("GM0642_")),
        "GM0642's names never listed:\n{out}"
    );
    assert!(out.contains(&format!("GM0505_{p}_v1_manifest.json")), "own files listed:\n{out}");
    assert_eq!(names(&pickup_dir(&s, "GM0642")), theirs, "nothing of GM0642 removed");

    // HTTPS: the same with curl.
    for path in [
        format!("/v1/pickup/{victim}"),
        format!("/v1/pickup/..%2FGM0642%2Fpickup%2F{victim}"),
        format!("/v1/pickup/../../GM0642/pickup/{victim}"),
        format!("/v1/pickup/%2e%2e%2f%2e%2e%2fGM0642%2fpickup%2f{victim}"),
        "/v1/pickup/..".to_owned(),
    ] {
        for method in ["GET", "DELETE"] {
            let (code, body) = s.curl("GM0505", &["-X", method], &path);
            assert!([400, 404].contains(&code), "{method} {path}: {code} {body}");
            assert!(!body.contains("age-encryption"), "{method} {path} leaked content");
        }
    }
    let (code, list) = s.curl("GM0505", &[], "/v1/pickup");
    assert_eq!(code, 200, "{list}");
    assert!(list.contains("GM0505_") && !list.contains("GM0642_"), "{list}");
    // A creditor has no pickup at all.
    let (code, body) = s.curl("woonstad", &[], "/v1/pickup");
    assert_eq!(code, 403, "{body}");
    assert_eq!(names(&pickup_dir(&s, "GM0642")), theirs, "nothing of GM0642 removed");
    assert!(!s.audit().iter().any(|e| e.action.starts_with("pickup")), "no pickup was recorded");
}

#[test]
fn downloads_are_byte_identical_resumable_and_removal_acknowledges() {
    let (s, p) = delivered();
    let code = "GM0505";
    let m = manifest(&s, code, p);
    let files = m["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 2, "{m}");
    let (csv, json) = (files[0]["name"].as_str().unwrap(), files[1]["name"].as_str().unwrap());

    // Every file over SFTP, checked against the manifest.
    let got = s.tmp.path().join("sftp");
    std::fs::create_dir_all(&got).unwrap();
    let o = s.sftp(code, &s.key(code), &format!("get /pickup/* {}/\n", got.display()));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(names(&got), names(&pickup_dir(&s, code)), "every file fetched");
    for f in &files {
        let bytes = std::fs::read(got.join(f["name"].as_str().unwrap())).unwrap();
        assert_eq!(sha256_hex(&bytes), f["sha256"].as_str().unwrap(), "{f}");
        assert_eq!(bytes.len() as u64, f["bytes"].as_u64().unwrap());
    }

    // HTTPS: the first 100 bytes, then resumed with a Range request by curl -C -.
    let part = s.tmp.path().join("part.age");
    let (status, body) =
        s.curl(code, &["-r", "0-99", "-o", part.to_str().unwrap()], &format!("/v1/pickup/{json}"));
    assert_eq!(status, 206, "{body}");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 100);
    let headers = s.tmp.path().join("headers.txt");
    let (status, body) = s.curl(
        code,
        &["-C", "-", "-o", part.to_str().unwrap(), "-D", headers.to_str().unwrap()],
        &format!("/v1/pickup/{json}"),
    );
    assert_eq!(status, 206, "{body}");
    let bytes = std::fs::read(&part).unwrap();
    assert_eq!(sha256_hex(&bytes), files[1]["sha256"].as_str().unwrap(), "resumed download is whole");
    let h = std::fs::read_to_string(&headers).unwrap().to_ascii_lowercase();
    assert!(h.contains(&format!("x-content-sha256: {}", files[1]["sha256"].as_str().unwrap())), "{h}");
    assert!(h.contains("content-range: bytes 100-") && h.contains("repr-digest: sha-256=:"), "{h}");
    let (status, body) = s.curl(code, &["-r", "999999999-"], &format!("/v1/pickup/{json}"));
    assert_eq!(status, 416, "{body}");
    // A whole download by HTTPS.
    let whole = s.tmp.path().join("whole.age");
    let (status, _) = s.curl(code, &["-o", whole.to_str().unwrap()], &format!("/v1/pickup/{csv}"));
    assert_eq!(status, 200);
    assert_eq!(sha256_hex(&std::fs::read(&whole).unwrap()), files[0]["sha256"].as_str().unwrap());

    // An HTTPS download is recorded once the client's TCP has acknowledged its last byte,
    // a moment after curl has it.
    let start = std::time::Instant::now();
    let mut audit = s.audit();
    while audit.iter().filter(|e| e.action == "pickup" && e.object["protocol"] == "https").count() < 2
        && start.elapsed() < std::time::Duration::from_secs(10)
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
        audit = s.audit();
    }
    let pickups: Vec<_> = audit.iter().filter(|e| e.action == "pickup").collect();
    assert!(
        pickups.iter().any(|e| e.object["protocol"] == "sftp" && e.object["bundle"] == csv),
        "a completed SFTP download is a pickup: {pickups:?}"
    );
    assert!(
        pickups.iter().any(|e| e.object["protocol"] == "https"
            && e.object["bundle"] == json
            && e.object["from"] == 100),
        "the resumed HTTPS download completes a pickup: {pickups:?}"
    );
    assert!(pickups.iter().all(|e| e.actor == format!("gemeente:{code}")));
    let partial = audit
        .iter()
        .filter(|e| e.action == "pickup" && e.object["protocol"] == "https" && e.object["bundle"] == json)
        .count();
    assert_eq!(partial, 1, "the first 100 bytes alone are not a pickup");
    let m = manifest(&s, code, p);
    assert_eq!(m["picked_up"][csv]["how"], "download:sftp", "{m}");
    assert!(m["picked_up"][json].is_object(), "{m}");

    // Remove = acknowledge, over SFTP and HTTPS.
    let o = s.sftp(code, &s.key(code), &format!("rm /pickup/{csv}\n"));
    assert!(o.status.success(), "{}", text(&o));
    let (status, body) = s.curl(code, &["-X", "DELETE"], &format!("/v1/pickup/{json}"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("acknowledged"), "{body}");
    let (status, _) = s.curl(code, &["-X", "DELETE"], &format!("/v1/pickup/{json}"));
    assert_eq!(status, 404, "a second DELETE finds nothing");
    assert_eq!(names(&pickup_dir(&s, code)), [format!("{code}_{p}_v1_manifest.json")]);
    let acks: Vec<_> = s.audit().into_iter().filter(|e| e.action == "pickup_ack").collect();
    assert_eq!(acks.len(), 2, "{acks:?}");
    assert!(acks.iter().any(|e| e.object["protocol"] == "sftp" && e.object["bundle"] == csv));
    assert!(acks.iter().any(|e| e.object["protocol"] == "https" && e.object["bundle"] == json));
}

#[test]
fn picked_up_bundles_leave_after_the_retention_days() {
    let (mut s, p) = delivered();
    let code = "GM0505";
    let dir = pickup_dir(&s, code);
    let got = s.tmp.path().join("got");
    std::fs::create_dir_all(&got).unwrap();
    let csv = format!("{code}_{p}_v1_signalen.csv.age");
    let o = s.sftp(code, &s.key(code), &format!("get /pickup/{csv} {}/\n", got.display()));
    assert!(o.status.success(), "{}", text(&o));
    s.kill();
    // Pretend the pickup was 15 days ago (the default retention is 14 days).
    let state = meldpunt::state::State::open(&s.data().join("state.db")).unwrap();
    let old = jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_hours(15 * 24)).unwrap();
    let n = state
        .lock()
        .execute("UPDATE pickups SET first_at = ?1 WHERE name = ?2", rusqlite::params![old.to_string(), csv])
        .unwrap();
    assert_eq!(n, 1);
    drop(state);
    s.crash_and_restart();
    let start = std::time::Instant::now();
    while dir.join(&csv).exists() && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(!dir.join(&csv).exists(), "picked up 15 days ago: removed");
    assert!(dir.join(format!("{code}_{p}_v1_signalen.json.age")).exists(), "never picked up: kept");
    let mut ev = None;
    while ev.is_none() && start.elapsed() < std::time::Duration::from_secs(10) {
        ev = s.audit().into_iter().find(|e| e.action == "pickup_expired");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let ev = ev.expect("audited");
    assert_eq!(ev.object["files"], serde_json::json!([csv]));
}
