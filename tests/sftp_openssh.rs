//! Creditor intake over SFTP with the real OpenSSH `sftp` client in batch mode.

mod common;

use common::{Server, local_file, sample_csv, text};

/// Header + lines with known problems, for `accepted_with_errors`.
fn file_with_bad_lines() -> Vec<u8> {
    let good = String::from_utf8(sample_csv("B", "woninghuur", 4)).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    let header: Vec<&str> = meldpunt::demo::sample::HEADER.split(';').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let mut bad_pc: Vec<String> = lines[2].split(';').map(str::to_owned).collect();
    bad_pc[col("postcode")] = "12345".into();
    lines[2] = bad_pc.join(";");
    let mut no_amount: Vec<String> = lines[4].split(';').map(str::to_owned).collect();
    no_amount[col("bedrag")] = String::new();
    lines[4] = no_amount.join(";");
    (lines.join("\n") + "\n").into_bytes()
}

#[test]
fn valid_upload_is_accepted_and_receipt_fetched_over_sftp() {
    let s = Server::start();
    let f = local_file(&s, "woonstad_2026-11.csv", &sample_csv("A", "woninghuur", 25));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let r = s.wait_receipts("woonstad", 1);
    assert_eq!(r.len(), 1);
    let id = r[0]["file_id"].as_str().unwrap().to_owned();
    assert_eq!(r[0]["status"], "accepted");
    assert_eq!(r[0]["records"]["total"], 25);
    assert_eq!(r[0]["records"]["accepted"], 25);
    assert_eq!(r[0]["records"]["rejected"], 0);

    // Fetch it back over SFTP, as the creditor's system does.
    let back = s.tmp.path().join("back.json");
    let o = s.sftp(
        "woonstad",
        &s.key("woonstad"),
        &format!("ls /receipts\nget /receipts/{}.json {}\n", common::receipt_base(&r[0]), back.display()),
    );
    assert!(o.status.success(), "{}", text(&o));
    // Named after the upload, so the creditor finds the receipt of its file.
    assert!(text(&o).contains(&format!("woonstad_2026-11.csv.{id}.receipt.txt")), "{}", text(&o));
    let fetched: serde_json::Value = serde_json::from_slice(&std::fs::read(back).unwrap()).unwrap();
    assert_eq!(fetched, r[0]);
    assert_eq!(s.sealed_files().len(), 1);
}

#[test]
fn bad_lines_are_listed_with_line_field_and_code() {
    let s = Server::start();
    let f = local_file(&s, "woonstad_fouten.csv", &file_with_bad_lines());
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let r = &s.wait_receipts("woonstad", 1)[0];
    assert_eq!(r["status"], "accepted_with_errors");
    assert_eq!(r["records"]["total"], 4);
    assert_eq!(r["records"]["accepted"], 2);
    assert_eq!(r["records"]["rejected"], 2);
    let errors = r["errors"].as_array().unwrap();
    let find = |line: u64| {
        errors.iter().find(|e| e["line"] == line).unwrap_or_else(|| panic!("no error on line {line}: {r}"))
    };
    assert_eq!(find(3)["field"], "postcode");
    assert_eq!(find(3)["code"], "postcode_invalid");
    assert_eq!(find(3)["referentie"], "B-00000001");
    assert_eq!(find(5)["field"], "bedrag");
    assert_eq!(find(5)["code"], "bedrag_missing");
    // The receipt never echoes the bad value.
    assert!(!r.to_string().contains("12345"), "{r}");
}

#[test]
fn unreadable_file_is_rejected_and_nothing_kept() {
    let s = Server::start();
    let mut latin1 = b"referentie;soort;achternaam;huisnummer;postcode;bedrag;ontstaansdatum\n".to_vec();
    latin1.extend_from_slice(b"R1;woninghuur;M\xfcller;1;3311AB;100,00;2026-01-01\n");
    let f = local_file(&s, "latin1.csv", &latin1);
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let r = &s.wait_receipts("woonstad", 1)[0];
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["errors"][0]["code"], "encoding_invalid");
    assert_eq!(r["errors"][0]["byte_offset"], 85);
    assert!(s.sealed_files().is_empty());
}

