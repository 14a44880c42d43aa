//! Erasure on request (docs/storage-and-retention.md): one person at an address, in three periods and (after a
//! change of municipality borders in the routing table) two municipalities. `meldpunt erase`,
//! killed after its first re-sealed file, then again while it re-issues a bundle, and run a
//! third time, removes them from the vault, the state,
//! the creditor's reports and terugmelding files, and from every bundle not yet picked up (a
//! new version without them; the old unpicked version gone). The picked-up bundle stays and
//! is named. Nothing of them is left anywhere in the data directory; inzage finds nobody else's
//! data and, after the erasure, nothing about them.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::scan::{found, with_household};
use common::{Server, bin, local_file, text};
use meldpunt::domain::period::{Cutoff, Period, local_date, zone};

fn meldpunt(s: &Server, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(&s.inst.config)
        .env("MELDPUNT_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// Names in a municipality's pickup folder for a period.
fn pickup(s: &Server, code: &str, p: Period) -> BTreeSet<String> {
    std::fs::read_dir(s.data().join("parties").join(code).join("pickup"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().into_string().unwrap())
                .filter(|n| n.starts_with(&format!("{code}_{p}_")))
                .collect()
        })
        .unwrap_or_default()
}

/// The plaintext of every bundle of `code` for `p` version `v`, decrypted with the `age` CLI.
fn bundles(s: &Server, code: &str, p: Period, v: u32) -> String {
    let mut out = String::new();
    for name in pickup(s, code, p) {
        if name.starts_with(&format!("{code}_{p}_v{v}_")) && name.ends_with(".age") {
            let file = s.data().join("parties").join(code).join("pickup").join(&name);
            let key = s.inst.dir.join("clients").join(code).join("age.key");
            let o = Command::new("age").arg("-d").arg("-i").arg(key).arg(&file).output().unwrap();
            assert!(o.status.success(), "{name}: {}", text(&o));
            out.push_str(&String::from_utf8(o.stdout).unwrap());
        }
    }
    assert!(!out.is_empty(), "no bundle {code} {p} v{v}");
    out
}

/// The plaintext of every file in the vault (sealed files and their key indexes), each
/// decrypted with its period's key by the `age` CLI, with the count of key indexes.
fn vault_plaintext(s: &Server) -> (Vec<u8>, usize) {
    let (mut out, mut indexes) = (Vec::new(), 0);
    for period in std::fs::read_dir(s.data().join("vault")).unwrap().flatten() {
        let name = period.file_name().to_string_lossy().into_owned();
        if name == "tmp" {
            continue;
        }
        let key = s.data().join("keys/periods").join(&name);
        for f in std::fs::read_dir(period.path()).unwrap().flatten() {
            indexes += usize::from(f.file_name().to_string_lossy().ends_with(".keys.age"));
            let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(f.path()).output().unwrap();
            assert!(o.status.success(), "{}: {}", f.path().display(), text(&o));
            out.extend_from_slice(&o.stdout);
        }
    }
    (out, indexes)
}

/// The batch report entries of woonstad for `p` (latest full version): referentie → signal id.
fn report(s: &Server, p: Period) -> Vec<(String, String)> {
    let path = s.data().join(format!("parties/woonstad/receipts/batch_{p}.json"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["referentie"].as_str().unwrap().to_owned(), e["signaal_id"].as_str().unwrap().to_owned()))
        .collect()
}

fn inzage(s: &Server, out: &Path, person: bool) -> serde_json::Value {
    let mut args =
        vec!["inzage", "--postcode", "3311AB", "--huisnummer", "10", "--out", out.to_str().unwrap()];
    if person {
        args.extend(["--achternaam", "Jansen-Test"]);
    }
    let o = meldpunt(s, &args, &[]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

#[test]
fn erase_removes_a_person_everywhere_reissues_unpicked_bundles_and_survives_a_kill() {
    let s = Server::start();
    let now = jiff::Timestamp::now();
    let p = Cutoff::default().period_of(now);
    let periods = [p.prev().prev(), p.prev(), p];
    // Two earlier periods (backfilled), batched while 3311 belongs to GM0505.
    for (i, period) in periods[..2].iter().enumerate() {
        let on = period.first_day().checked_add(jiff::ToSpan::days(9)).unwrap();
        let f = local_file(&s, &format!("f{i}.csv"), &with_household(&format!("P{i}"), 60 + i as u64, on));
        let at = on.at(12, 0, 0, 0).to_zoned(zone()).unwrap().timestamp().to_string();
        let o = meldpunt(&s, &["ingest", "--as", "woonstad", f.to_str().unwrap(), "--received-at", &at], &[]);
        assert!(o.status.success(), "{}", text(&o));
        let o = meldpunt(&s, &["batch", "run", "--early", "--period", &period.to_string()], &[]);
        assert!(o.status.success(), "{}", text(&o));
    }
    // GM0505 fetches its oldest bundle (a real SFTP download: that is a pickup).
    let csv = pickup(&s, "GM0505", periods[0]).into_iter().find(|n| n.ends_with("csv.age")).unwrap();
    let o = s.sftp(
        "GM0505",
        &s.key("GM0505"),
        &format!("get /pickup/{csv} {}\n", s.tmp.path().join("x").display()),
    );
    assert!(o.status.success(), "{}", text(&o));
    // The person's signal of the middle period gets feedback, routed to woonstad.
    let sid = report(&s, periods[1]).into_iter().find(|(r, _)| r == "P1-HH-0").unwrap().1;
    let fb = local_file(
        &s,
        "fb.csv",
        format!("signaal_id;resultaat;datum\n{sid};quick_fix;{}\n", local_date(now)).as_bytes(),
    );
    let o = s.sftp("GM0505", &s.key("GM0505"), &format!("put {} /feedback/fb.csv\n", fb.display()));
    assert!(o.status.success(), "{}", text(&o));
    let feedback_dir = s.data().join("parties/woonstad/feedback");
    let deadline = Instant::now() + Duration::from_secs(20);
    while found(&feedback_dir, &["P1-HH-0".to_string()].into()).is_empty() {
        assert!(Instant::now() < deadline, "terugmelding never written");
        std::thread::sleep(Duration::from_millis(100));
    }
    // From now on 3311AB lies in GM0642 (a change of borders); this month's file goes there.
    let routing = s.tmp.path().join("routing.csv");
    let mut table = std::fs::read_to_string(s.inst.dir.join("routing.csv")).unwrap();
    table.push_str("3311AB;;;GM0642\n");
    std::fs::write(&routing, table).unwrap();
    let o = meldpunt(&s, &["routing", "import", routing.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let f = local_file(&s, "f2.csv", &with_household("P2", 62, local_date(now)));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/f2.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let o = meldpunt(&s, &["batch", "run", "--early", "--period", &p.to_string()], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(bundles(&s, "GM0505", periods[1], 1).contains("Jansen-Test"));
    assert!(bundles(&s, "GM0642", p, 1).contains("Jansen-Test"));

    // What inzage shows before: the person in three periods, two municipalities.
    let before = inzage(&s, &s.tmp.path().join("before.json"), true);
    let gemeenten: BTreeSet<&str> = before["signalen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["geleverd_aan"]["gemeente"].as_str().unwrap())
        .collect();
    assert_eq!(before["signalen"].as_array().unwrap().len(), 3, "{before}");
    assert_eq!(gemeenten, ["GM0505", "GM0642"].into());
    assert!(!before.to_string().contains("Pietersen"), "nobody else's data");
    let theirs: BTreeSet<String> = ["Jansen-Test", "P0-HH-0", "P1-HH-0", "P2-HH-0"].map(String::from).into();
    assert!(!found(&s.data(), &theirs).is_empty(), "before erasure the scan finds them (it works)");
    // The batches left key indexes beside the sealed files; decrypted, they and the files hold
    // the person's referenties.
    let (sealed, indexes) = vault_plaintext(&s);
    assert!(indexes >= 3, "a key index per sealed file of the batched periods: {indexes}");
    let referenties = ["P0-HH-0", "P1-HH-0", "P2-HH-0"];
    assert!(referenties.iter().all(|r| sealed.windows(r.len()).any(|w| w == r.as_bytes())));
    let others_before = pickup(&s, "GM0642", periods[1]);
    let pietersen_ids: Vec<(String, String)> =
        report(&s, periods[1]).into_iter().filter(|(r, _)| r == "P1-HH-1").collect();

    // A dry run counts and changes nothing.
    let selector = ["erase", "--postcode", "3311 ab", "--huisnummer", "10", "--achternaam", "jansen-test"];
    let o = meldpunt(&s, &[&selector[..], &["--dry-run"]].concat(), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("would erase: 3 record(s) about the subject in 3 period(s)"), "{out}");
    assert!(out.contains("bundles re-issued: 2") && out.contains("picked up already"), "{out}");
    assert_eq!(pickup(&s, "GM0505", periods[1]).len(), 3, "nothing changed");

    // Killed right after the first sealed file is re-sealed…
    let o = meldpunt(&s, &selector, &[("MELDPUNT_TEST_ABORT_ERASE_AFTER_RESEAL", "1")]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(found(&s.data(), &theirs).iter().any(|(v, _)| v == "P1-HH-0"), "state rows not yet gone");
    let o = meldpunt(&s, &[&selector[..], &["--dry-run"]].concat(), &[]);
    assert!(text(&o).contains("an interrupted erasure is still to be finished"), "{}", text(&o));
    // …then, finishing that, right after the first file of the first re-issued bundle…
    let o = meldpunt(&s, &selector, &[("MELDPUNT_TEST_ABORT_BATCH_AFTER", "1")]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        !pickup(&s, "GM0505", periods[1]).iter().any(|n| n.contains("_v2_manifest")),
        "no manifest of a half-delivered version"
    );
    // …and run again: it finishes.
    let o = meldpunt(&s, &selector, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("bundles re-issued: 2 (older unpicked versions removed: 2)"), "{out}");
    assert!(out.contains(&format!("GM0505 {}: picked up already", periods[0])), "{out}");

    // New versions without the person (their household member still there), old ones gone.
    for (code, period) in [("GM0505", periods[1]), ("GM0642", p)] {
        let names = pickup(&s, code, period);
        assert!(names.iter().all(|n| n.contains("_v2_")), "{code} {period}: {names:?}");
        assert_eq!(names.len(), 3, "{names:?}");
        let plain = bundles(&s, code, period, 2);
        assert!(!plain.contains("Jansen-Test") && plain.contains("Pietersen"), "{code} {period}: {plain}");
    }
    assert!(pickup(&s, "GM0505", periods[0]).iter().all(|n| n.contains("_v1_")), "the picked-up one stays");
    assert_eq!(pickup(&s, "GM0642", periods[1]), others_before, "untouched where they were not");
    // Other signals keep their ids; the reports and terugmeldingen lose only the person.
    let after: Vec<(String, String)> = report(&s, periods[1]);
    assert!(after.iter().all(|(r, _)| r != "P1-HH-0"));
    assert!(pietersen_ids.iter().all(|e| after.contains(e)), "{pietersen_ids:?}");
    assert!(bundles(&s, "GM0505", periods[1], 2).contains(&pietersen_ids[0].1));

    // Nothing of them anywhere in the data directory (SQLite files, WAL included).
    let hits = found(&s.data(), &theirs);
    assert!(hits.is_empty(), "left after erasure: {hits:?}");
    // Nor inside the vault: the re-sealed files and every key index, decrypted.
    let (sealed, _) = vault_plaintext(&s);
    for r in referenties.iter().chain(&["Jansen-Test"]) {
        assert!(!sealed.windows(r.len()).any(|w| w == r.as_bytes()), "{r} left in the vault");
    }
    assert!(sealed.windows(9).any(|w| w == b"Pietersen"), "the other person stays");
    // Inzage: nothing about them; the address shows only the other person, in every period.
    let gone = inzage(&s, &s.tmp.path().join("after.json"), true);
    assert_eq!(gone["signalen"].as_array().unwrap().len(), 0, "{gone}");
    let address = inzage(&s, &s.tmp.path().join("address.json"), false);
    let left = address["signalen"].as_array().unwrap();
    assert_eq!(left.len(), 3, "{address}");
    assert!(left.iter().all(|h| h["signaal"]["achternaam"] == "Pietersen"));

    // Audited with counts only; a third run has nothing to do.
    let events = s.audit();
    let ev: Vec<_> = events.iter().filter(|e| e.action == "erase").collect();
    assert_eq!(ev.len(), 1, "the killed run did not finish, so it did not audit");
    assert_eq!(ev[0].object["bundles_reissued"], 2, "{:?}", ev[0]);
    assert!(
        events
            .iter()
            // The postcode as written (a bare "3311" also turns up in hex digests now and then).
            .map(|e| e.object.to_string().to_lowercase())
            .all(|o| !o.contains("3311ab") && !o.contains("3311 ab") && !o.contains("jansen"))
    );
    let o = meldpunt(&s, &selector, &[]);
    assert!(o.status.success() && text(&o).contains("erased: 0 record(s)"), "{}", text(&o));
    let ev = s.audit().into_iter().rfind(|e| e.action == "erase").unwrap();
    assert_eq!((ev.object["records"].clone(), ev.object["resumed"].clone()), (0.into(), false.into()));
}
