//! `meldpunt routing import` as an operator uses it, on an installation `meldpunt demo --keep`
//! left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use meldpunt::audit::{Outcome, Record};
use sha2::{Digest, Sha256};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_meldpunt")
}

/// A demo installation in a temp dir (kept alive by the returned guard).
fn installation() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inst");
    let o = Command::new(bin())
        .args(["demo", "--keep", "--records", "1", "--dir"])
        .arg(&dir)
        .env("MELDPUNT_LOG", "error")
        .output()
        .unwrap();
    assert!(o.status.success(), "demo failed:\n{}", text(&o));
    (tmp, dir)
}

fn import(dir: &Path, file: &Path) -> Output {
    Command::new(bin())
        .args(["routing", "import", "--config"])
        .arg(dir.join("meldpunt.toml"))
        .arg(file)
        .env("MELDPUNT_LOG", "error")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn routing_imports(dir: &Path) -> Vec<Record> {
    let state = meldpunt::state::State::open(&dir.join("data").join("state.db")).unwrap();
    let records = meldpunt::audit::Audit::open(state).unwrap().records().unwrap();
    records.into_iter().filter(|r| r.action == "routing_import").collect()
}

#[test]
fn import_of_a_cbs_export_installs_the_canonical_table_and_is_audited() {
    let (_tmp, dir) = installation();
    let file = dir.join("pc6hnr_gwb.csv");
    let cbs = "\"PC6\";\"Huisnummer\";\"Buurt2024\";\"Wijk2024\";\"Gemeente2024\"\n\
               3311AB;1;05050101;050501;505\n\
               3311AB;3;05050101;050501;505\n\
               3311AB;2;06420101;064201;0642\n\
               3331AA;12;06420101;064201;642\n\
               3331AA;14;06420101;064201;642\n\
               3012 AA;1;05990101;059901;599\n";
    std::fs::write(&file, cbs).unwrap();
    let o = import(&dir, &file);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for want in [
        "entries:        5",
        "PC6:            5 (3 with a house-number range)",
        "PC4:            0",
        "municipalities: 3",
        "not configured: 1",
        "warning: 1 municipalities in the table have no [[municipality]]",
        "GM0599",
    ] {
        assert!(t.contains(want), "expected {want:?} in:\n{t}");
    }
    let installed = std::fs::read_to_string(dir.join("routing.csv")).unwrap();
    assert_eq!(
        installed,
        "postcode;huisnummer_van;huisnummer_tot;gemeente\n\
         3012AA;;;GM0599\n3311AB;1;1;GM0505\n3311AB;2;2;GM0642\n3311AB;3;3;GM0505\n3331AA;;;GM0642\n"
    );
    let table = meldpunt::batch::routing::RoutingTable::load(&dir.join("routing.csv")).unwrap();
    let pc = |s: &str| meldpunt::domain::signal::Postcode::parse(s).unwrap();
    assert_eq!(table.route(&pc("3311AB"), 2).map(|c| c.as_str()), Some("GM0642"));
    assert_eq!(table.route(&pc("3331AA"), 99).map(|c| c.as_str()), Some("GM0642"));

    let events = routing_imports(&dir);
    assert_eq!(events.len(), 1, "{events:#?}");
    let ev = &events[0];
    assert_eq!((ev.actor.as_str(), ev.outcome), ("operator", Outcome::Ok));
    assert_eq!(ev.object["sha256"], hex::encode(Sha256::digest(cbs.as_bytes())));
    assert_eq!(ev.object["table_sha256"], hex::encode(Sha256::digest(installed.as_bytes())));
    assert_eq!(ev.object["entries"], 5);
    assert_eq!(ev.object["format"], "export");
    assert_eq!(ev.object["unconfigured"], 1);
    let object = ev.object.to_string();
    assert!(!object.contains("3311") && !object.contains("3331"), "no postcodes in the audit: {object}");
}

#[test]
fn import_of_a_broken_table_names_every_problem_and_changes_nothing() {
    let (_tmp, dir) = installation();
    let before = std::fs::read(dir.join("routing.csv")).unwrap();
    let file = dir.join("broken.csv");
    std::fs::write(
        &file,
        "postcode;huisnummer_van;huisnummer_tot;gemeente\n\
         3311;;;GM0505\n\
         0311;;;GM0505\n\
         3312AB;9;5;GM0505\n\
         3313;4;;GM0505\n\
         3314;;;Dordrecht\n\
         3311;;;GM0642\n\
         3317AB;1;10;GM0505\n\
         3317AB;10;20;GM0642\n",
    )
    .unwrap();
    let o = import(&dir, &file);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    for (line, field, what) in [
        (3, "postcode", "'0311' is not a postcode"),
        (4, "huisnummer_van", "9-5 runs backwards"),
        (5, "huisnummer_tot", "huisnummer_tot is empty"),
        (6, "gemeente", "'Dordrecht' is not a municipality code"),
        (7, "gemeente", "on line 2"),
        (9, "huisnummer_van", "on line 8"),
    ] {
        let prefix = format!("broken.csv:{line}: {field}: ");
        assert!(
            t.lines().any(|l| l.contains(&prefix) && l.contains(what) && l.ends_with(')')),
            "expected a problem on line {line} in {field} about {what:?}:\n{t}"
        );
    }
    assert!(t.contains("6 problem(s)") && t.contains("was not changed"), "{t}");
    assert_eq!(std::fs::read(dir.join("routing.csv")).unwrap(), before, "the table must not change");
    let events = routing_imports(&dir);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].outcome, Outcome::Denied);
    assert_eq!(events[0].object["problems"], 6);
}

#[test]
fn import_of_the_demo_table_leaves_it_as_it_was() {
    let (_tmp, dir) = installation();
    let before = std::fs::read_to_string(dir.join("routing.csv")).unwrap();
    let copy = dir.join("copy.csv");
    std::fs::write(&copy, &before).unwrap();
    let o = import(&dir, &copy);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("entries:        6"), "{}", text(&o));
    assert!(
        !text(&o).contains("warning"),
        "the demo routes to its configured municipalities only: {}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(dir.join("routing.csv")).unwrap(), before);
}
