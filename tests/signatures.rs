//! Signed receipts and batch reports (docs/receipt.md, "Signatures"; docs/proof-of-report.md):
//! every receipt and batch report a run produces, fetched over SFTP and HTTPS with its `.sig`,
//! verifies with OpenSSH's `ssh-keygen -Y verify` against the lines `meldpunt keys
//! receipt-pub` prints, and fails after one changed byte; after `keys rotate-receipt` new
//! receipts are signed by the new key and old ones still verify; the court-proof recipe runs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, bin, local_file, run_batch, sample_csv, text};

/// `meldpunt keys <what> --config …` against the server's installation; its stdout.
fn keys(s: &Server, what: &str) -> String {
    let o = Command::new(bin()).args(["keys", what, "--config"]).arg(&s.inst.config).output().unwrap();
    assert!(o.status.success(), "keys {what}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Writes `lines` as an allowed-signers file in `dir`.
fn allowed_signers(dir: &Path, name: &str, lines: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines).unwrap();
    path
}

/// Whether `ssh-keygen -Y verify` accepts `file` with `file.sig` and the allowed signers.
fn verifies(allowed: &Path, file: &Path) -> bool {
    let mut sig = file.as_os_str().to_owned();
    sig.push(".sig");
    let o = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", "meldpunt", "-n", "meldpunt-receipt", "-s"])
        .arg(&sig)
        .stdin(std::fs::File::open(file).unwrap())
        .output()
        .expect("run ssh-keygen (install openssh-client: scripts/test does)");
    let out = text(&o);
    assert_eq!(o.status.success(), out.contains("Good \"meldpunt-receipt\" signature for meldpunt"), "{out}");
    o.status.success()
}

/// Checks every signed file in `dir` (receipts and batch reports): it has a `.sig`, verifies,
/// and no longer does after one byte of it is changed. Returns the names checked.
fn every_signed_file_verifies_until_changed(dir: &Path, allowed: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    let signed: Vec<String> = names
        .iter()
        .filter(|n| n.ends_with(".receipt.json") || (n.starts_with("batch_") && n.ends_with(".json")))
        .cloned()
        .collect();
    for name in &signed {
        assert!(names.contains(&format!("{name}.sig")), "{name} came without its .sig: {names:?}");
        let file = dir.join(name);
        assert!(verifies(allowed, &file), "{name} does not verify");
        let original = std::fs::read(&file).unwrap();
        let mut changed = original.clone();
        let at = changed.len() / 2;
        changed[at] ^= 0x01;
        std::fs::write(&file, &changed).unwrap();
        assert!(!verifies(allowed, &file), "{name} still verifies after byte {at} changed");
        std::fs::write(&file, &original).unwrap();
    }
    signed
}

/// Fetches a creditor's whole `/receipts` over SFTP into a new local folder.
fn fetch_sftp(s: &Server, party: &str) -> PathBuf {
    let dir = s.tmp.path().join(format!("sftp-{party}"));
    std::fs::create_dir_all(&dir).unwrap();
    let o = s.sftp(party, &s.key(party), &format!("get /receipts/* {}/\n", dir.display()));
    assert!(o.status.success(), "{}", text(&o));
    dir
}

/// Fetches a party's whole `/v1/receipts` over HTTPS (the listing, then each file).
fn fetch_https(s: &Server, party: &str) -> PathBuf {
    let dir = s.tmp.path().join(format!("https-{party}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (code, list) = s.curl(party, &[], "/v1/receipts");
    assert_eq!(code, 200, "{list}");
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    for f in list["files"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let out = dir.join(name);
        let (code, body) = s.curl(party, &["-o", out.to_str().unwrap()], &format!("/v1/receipts/{name}"));
        assert_eq!(code, 200, "{name}: {body}");
    }
    dir
}

#[test]
fn every_receipt_and_batch_report_verifies_with_ssh_keygen_and_not_after_one_changed_byte() {
    let s = Server::start();
    let w = local_file(&s, "woonstad.csv", &sample_csv("W", "woninghuur", 30));
    let bad = local_file(&s, "bad.csv", b"this is not a signal file\n");
    let o = s.sftp(
        "woonstad",
        &s.key("woonstad"),
        &format!(
            "put {} /inbox/woonstad.csv\nput {} /inbox/bad.csv\nput {} /inbox/again.csv\n",
            w.display(),
            bad.display(),
            w.display()
        ),
    );
    assert!(o.status.success(), "{}", text(&o));
    let e = local_file(&s, "eneco.csv", &sample_csv("E", "elektriciteit", 20));
    let (code, body) = s.curl("eneco", &["-T", e.to_str().unwrap()], "/v1/inbox/eneco.csv");
    assert_eq!(code, 201, "{body}");
    let p = run_batch(&s);

    let allowed = allowed_signers(s.tmp.path(), "allowed_signers", &keys(&s, "receipt-pub"));
    let report = format!("batch_{p}.json");
    for (how, dir) in [("sftp", fetch_sftp(&s, "woonstad")), ("https", fetch_https(&s, "eneco"))] {
        let signed = every_signed_file_verifies_until_changed(&dir, &allowed);
        // Over each transport: the receipts (woonstad: accepted, rejected, duplicate) and the report.
        let receipts = signed.iter().filter(|n| n.ends_with(".receipt.json")).count();
        assert_eq!(receipts, if how == "sftp" { 3 } else { 1 }, "{how}: {signed:?}");
        assert!(signed.contains(&report), "{how}: {signed:?}");
    }
    // The same over the other transport for each creditor, file by file.
    let (code, sig) = s.curl("woonstad", &[], &format!("/v1/receipts/{report}.sig"));
    assert_eq!(code, 200, "{sig}");
    assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{sig}");
    let fetched =
        std::fs::read_to_string(s.tmp.path().join("sftp-woonstad").join(format!("{report}.sig"))).unwrap();
    assert_eq!(sig, fetched, "SFTP and HTTPS serve the same signature");
    // The audit key and the receipt key are two keys.
    let audit_pub = keys(&s, "audit-pub");
    let audit_hex = audit_pub.split_whitespace().nth(1).unwrap();
    let receipt_line = std::fs::read_to_string(&allowed).unwrap();
    let receipt_b64 =
        receipt_line.lines().find(|l| !l.starts_with('#')).unwrap().split_whitespace().last().unwrap();
    use base64::Engine as _;
    let blob = base64::engine::general_purpose::STANDARD.decode(receipt_b64).unwrap();
    assert_ne!(hex::encode(&blob[blob.len() - 32..]), audit_hex, "the receipt key is not the audit key");
    let created: Vec<_> = s.audit().into_iter().filter(|e| e.action == "receipt_key_created").collect();
    assert_eq!(created.len(), 1, "the key's creation is audited once");
    assert!(created[0].object["fingerprint"].as_str().unwrap().starts_with("SHA256:"));
    assert!(receipt_line.contains(created[0].object["fingerprint"].as_str().unwrap()));
}

#[test]
fn after_a_rotation_new_receipts_use_the_new_key_and_old_ones_still_verify_with_the_old_line() {
    let s = Server::start();
    let before = local_file(&s, "before.csv", &sample_csv("B", "woninghuur", 5));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/before.csv\n", before.display()));
    assert!(o.status.success(), "{}", text(&o));
    let old_lines = keys(&s, "receipt-pub");
    let old_allowed = allowed_signers(s.tmp.path(), "allowed_old", &old_lines);

    // Rotated while the daemon runs: it signs with the new key from the next receipt on.
    let rotated = keys(&s, "rotate-receipt");
    assert!(rotated.contains("rotated"), "{rotated}");
    let after = local_file(&s, "after.csv", &sample_csv("A", "woninghuur", 5));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/after.csv\n", after.display()));
    assert!(o.status.success(), "{}", text(&o));
    let new_lines = keys(&s, "receipt-pub");
    assert!(
        new_lines.contains("# retired receipt key") && new_lines.contains("# current receipt key"),
        "{new_lines}"
    );
    let old_key_line = old_lines.lines().find(|l| l.starts_with("meldpunt ")).unwrap();
    assert!(
        new_lines.lines().any(|l| l == old_key_line),
        "the old key's line is still printed:\n{new_lines}"
    );
    let new_only: String =
        new_lines.lines().skip_while(|l| !l.starts_with("# current")).map(|l| format!("{l}\n")).collect();
    let new_allowed = allowed_signers(s.tmp.path(), "allowed_new_only", &new_only);
    let all_allowed = allowed_signers(s.tmp.path(), "allowed_all", &new_lines);

    let dir = fetch_sftp(&s, "woonstad");
    let receipts = s.receipts("woonstad");
    let receipt_of = |name: &str| {
        let r = receipts.iter().find(|r| r["file_name"] == name).unwrap();
        dir.join(format!("{}.json", common::receipt_base(r)))
    };
    let (old, new) = (receipt_of("before.csv"), receipt_of("after.csv"));
    assert!(verifies(&old_allowed, &old), "signed before the rotation: verifies with the old line");
    assert!(verifies(&all_allowed, &old), "… and with everything receipt-pub prints now");
    assert!(!verifies(&new_allowed, &old), "… but not with the new key alone");
    assert!(verifies(&new_allowed, &new), "signed after the rotation: by the new key");
    assert!(!verifies(&old_allowed, &new), "… not by the old one");
    every_signed_file_verifies_until_changed(&dir, &all_allowed);

    let audit = s.audit();
    let ev = audit.iter().find(|e| e.action == "receipt_key_rotated").expect("the rotation is audited");
    assert_eq!(ev.actor, "operator");
    let fp = |lines: &str| {
        lines.lines().find(|l| l.starts_with("# current")).unwrap().rsplit(' ').next().unwrap().to_owned()
    };
    assert_eq!(ev.object["previous"], fp(&old_lines));
    assert_eq!(ev.object["fingerprint"], fp(&new_lines));
}

/// The shell commands of docs/proof-of-report.md's recipe (its only `sh` block).
fn recipe() -> String {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/proof-of-report.md"))
        .unwrap();
    let start = page.find("```sh\n").expect("docs/proof-of-report.md has an sh block") + "```sh\n".len();
    let len = page[start..].find("```").unwrap();
    page[start..start + len].to_owned()
}

#[test]
fn the_court_proof_recipe_of_the_docs_proves_a_delivered_referentie_and_fails_on_a_changed_report() {
    let s = Server::start();
    let csv = sample_csv("W", "woninghuur", 30);
    let f = local_file(&s, "woonstad.csv", &csv);
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/woonstad.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let p = run_batch(&s);
    // What the landlord holds: its file, and what it fetched from /receipts.
    let dir = fetch_sftp(&s, "woonstad");
    std::fs::write(dir.join("woonstad.csv"), &csv).unwrap();
    std::fs::write(dir.join("allowed_signers"), keys(&s, "receipt-pub")).unwrap();
    let receipt = format!("{}.json", common::receipt_base(&s.receipts("woonstad")[0]));
    let report_name = format!("batch_{p}.json");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(&report_name)).unwrap()).unwrap();
    let delivered = report["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["delivered"] == true)
        .expect("a delivered signal");
    let referentie = delivered["referentie"].as_str().unwrap();
    let run = || {
        Command::new("bash")
            .args(["-euo", "pipefail", "-c", &recipe()])
            .current_dir(&dir)
            .env("FILE", "woonstad.csv")
            .env("RECEIPT", &receipt)
            .env("REPORT", &report_name)
            .env("REF", referentie)
            .output()
            .unwrap()
    };
    let o = run();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(out.matches("Good \"meldpunt-receipt\" signature for meldpunt").count(), 2, "{out}");
    assert!(
        out.contains("the receipt is of woonstad.csv")
            && out.contains("the report is of the receipt's period"),
        "{out}"
    );
    assert!(
        out.contains(&format!("\"referentie\": \"{referentie}\"")) && out.contains("\"delivered\": true"),
        "{out}"
    );
    assert!(out.contains(&format!("\"gemeente\": \"{}\"", delivered["gemeente"].as_str().unwrap())), "{out}");
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    assert!(out.contains(&format!("\"delivered_on\": \"{today}\"")), "{out}");

    // One byte of the report changed: the recipe stops at the report's signature.
    let path = dir.join(&report_name);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let o = run();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Signature verification failed"), "{}", text(&o));
}

#[test]
fn every_receipt_and_batch_report_of_a_demo_run_verifies_with_ssh_keygen() {
    // `meldpunt demo` as a newcomer runs it: creditors' receipts, batch reports and the
    // municipalities' feedback receipts.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let o = Command::new(bin())
        .args(["demo", "--keep", "--records", "30", "--dir"])
        .arg(&dir)
        .env("MELDPUNT_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new(bin())
        .args(["keys", "receipt-pub", "--config"])
        .arg(dir.join("meldpunt.toml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let allowed = allowed_signers(tmp.path(), "allowed_signers", &String::from_utf8(o.stdout).unwrap());
    let mut checked = Vec::new();
    for party in std::fs::read_dir(dir.join("data").join("parties")).unwrap() {
        let receipts = party.unwrap().path().join("receipts");
        if receipts.is_dir() {
            checked.extend(every_signed_file_verifies_until_changed(&receipts, &allowed));
        }
    }
    let reports = checked.iter().filter(|n| n.starts_with("batch_")).count();
    assert!(reports >= 4, "a batch report per creditor: {checked:?}");
    assert!(checked.len() >= 2 * reports, "receipts and reports: {checked:?}");
}