#[test]
fn identical_reupload_is_a_duplicate_and_adds_nothing() {
    let s = Server::start();
    let data = sample_csv("D", "drinkwater", 10);
    let a = local_file(&s, "vitens_a.csv", &data);
    let b = local_file(&s, "vitens_b.csv", &data);
    let o = s.sftp(
        "vitens",
        &s.key("vitens"),
        &format!("put {} /inbox/\nput {} /inbox/\n", a.display(), b.display()),
    );
    assert!(o.status.success(), "{}", text(&o));
    let r = s.wait_receipts("vitens", 2);
    assert_eq!(r[0]["status"], "accepted");
    assert_eq!(r[1]["status"], "duplicate");
    assert_eq!(r[1]["duplicate_of"], r[0]["file_id"]);
    assert_eq!(r[1]["records"]["accepted"], 0);
    assert_eq!(s.sealed_files().len(), 1);
}

#[test]
fn a_later_file_with_the_same_referentie_replaces_the_record() {
    let s = Server::start();
    let first = sample_csv("C", "drinkwater", 5);
    // Same referenties, other amounts: a correction of all five.
    let text_first = String::from_utf8(first.clone()).unwrap();
    let corrected = text_first.replace(";06 1234 5678;;", ";06 1234 5678;;1").into_bytes();
    assert_ne!(first, corrected);
    let a = local_file(&s, "vitens_1.csv", &first);
    let b = local_file(&s, "vitens_2.csv", &corrected);
    let o = s.sftp(
        "vitens",
        &s.key("vitens"),
        &format!("put {} /inbox/\nput {} /inbox/\n", a.display(), b.display()),
    );
    assert!(o.status.success(), "{}", text(&o));
    let r = s.wait_receipts("vitens", 2);
    assert_eq!(r[0]["records"]["replaced"], 0);
    assert_eq!(r[1]["status"], "accepted", "{}", r[1]);
    assert_eq!(r[1]["records"]["replaced"], 5);
    assert!(r[1]["warnings"].as_array().unwrap().iter().any(|w| w["code"] == "replaced"));
}

#[test]
fn part_upload_is_processed_only_after_rename() {
    let s = Server::start();
    let f = local_file(&s, "w.csv", &sample_csv("P", "woninghuur", 3));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/w.csv.part\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    assert!(s.receipts("woonstad").is_empty(), "a .part upload must wait for its rename");
    // A new session cannot finish another session's .part: it was dropped with the session.
    let o = s.sftp(
        "woonstad",
        &s.key("woonstad"),
        &format!("put {} /inbox/w2.csv.part\nrename /inbox/w2.csv.part /inbox/w2.csv\n", f.display()),
    );
    assert!(o.status.success(), "{}", text(&o));
    let r = s.wait_receipts("woonstad", 1);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["file_name"], "w2.csv");
    assert_eq!(r[0]["status"], "accepted");
}

#[test]
fn path_escapes_symlinks_and_other_operations_are_refused() {
    let s = Server::start();
    let f = local_file(&s, "x.csv", &sample_csv("E", "woninghuur", 2));
    let attempts = [
        format!("put {} /inbox/../x.csv", f.display()),
        format!("put {} /../../etc/x.csv", f.display()),
        format!("put {} /receipts/x.csv", f.display()),
        format!("put {} /x.csv", f.display()),
        format!("put {} /inbox/sub/x.csv", f.display()),
        "get /etc/passwd".to_owned(),
        "get /inbox/../../../../etc/passwd".to_owned(),
        "ls /..".to_owned(),
        "ls /parties".to_owned(),
        "mkdir /inbox/sub".to_owned(),
        "rmdir /receipts".to_owned(),
        "symlink /etc/passwd /inbox/pw".to_owned(),
        "ln -s /etc/passwd /inbox/pw".to_owned(),
        "ln /receipts/x /inbox/hard".to_owned(),
        "rm /receipts/anything.json".to_owned(),
        "rename /receipts/a /inbox/a".to_owned(),
        "chmod 777 /receipts".to_owned(),
        "get /../woonstad/receipts/x".to_owned(),
        "get /../../vitens/receipts/x".to_owned(),
    ];
    for cmd in attempts {
        let o = s.sftp("woonstad", &s.key("woonstad"), &format!("{cmd}\n"));
        assert!(!o.status.success(), "`{cmd}` should be refused: {}", text(&o));
        // OpenSSH's client reports a refused stat during `get`/`ls` globbing as "not found",
        // and does not even try a hard link (the extension is not offered); the status code
        // itself is checked with paramiko (sftp_paramiko.rs).
        let out = text(&o);
        let refusals = ["Permission denied", "not found", "does not support hardlink"];
        assert!(refusals.iter().any(|m| out.contains(m)), "`{cmd}` refused: {out}");
    }
    assert!(s.receipts("woonstad").is_empty());
    assert!(s.sealed_files().is_empty());
    assert!(s.audit().iter().any(|e| e.action == "denied_path"), "path refusals are audited");
}

