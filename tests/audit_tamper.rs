//! Tamper tests (issue 7): a sample audit log is damaged in every way an attacker or an
//! accident could, and the real `meldpunt audit verify` must name what is wrong each time.
//! Every bit of an export is flipped, one at a time, through the same parser and verifier
//! the command uses.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, text};
use meldpunt::audit::{Audit, AuditKey, Event, Outcome, PublicKey, Record};
use meldpunt::layout::Layout;
use meldpunt::state::State;
use serde_json::json;

struct Sample {
    _tmp: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
    pristine: PathBuf,
    pubkey: PathBuf,
    public: PublicKey,
}

/// An installation whose log has 4 events from 2018 (past retention), then 12 of today,
/// with checkpoints after events 4, 12 and 16.
fn sample() -> Sample {
    let tmp = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&tmp.path().join("inst")).unwrap();
    let layout = Layout::new(inst.dir.join("data"));
    std::fs::create_dir_all(layout.root()).unwrap();
    let key = AuditKey::load_or_create(&layout.audit_key()).unwrap();
    {
        let audit = Audit::open(State::open(&layout.state_db()).unwrap()).unwrap();
        for i in 0..4 {
            let ts: jiff::Timestamp = format!("2018-0{}-10T10:00:00Z", i + 1).parse().unwrap();
            let ev = Event::new("creditor:woonstad", "login", Outcome::Ok).origin("10.0.0.1:2000");
            audit.emit_at_blocking(ev, ts).unwrap();
        }
        audit.checkpoint_blocking(&key, "interval", true).unwrap();
        for i in 0..12u64 {
            let ev = Event::new("creditor:vitens", "upload", Outcome::Ok)
                .auth("SHA256:abc")
                .origin("10.0.0.2:2001")
                .object(json!({ "file_id": format!("F{i}"), "bytes": 100 + i }));
            audit.emit_blocking(ev).unwrap();
            if i == 7 {
                audit.checkpoint_blocking(&key, "interval", true).unwrap();
            }
        }
        audit.checkpoint_blocking(&key, "shutdown", false).unwrap();
    }
    let pubkey = tmp.path().join("audit.pub");
    std::fs::write(&pubkey, format!("{}\n", key.public())).unwrap();
    let db = layout.state_db();
    let pristine = tmp.path().join("pristine.db");
    std::fs::copy(&db, &pristine).unwrap();
    Sample { config: inst.config, db, pristine, pubkey, public: key.public(), _tmp: tmp }
}

impl Sample {
    /// Puts the untouched database back.
    fn restore(&self) {
        for ext in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", self.db.display()));
        }
        std::fs::copy(&self.pristine, &self.db).unwrap();
    }

    /// Restores, then changes the database directly with SQL.
    fn tamper(&self, sql: &str) {
        self.restore();
        rusqlite::Connection::open(&self.db).unwrap().execute_batch(sql).unwrap();
    }

    /// `meldpunt audit verify` on the database: (success, output).
    fn verify(&self) -> (bool, String) {
        let o = Command::new(bin())
            .args(["audit", "verify", "--pubkey"])
            .arg(&self.pubkey)
            .arg("--config")
            .arg(&self.config)
            .output()
            .unwrap();
        (o.status.success(), text(&o))
    }

    /// `meldpunt audit verify --from FILE`: (success, output).
    fn verify_export(&self, file: &Path) -> (bool, String) {
        let o = Command::new(bin())
            .args(["audit", "verify", "--pubkey"])
            .arg(&self.pubkey)
            .arg("--from")
            .arg(file)
            .output()
            .unwrap();
        (o.status.success(), text(&o))
    }

    /// `meldpunt audit verify --against EARLIER` on the database: (success, output).
    fn verify_against(&self, earlier: &Path) -> (bool, String) {
        let o = Command::new(bin())
            .args(["audit", "verify", "--pubkey"])
            .arg(&self.pubkey)
            .arg("--against")
            .arg(earlier)
            .arg("--config")
            .arg(&self.config)
            .output()
            .unwrap();
        (o.status.success(), text(&o))
    }

    fn records(&self) -> Vec<Record> {
        Audit::open(State::open(&self.db).unwrap()).unwrap().records().unwrap()
    }
}

