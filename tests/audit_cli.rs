//! The officer's commands against real installations: privacy of the whole demo cycle, log
//! injection, the daemon's own audit trail (config_load, start, stop, shutdown checkpoint),
//! the monthly report and `meldpunt check` of `[audit]`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Server, bin, text};
use meldpunt::audit::{Audit, Event, Outcome};
use meldpunt::state::State;
use serde_json::json;

/// The personal data in the bundles a demo delivered (decrypted with the `age` CLI): surnames,
/// postcodes, house number + postcode, and amounts per person and per household.
fn personal_data(demo: &Path) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for gm in ["GM0505", "GM0642"] {
        let pickup = demo.join("data/parties").join(gm).join("pickup");
        for f in std::fs::read_dir(&pickup).unwrap().flatten() {
            if !f.file_name().to_string_lossy().ends_with(".csv.age") {
                continue;
            }
            let o = Command::new("age")
                .args(["-d", "-i"])
                .arg(demo.join("clients").join(gm).join("age.key"))
                .arg(f.path())
                .output()
                .expect("age (scripts/test installs it)");
            assert!(o.status.success(), "{}", text(&o));
            let csv = String::from_utf8(o.stdout).unwrap();
            let mut lines = csv.trim_start_matches('\u{feff}').lines();
            let header: Vec<&str> = lines.next().unwrap().split(';').collect();
            let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
            let (name, pc, nr) = (col("achternaam"), col("postcode"), col("huisnummer"));
            let (amount, total) = (col("bedrag_achterstand"), col("totaal_achterstand_huishouden"));
            for l in lines {
                let f: Vec<&str> = l.split(';').collect();
                out.insert(f[name].to_owned());
                out.insert(f[pc].to_owned());
                out.insert(format!("{} {}", f[pc], f[nr]));
                out.insert(format!("{}{}", f[pc], f[nr]));
                for a in [f[amount], f[total]] {
                    out.insert(a.to_owned());
                    out.insert(a.replace(',', "."));
                }
            }
        }
    }
    assert!(out.len() > 20, "the demo delivered personal data to look for");
    out.into_iter().collect()
}

/// Whether `needle` occurs in `hay` as a whole token (not inside a longer number or word).
fn occurs(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[test]
fn the_full_demo_cycle_leaves_no_personal_data_in_audit_events_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    // Every log line meldpunt writes (debug and up, as JSON), not only the demo's default.
    let o = Command::new(bin())
        .args(["--log-json", "demo", "--keep", "--records", "40", "--dir"])
        .arg(&demo)
        .env("MELDPUNT_LOG", "debug,russh=info,russh_sftp=info,hyper=info,rustls=info,h2=info")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let logs = String::from_utf8_lossy(&o.stderr).into_owned();
    let log_lines = logs.lines().filter(|l| l.starts_with('{')).count();
    assert!(logs.contains("\"target\":\"audit\""), "audit events are logged: {logs}");

    let config = demo.join("meldpunt.toml");
    let o = Command::new(bin()).args(["audit", "export", "--config"]).arg(&config).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let events = String::from_utf8(o.stdout).unwrap();
    let n_events = events.lines().filter(|l| l.starts_with("{\"seq\"")).count();
    for action in ["config_load", "start", "login", "upload", "receipt", "batch", "stop"] {
        assert!(events.contains(&format!("\"action\":\"{action}\"")), "no {action} event:\n{events}");
    }

    let data = personal_data(&demo);
    let hits: Vec<(&str, &str)> = data
        .iter()
        .flat_map(|d| {
            [("audit", &events), ("log", &logs)]
                .into_iter()
                .filter(|(_, hay)| occurs(hay, d))
                .map(move |(w, _)| (w, d.as_str()))
        })
        .collect();
    println!(
        "privacy: {} values of personal data searched in {n_events} audit events and {log_lines} log lines: {} hits",
        data.len(),
        hits.len()
    );
    assert!(hits.is_empty(), "personal data found: {hits:?}");
    // The search itself works: the values are found in the decrypted bundles' own words.
    assert!(occurs("x;3311AB;y", "3311AB") && !occurs("13311AB9", "3311AB"));
}