#[test]
fn wrong_key_unknown_user_and_password_are_refused_and_audited() {
    let s = Server::start();
    // vitens's key for woonstad.
    let o = s.sftp("woonstad", &s.key("vitens"), "ls /\n");
    assert!(!o.status.success(), "{}", text(&o));
    // Unknown user.
    let o = s.sftp("mallory", &s.key("vitens"), "ls /\n");
    assert!(!o.status.success(), "{}", text(&o));
    // Password only.
    let o = std::process::Command::new("sftp")
        .args(["-b", "/dev/null", "-P", &s.port.to_string()])
        .args(common::NO_HOST_CHECK)
        .args(["-o", "PubkeyAuthentication=no", "-o", "PasswordAuthentication=yes", "-o", "BatchMode=yes"])
        .arg("woonstad@127.0.0.1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let denied: Vec<_> = s
        .audit()
        .into_iter()
        .filter(|e| e.action == "login" && e.outcome == meldpunt::audit::Outcome::Denied)
        .collect();
    assert!(denied.len() >= 2, "login failures audited: {denied:?}");
    assert!(denied.iter().any(
        |e| e.actor == "creditor:woonstad" && e.auth.as_deref().is_some_and(|a| a.starts_with("SHA256:"))
    ));
    // The unknown user name is not written into the audit log.
    assert!(!s.audit().iter().any(|e| serde_json::to_string(e).unwrap().contains("mallory")));
    // And the right key works.
    let o = s.sftp("woonstad", &s.key("woonstad"), "ls /\n");
    assert!(o.status.success(), "{}", text(&o));
    assert!(s.audit().iter().any(|e| e.action == "login"
        && e.outcome == meldpunt::audit::Outcome::Ok
        && e.actor == "creditor:woonstad"));
}

#[test]
fn server_offers_strict_kex_against_terrapin() {
    let s = Server::start();
    let o = std::process::Command::new("ssh")
        .args(["-vvv", "-p", &s.port.to_string(), "-i"])
        .arg(s.key("woonstad"))
        .args(common::NO_HOST_CHECK)
        .args(["-o", "BatchMode=yes", "-s"])
        .args(["woonstad@127.0.0.1", "sftp"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let t = text(&o);
    assert!(t.contains("kex-strict-s-v00@openssh.com"), "{t}");
}

#[test]
fn receipt_files_lost_after_filing_come_back_at_start_under_the_upload_name() {
    let mut s = Server::start();
    let f = local_file(&s, "woonstad_2026-12.csv", &sample_csv("R", "woninghuur", 5));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let r = s.wait_receipts("woonstad", 1).remove(0);
    let dir = s.data().join("parties/woonstad/receipts");
    let base = common::receipt_base(&r);
    assert!(base.starts_with("woonstad_2026-12.csv."), "{base}");
    let files = [".json", ".txt", ".json.sig"].map(|e| dir.join(format!("{base}{e}")));
    for f in &files {
        std::fs::remove_file(f).unwrap();
    }
    s.terminate();
    s.restart();
    for f in &files {
        assert!(f.exists(), "{} rewritten at start", f.display());
    }
    assert_eq!(s.receipts("woonstad"), [r], "the same receipt, once");
}