/// Asserts verification fails and its message contains every one of `words`.
fn detected(case: &str, (ok, out): (bool, String), words: &[&str]) {
    assert!(!ok, "{case}: not detected:\n{out}");
    for w in words {
        assert!(out.contains(w), "{case}: message lacks {w:?}:\n{out}");
    }
    println!("{case}: detected: {}", out.trim());
}

#[test]
fn every_kind_of_tampering_with_the_database_is_detected_with_the_right_message() {
    let s = sample();
    let (ok, out) = s.verify();
    assert!(ok, "{out}");
    assert!(out.contains("OK") && out.contains("16 events") && out.contains("3 checkpoints"), "{out}");

    s.tamper("UPDATE audit SET object = '{\"bytes\":999,\"file_id\":\"F3\"}' WHERE seq = 8");
    detected("altered event", s.verify(), &["event 8:", "altered"]);

    s.tamper("DELETE FROM audit WHERE seq = 6");
    detected("deleted event", s.verify(), &["event 7:", "expected event 6", "missing"]);

    s.tamper("DELETE FROM audit WHERE seq > 13");
    detected("truncated tail", s.verify(), &["event 13:", "events 14..=16 were removed (truncated)"]);

    // Reordered: events 9 and 10 swap places (their seq numbers are exchanged).
    s.tamper(
        "UPDATE audit SET seq = -1 WHERE seq = 9; UPDATE audit SET seq = 9 WHERE seq = 10;
         UPDATE audit SET seq = 10 WHERE seq = -1;",
    );
    detected("reordered events", s.verify(), &["event 9:", "reordered"]);

    // A re-chained forgery: event 10 changed, it and every later event re-hashed.
    s.restore();
    let mut recs = s.records();
    recs[9].object = json!({ "bytes": 1, "file_id": "FORGED" });
    let mut prev = recs[8].hash.clone();
    let mut sql = String::new();
    for r in recs.iter_mut().skip(9) {
        r.prev = prev;
        r.hash = r.compute_hash();
        prev = r.hash.clone();
        sql.push_str(&format!(
            "UPDATE audit SET object = '{}', prev = '{}', hash = '{}' WHERE seq = {};",
            r.object, r.prev, r.hash, r.seq
        ));
    }
    meldpunt::audit::verify_chain(&recs).expect("the forged chain itself is consistent");
    s.tamper(&sql);
    detected(
        "re-chained forgery",
        s.verify(),
        &["event 12:", "rewritten and re-chained (forgery)", "events 5..=12"],
    );

    // … with its checkpoints re-signed by a key the forger made.
    let forger = AuditKey::load_or_create(&s._tmp.path().join("forger")).unwrap();
    let mut cps = Audit::open(State::open(&s.db).unwrap()).unwrap().checkpoints().unwrap();
    let mut sql2 = sql.clone();
    for c in cps.iter_mut().filter(|c| c.seq >= 12) {
        c.head = recs[c.seq as usize - 1].hash.clone();
        c.sig = forger.sign(&c.message());
        sql2.push_str(&format!(
            "UPDATE audit_checkpoints SET head = '{}', sig = '{}' WHERE seq = {};",
            c.head, c.sig, c.seq
        ));
    }
    s.tamper(&sql2);
    detected("forgery with re-signed checkpoints", s.verify(), &["signature does not verify", "forged"]);

    // A tampered field quoted in the message reaches the terminal escaped.
    s.tamper("UPDATE audit_checkpoints SET ts = ts || char(27) || '[2J' || char(10) || 'OK' WHERE seq = 12");
    let (ok, out) = s.verify();
    detected("checkpoint time altered", (ok, out.clone()), &["checkpoint of event 12", "\\u{1b}[2J\\u{a}OK"]);
    let failed = out.lines().find(|l| l.starts_with("FAILED")).unwrap();
    assert!(!failed.contains('\u{1b}'), "{failed:?}");

    s.tamper("DELETE FROM audit WHERE seq <= 4");
    detected(
        "purge without an anchor",
        s.verify(),
        &["event 5:", "events 1..=4 are missing", "no signed purge anchor"],
    );

    // The legitimate purge of the same events (by the real command) verifies.
    s.restore();
    let o = Command::new(bin()).args(["audit", "purge", "--config"]).arg(&s.config).output().unwrap();
    assert!(o.status.success() && text(&o).contains("purged events 1..=4"), "{}", text(&o));
    let (ok, out) = s.verify();
    assert!(ok && out.contains("events 1..=4 were purged for retention"), "{out}");
    // … and an altered anchor does not.
    rusqlite::Connection::open(&s.db).unwrap().execute_batch("UPDATE audit_anchors SET through = 3").unwrap();
    detected("altered anchor", s.verify(), &["purge anchor", "signature does not verify"]);
}