const NASTY: &str = "evil\nname\r\u{1b}[31mRED\u{1b}[0m\u{7}\u{9b}2J\u{202e}vsc.csv\"},{\"seq\":1}\t'";

#[test]
fn control_characters_in_events_are_stored_exactly_and_shown_escaped() {
    let s = Server::start();
    {
        let audit = Audit::open(State::open(&s.data().join("state.db")).unwrap()).unwrap();
        let ev = Event::new(format!("creditor:{NASTY}"), "upload", Outcome::Denied)
            .origin(NASTY)
            .auth(NASTY)
            .object(json!({ "file_name": NASTY, NASTY: 1 }));
        audit.emit_blocking(ev).unwrap();
        let stored = audit.records().unwrap().pop().unwrap();
        assert_eq!(stored.actor, format!("creditor:{NASTY}"), "stored as given");
        assert_eq!(stored.object["file_name"], NASTY);
    }
    let show = |extra: &[&str]| {
        let o = Command::new(bin())
            .args(["audit", "show", "--action", "upload", "--outcome", "denied", "--config"])
            .arg(&s.inst.config)
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let unsafe_chars =
        |t: &str| t.chars().filter(|c| *c != '\n' && meldpunt::audit::escape::is_unsafe(*c)).count();
    let table = show(&[]);
    assert_eq!(unsafe_chars(&table), 0, "{table:?}");
    assert_eq!(table.lines().count(), 3, "header, one event, count — no injected lines:\n{table}");
    assert!(table.contains("evil\\nname\\r\\u{1b}[31mRED") && table.contains("\\u{202e}"), "{table}");
    let jsonl = show(&["--json"]);
    assert_eq!(unsafe_chars(&jsonl), 0, "{jsonl:?}");
    assert_eq!(jsonl.lines().count(), 1, "{jsonl}");
    let back: serde_json::Value = serde_json::from_str(jsonl.trim_end()).unwrap();
    assert_eq!(back["object"]["file_name"], NASTY, "JSON output is escaped, not changed");
    assert_eq!(back["origin"], NASTY);
    // The chain still verifies: escaping is for display only.
    let o = Command::new(bin()).args(["audit", "verify", "--config"]).arg(&s.inst.config).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn the_daemon_audits_its_configuration_start_and_stop_and_signs_a_checkpoint_at_shutdown() {
    let mut s = Server::start();
    s.terminate();
    let mut text_cfg = std::fs::read_to_string(&s.inst.config).unwrap();
    text_cfg.push_str("\n[audit]\ncheckpoint_interval_secs = 60\n");
    std::fs::write(&s.inst.config, text_cfg).unwrap();
    s.restart();
    s.terminate();
    let events = s.audit();
    let loads: Vec<_> = events.iter().filter(|e| e.action == "config_load").collect();
    assert_eq!(loads.len(), 2);
    assert_eq!(loads[0].object["changed"], false);
    assert_eq!(loads[1].object["changed"], true, "a changed configuration is on the record");
    assert_eq!(loads[1].object["previous"], loads[0].object["sha256"]);
    assert_eq!(events.iter().filter(|e| e.action == "start").count(), 2);
    assert_eq!(events.last().unwrap().action, "stop");
    let audit = Audit::open(State::open(&s.data().join("state.db")).unwrap()).unwrap();
    let cps = audit.checkpoints().unwrap();
    let last = cps.last().expect("a checkpoint");
    assert_eq!((last.reason.as_str(), last.seq), ("shutdown", events.last().unwrap().seq));

    let pubkey = s.tmp.path().join("audit.pub");
    let o = Command::new(bin()).args(["keys", "audit-pub", "--config"]).arg(&s.inst.config).output().unwrap();
    assert!(o.status.success() && text(&o).starts_with("meldpunt-audit-ed25519 "), "{}", text(&o));
    std::fs::write(&pubkey, &o.stdout).unwrap();
    let o = Command::new(bin())
        .args(["audit", "verify", "--pubkey"])
        .arg(&pubkey)
        .arg("--config")
        .arg(&s.inst.config)
        .output()
        .unwrap();
    assert!(o.status.success() && text(&o).contains("OK"), "{}", text(&o));
    // BIO 8.15 fields on local events: origin `local`, and the operator's OS user.
    let events = s.audit();
    let start = events.iter().find(|e| e.action == "start").unwrap();
    assert_eq!(start.origin.as_deref(), Some("local"));
    let check = events.iter().find(|e| e.action == "audit_verify").expect("the officer's check is recorded");
    assert_eq!((check.actor.as_str(), check.outcome), ("operator", Outcome::Ok));
    assert!(check.auth.as_deref().is_some_and(|a| a.starts_with("uid:")), "{check:?}");
}

#[test]
fn the_monthly_report_counts_per_party_and_flags_anomalies_as_text_and_json() {
    let s = Server::start();
    let key = s.key("woonstad");
    let file = common::local_file(&s, "r.csv", &common::sample_csv("R", "woninghuur", 5));
    let o = s.sftp("woonstad", &key, &format!("put {} /inbox/r.csv\n", file.display()));
    assert!(o.status.success(), "{}", text(&o));
    // Six refused logins in a row from this host: a burst (threshold 5 in 10 minutes).
    for _ in 0..6 {
        let _ = s.sftp("woonstad", &s.key("vitens"), "ls\n");
    }
    let period = meldpunt::domain::period::local_date(jiff::Timestamp::now()).strftime("%Y-%m").to_string();
    let report = |json: bool| {
        let mut c = Command::new(bin());
        c.args(["audit", "report", "--period", &period, "--config"]).arg(&s.inst.config);
        if json {
            c.arg("--json");
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let j: serde_json::Value = serde_json::from_str(&report(true)).unwrap();
    let w = &j["parties"]["creditor:woonstad"];
    assert_eq!(
        (w["logins_ok"].as_u64(), w["files"].as_u64(), w["records"].as_u64()),
        (Some(1), Some(1), Some(5)),
        "{j}"
    );
    assert!(w["logins_failed"].as_u64().unwrap() >= 6, "{j}");
    let bursts =
        j["anomalies"].as_array().unwrap().iter().filter(|a| a["kind"] == "failed_login_burst").count();
    assert!(bursts >= 1, "{j}");
    let t = report(false);
    assert!(t.contains("creditor:woonstad") && t.contains("failed-login burst"), "{t}");
}

#[test]
fn check_names_bad_audit_settings_with_line_and_fix() {
    let s = Server::start();
    let cfg = s.tmp.path().join("bad.toml");
    let mut t = std::fs::read_to_string(&s.inst.config).unwrap();
    t.push_str("\n[audit]\nretention_months = 0\ncheckpoint_interval_secs = 5\n");
    std::fs::write(&cfg, t).unwrap();
    let o = Command::new(bin()).arg("check").arg("--config").arg(&cfg).output().unwrap();
    let out = text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("retention_months = 0 is out of range") && out.contains("the default is 84"),
        "{out}"
    );
    assert!(out.contains("checkpoint_interval_secs = 5 is out of range"), "{out}");
    assert!(out.contains("bad.toml:"), "the file and line are named: {out}");
    // A damaged audit key is named too.
    std::fs::write(s.data().join("keys/audit_ed25519"), "not a key\n").unwrap();
    let o = Command::new(bin()).arg("check").arg("--config").arg(&s.inst.config).output().unwrap();
    let out = text(&o);
    assert!(
        !o.status.success() && out.contains("audit_ed25519") && out.contains("audit signing key"),
        "{out}"
    );
}
