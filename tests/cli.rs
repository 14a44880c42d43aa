//! The command line as an operator uses it: check, ingest, demo.

mod common;

use std::process::Command;

use common::{bin, sample_csv, text};

#[test]
fn check_passes_on_the_example_configuration() {
    let o = Command::new(bin()).args(["check", "--config", "config/meldpunt.toml"]).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ok (2 creditors, 1 municipalities"));
}

#[test]
fn check_names_every_problem_with_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("broken.toml");
    std::fs::write(
        &cfg,
        "data_dir = \"data\"\n\
         [periods]\ncutoff_day = 31\n\
         [[creditor]]\nid = \"Woon Stad\"\nname = \"x\"\nkinds = [\"huur\"]\nagreements = [\"*\"]\n\
         [[creditor]]\nid = \"vitens\"\nname = \"Vitens\"\nkinds = [\"drinkwater\"]\nagreements = [\"GM505\"]\n\
         ssh_keys = [\"ssh-ed25519 nonsense\"]\nssh_key_files = [\"missing.pub\"]\n\
         tls_fingerprints = [\"abcd\"]\n\
         [https]\ncert = \"nope.crt\"\nkey = \"nope.key\"\nclient_ca = [\"nope-ca.crt\"]\n\
         [[municipality]]\ncode = \"GM0505\"\nname = \"D\"\nage_recipients = []\noin = \"123\"\n",
    )
    .unwrap();
    let o = Command::new(bin()).arg("check").arg("--config").arg(&cfg).output().unwrap();
    assert!(!o.status.success());
    let t = text(&o);
    for (line, what) in [
        (3, "cutoff_day"),
        (5, "Woon Stad"),
        (7, "huur"),
        (13, "GM505"),
        (14, "SSH key"),
        (15, "missing.pub"),
        (16, "fingerprint"),
        (18, "nope.crt"),
        (19, "nope.key"),
        (20, "nope-ca.crt"),
        (22, "no age recipients"),
        (25, "OIN"),
    ] {
        assert!(
            t.lines().any(|l| l.contains(&format!("broken.toml:{line}:")) && l.contains(what)),
            "expected a problem on line {line} about {what}:\n{t}"
        );
    }
    assert!(t.contains("12 problem(s)"), "{t}");
}

#[test]
fn operator_ingest_goes_through_intake_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let f = dir.path().join("history_2026-09.csv");
    std::fs::write(&f, sample_csv("H", "woninghuur", 12)).unwrap();
    let o = Command::new(bin())
        .args(["ingest", "--config"])
        .arg(&inst.config)
        .arg(&f)
        .args(["--as", "woonstad", "--received-at", "2026-09-10T10:00:00Z"])
        .output()
        .unwrap();
    let t = text(&o);
    // Sample dates are relative to today; backfilled to September some fail the window check,
    // so either outcome with records is fine — but the period must be the backfilled one.
    assert!(t.contains("period 2026-09"), "{t}");
    let state = meldpunt::state::State::open(&inst.dir.join("data/state.db")).unwrap();
    let events = meldpunt::audit::Audit::open(state).unwrap().records().unwrap();
    let upload = events.iter().find(|e| e.action == "upload").expect("upload audited");
    assert_eq!(upload.actor, "operator");
    assert_eq!(upload.object["creditor"], "woonstad");
    assert_eq!(meldpunt::audit::verify_chain(&events), Ok(events.len() as u64));
}

#[test]
fn a_file_after_the_cutoff_belongs_to_the_next_period_and_its_receipt_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&dir.path().join("i")).unwrap();
    let ingest = |name: &str, at: &str| {
        let f = dir.path().join(name);
        std::fs::write(&f, sample_csv(&name[..1].to_uppercase(), "woninghuur", 3)).unwrap();
        let o = Command::new(bin())
            .args(["ingest", "--config"])
            .arg(&inst.config)
            .arg(&f)
            .args(["--as", "woonstad", "--received-at", at])
            .env("MELDPUNT_LOG", "warn")
            .output()
            .unwrap();
        text(&o)
    };
    // 23:59:59 on the 25th in Amsterdam (CET, UTC+1) is still November …
    let t = ingest("in.csv", "2026-11-25T22:59:59Z");
    assert!(t.contains("period 2026-11") && !t.contains("after_cutoff"), "{t}");
    // … one second later it is December, and the receipt explains why.
    let t = ingest("late.csv", "2026-11-25T23:00:00Z");
    assert!(t.contains("period 2026-12") && t.contains("after_cutoff"), "{t}");
}

#[test]
fn demo_runs_and_keeps_a_working_installation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("demo");
    let o =
        Command::new(bin()).args(["demo", "--keep", "--records", "30", "--dir"]).arg(&d).output().unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for status in ["accepted ", "accepted_with_errors", "duplicate"] {
        assert!(t.contains(status), "demo output lacks {status}:\n{t}");
    }
    // The municipal side: pickup, feedback, and what reached the creditors.
    assert!(t.contains("removed it (= acknowledged)") && t.contains("sent a terugmelding"), "{t}");
    let data = d.join("data/parties");
    let terug: Vec<_> = ["woonstad", "vitens", "eneco", "zilveren-kruis"]
        .iter()
        .flat_map(|c| std::fs::read_dir(data.join(c).join("feedback")).into_iter().flatten().flatten())
        .collect();
    assert!(!terug.is_empty(), "terugmeldingen written:\n{t}");
    assert!(t.contains("hulp_geaccepteerd") && !t.contains(";overleden;"), "{t}");
    for p in [
        "meldpunt.toml",
        "routing.csv",
        "clients/woonstad/ssh_ed25519",
        "clients/woonstad/ssh_ed25519.pub",
        "clients/GM0505/age.key",
    ] {
        assert!(d.join(p).exists(), "{p} missing from the kept installation");
    }
    let o = Command::new(bin()).arg("check").arg("--config").arg(d.join("meldpunt.toml")).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
}