#[test]
fn every_bit_flip_of_an_export_is_detected() {
    let s = sample();
    let file = s._tmp.path().join("export.jsonl");
    export_to(&s, &file);
    let (ok, out) = s.verify_export(&file);
    assert!(ok, "{out}");
    let bytes = std::fs::read(&file).unwrap();

    // The command's own reader and verifier, on the bytes in memory.
    let check = |b: &[u8]| {
        meldpunt::audit::offline::verify_export(std::io::Cursor::new(b), &s.public, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(check(&bytes), Ok(()));
    let mut flipped = bytes.clone();
    let (mut detected_n, mut total) = (0usize, 0usize);
    let mut missed = Vec::new();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            flipped[i] ^= 1 << bit;
            total += 1;
            if check(&flipped).is_err() {
                detected_n += 1;
            } else {
                missed.push((i, bit));
            }
            flipped[i] ^= 1 << bit;
        }
    }
    println!("bit flips detected: {detected_n} of {total} ({} bytes)", bytes.len());
    assert!(missed.is_empty(), "undetected flips (byte, bit): {missed:?}");
    assert_eq!(detected_n, bytes.len() * 8);

    // The command says what is wrong, for a flip in an event and in a checkpoint signature.
    let text_of = String::from_utf8(bytes.clone()).unwrap();
    let damaged = s._tmp.path().join("damaged.jsonl");
    let at = text_of.find("\"F5\"").unwrap() + 2;
    let mut b = bytes.clone();
    b[at] ^= 1; // F5 → F4
    std::fs::write(&damaged, &b).unwrap();
    detected("bit flip in an event", s.verify_export(&damaged), &["FAILED", "altered"]);
    let at = text_of.rfind("\"sig\":\"").unwrap() + 10;
    let mut b = bytes.clone();
    b[at] ^= 1;
    std::fs::write(&damaged, &b).unwrap();
    let (ok, out) = s.verify_export(&damaged);
    assert!(!ok && out.contains("FAILED"), "{out}");

    // Lines removed from the middle and from the end of an export.
    let lines: Vec<&str> = text_of.lines().collect();
    let without = |skip: &dyn Fn(usize) -> bool| {
        let kept: String =
            lines.iter().enumerate().filter(|(i, _)| !skip(*i)).map(|(_, l)| format!("{l}\n")).collect();
        std::fs::write(&damaged, kept).unwrap();
    };
    without(&|i| i == 6);
    detected("event deleted from an export", s.verify_export(&damaged), &["FAILED", "missing"]);
    let n = lines.len();
    without(&|i| i + 2 >= n);
    detected("export tail cut", s.verify_export(&damaged), &["FAILED", "tail was cut"]);
    std::fs::write(&damaged, &bytes[..bytes.len() - 40]).unwrap();
    detected("export cut mid-line", s.verify_export(&damaged), &["FAILED", "cut"]);
}

#[test]
fn an_export_since_a_date_verifies_on_its_own_with_only_the_public_key() {
    let s = sample();
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let o = Command::new(bin())
        .args(["audit", "export", "--since", &today, "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let export = String::from_utf8(o.stdout).unwrap();
    assert!(export.starts_with("{\"checkpoint\":"), "starts at the checkpoint before --since:\n{export}");
    assert!(!export.contains("2018-"), "older events are left out");
    let file = s._tmp.path().join("since.jsonl");
    std::fs::write(&file, &export).unwrap();
    // Verified elsewhere: no configuration, only the key and the file.
    let (ok, out) = s.verify_export(&file);
    assert!(ok, "{out}");
    let (ok, out) = {
        let o = Command::new(bin()).args(["audit", "verify", "--from"]).arg(&file).output().unwrap();
        (o.status.success(), text(&o))
    };
    assert!(!ok && out.contains("--pubkey"), "{out}");
    // Someone else's key does not verify it.
    let other = s._tmp.path().join("other.pub");
    let k = AuditKey::load_or_create(&s._tmp.path().join("other")).unwrap();
    std::fs::write(&other, k.public().to_string()).unwrap();
    let o = Command::new(bin())
        .args(["audit", "verify", "--pubkey"])
        .arg(&other)
        .arg("--from")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!o.status.success() && text(&o).contains("signature does not verify"), "{}", text(&o));
}

#[test]
fn a_rewrite_re_signed_with_the_hosts_own_key_is_caught_against_the_officers_earlier_export() {
    let s = sample();
    let earlier = s._tmp.path().join("earlier.jsonl");
    export_to(&s, &earlier);
    let (ok, out) = s.verify_against(&earlier);
    assert!(ok && out.contains("is still there, unchanged"), "{out}");

    // An intruder with root has the signing key: event 10 is changed, the chain re-computed
    // and every later checkpoint re-signed with the real key.
    let key = AuditKey::load(&Layout::new(s.db.parent().unwrap()).audit_key()).unwrap();
    let mut recs = s.records();
    recs[9].object = json!({ "bytes": 1, "file_id": "FORGED" });
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    let mut prev = recs[8].hash.clone();
    for r in recs.iter_mut().skip(9) {
        r.prev = prev;
        r.hash = r.compute_hash();
        prev = r.hash.clone();
        conn.execute(
            "UPDATE audit SET object = ?1, prev = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![r.object.to_string(), r.prev, r.hash, r.seq as i64],
        )
        .unwrap();
    }
    for mut c in Audit::open(State::open(&s.db).unwrap())
        .unwrap()
        .checkpoints()
        .unwrap()
        .into_iter()
        .filter(|c| c.seq >= 10)
    {
        c.head = recs[c.seq as usize - 1].hash.clone();
        c.sig = key.sign(&c.message());
        conn.execute(
            "UPDATE audit_checkpoints SET head = ?1, sig = ?2 WHERE seq = ?3 AND reason = ?4",
            rusqlite::params![c.head, c.sig, c.seq as i64, c.reason],
        )
        .unwrap();
    }
    drop(conn);
    let (ok, out) = s.verify();
    assert!(ok, "with the key, the host's log alone cannot show it (documented limit): {out}");
    detected(
        "re-signed rewrite, against the earlier export",
        s.verify_against(&earlier),
        &["event 10:", "differs from your earlier export"],
    );

    // … and, on another installation, events removed from the end with their checkpoints.
    let s = sample();
    let earlier = s._tmp.path().join("earlier.jsonl");
    export_to(&s, &earlier);
    rusqlite::Connection::open(&s.db)
        .unwrap()
        .execute_batch("DELETE FROM audit WHERE seq >= 15; DELETE FROM audit_checkpoints WHERE seq >= 15")
        .unwrap();
    detected(
        "tail and checkpoints removed, against the earlier export",
        s.verify_against(&earlier),
        &["event 15:", "gone from the log"],
    );
}

fn export_to(s: &Sample, file: &Path) {
    let o = Command::new(bin())
        .args(["audit", "export", "--config"])
        .arg(&s.config)
        .arg("-o")
        .arg(file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}
