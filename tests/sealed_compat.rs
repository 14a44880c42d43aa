//! Sealed files of an earlier release are still read (issue 24). `tests/fixtures/sealed-1/data`
//! is a data directory into which meldpunt 479c2ea ingested three files for period 2026-10
//! (`meldpunt-sealed-1`; how it was made: the README beside it). With this build, over a copy
//! of it: inzage before any batch, the batch, both municipalities' bundles decrypted with the
//! `age` CLI (every field of every signal, non-ASCII names byte for byte, the correction
//! applied, the objected and withdrawn records absent), inzage after it, and the erasure of
//! one person (their sealed lines in three files removed, a new bundle version without them,
//! everybody else intact).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};

use common::{Installation, bin, text};

const PERIOD: &str = "2026-10";

/// Every signal that must arrive, as its bundle CSV row should show it (columns by name).
/// From the fixture's input/: WS-2 is the corrected version (275,50, not 250,00); WS-4
/// (withdrawn by a later objection) and WS-8 (objected to) are not here.
const EXPECTED: &str = "\
referentie_signaalpartner;gemeente;soort_signaal;fase;voorletters;voorvoegsel;achternaam;geboortedatum;straatnaam;huisnummer;huisletter;huisnummertoevoeging;postcode;plaatsnaam;telefoonnummer;email;bedrag_achterstand;ontstaansdatum;signaaldatum;herinneringsdatum;contactpoging;schuldhulp_gewezen;crisissignaal;totaal_achterstand_huishouden;periode
WS-1;GM0505;woninghuur;eerste;Đ.;;Đorđević;1978-03-14;Voorstraat;10;;;3311AB;Dordrecht;06 1111 0001;d.dordevic@example.org;812,40;2026-07-01;2026-10-05;2026-07-20;ja;ja;nee;2410,56;2026-10
WS-2;GM0505;woninghuur;eerste;A.M.;;Müller;1990-11-02;Voorstraat;10;;;3311AB;Dordrecht;;;275,50;2026-08-01;2026-10-19;2026-08-15;ja;ja;nee;2410,56;2026-10
WS-3;GM0505;woninghuur;eerste;J.;van der;\"Berg \"\"de\"\" ; Çelik\";1985-06-30;Voorstraat;10;;;3311AB;Dordrecht;;;1234,56;2026-06-01;2026-10-05;2026-06-20;ja;ja;ja;2410,56;2026-10
VT-1;GM0505;drinkwater;eerste;A.M.;;Müller;1990-11-02;Voorstraat;10;;;3311AB;Dordrecht;;;88,10;2026-08-01;2026-10-07;;;;nee;2410,56;2026-10
WS-5;GM0505;woninghuur;eerste;É.;;Smit-Öztürk;1995-04-04;Wijnstraat;7;A;bis;3312CD;Dordrecht;;;150,00;2026-08-01;2026-10-05;2026-08-15;ja;ja;nee;150,00;2026-10
WS-6;GM0642;woninghuur;eerste;P.J.;'t;Hart;1960-12-24;Kerkstraat;22;;;3331GH;Zwijndrecht;;;640,00;2026-07-15;2026-10-05;2026-08-01;ja;ja;nee;760,00;2026-10
VT-2;GM0642;drinkwater;eerste;P.;;Bakker;1975-05-05;Kerkstraat;22;;;3331GH;Zwijndrecht;;;120,00;2026-08-10;2026-10-07;;;;nee;760,00;2026-10
";

/// What must be in no bundle: the withdrawn and the objected record, and the corrected amount.
const ABSENT: [&str; 5] = ["WS-4", "Jansen", "WS-8", "Visser", "250,00"];

/// A scratch demo installation (configuration, routing, the municipalities' age identities)
/// whose data directory is a copy of the fixture.
fn installation(tmp: &Path) -> Installation {
    let inst = meldpunt::demo::setup::create(&tmp.join("inst")).unwrap();
    let data = inst.dir.join("data");
    assert!(!data.exists(), "the demo installation comes without a data directory");
    copy_private(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sealed-1/data"), &data);
    inst
}

/// Copies a folder, with the private modes meldpunt gives its data (git keeps neither).
fn copy_private(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())).flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_private(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

fn meldpunt(inst: &Installation, args: &[&str]) -> Output {
    let o = Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(&inst.config)
        .env("MELDPUNT_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "meldpunt {args:?}: {}", text(&o));
    o
}

/// `meldpunt inzage` for an address (and person): its stdout and the JSON it wrote.
fn inzage(
    inst: &Installation,
    out: &str,
    address: &[&str],
    person: Option<&str>,
) -> (String, serde_json::Value) {
    let out = inst.dir.join(out);
    let mut args = vec!["inzage", "--out", out.to_str().unwrap()];
    args.extend(address);
    if let Some(p) = person {
        args.extend(["--achternaam", p]);
    }
    let o = meldpunt(inst, &args);
    (String::from_utf8(o.stdout).unwrap(), serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap())
}

/// The referenties of an inzage export with their surnames, sorted.
fn held(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = doc["signalen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["periode"], PERIOD, "{s}");
            let r = &s["signaal"];
            (r["referentie"].as_str().unwrap().to_owned(), r["achternaam"].as_str().unwrap().to_owned())
        })
        .collect();
    out.sort();
    out
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
    out.sort();
    out
}

const HOME: [&str; 4] = ["--postcode", "3311AB", "--huisnummer", "10"];

/// File names in a municipality's pickup folder.
fn pickup(inst: &Installation, code: &str) -> BTreeSet<String> {
    std::fs::read_dir(inst.dir.join("data/parties").join(code).join("pickup"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .collect()
}

/// A bundle file of `code` for the period, version `v`, decrypted by the `age` CLI.
fn bundle(inst: &Installation, code: &str, v: u32, ext: &str) -> Vec<u8> {
    let name = format!("{code}_{PERIOD}_v{v}_signalen.{ext}.age");
    let file = inst.dir.join("data/parties").join(code).join("pickup").join(&name);
    let key = inst.dir.join("clients").join(code).join("age.key");
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(key)
        .arg(&file)
        .output()
        .expect("run age (scripts/test installs it)");
    assert!(o.status.success(), "{name}: {}", text(&o));
    o.stdout
}

/// Rows of a `;`-separated CSV (a leading byte-order mark skipped), each as column → value.
fn rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().delimiter(b';').from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    r.records()
        .map(|rec| header.iter().cloned().zip(rec.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}

/// The expected rows (`EXPECTED`).
fn expected() -> Vec<BTreeMap<String, String>> {
    rows(EXPECTED.as_bytes())
}

/// Checks both bundle files of `code` version `v`: exactly the signals of `want` that go to
/// `code`, every column `want` names as it says, none of `absent` anywhere; returns the CSV
/// rows by referentie.
fn check_bundle(
    inst: &Installation,
    code: &str,
    v: u32,
    want: &[BTreeMap<String, String>],
    absent: &[&str],
) -> BTreeMap<String, BTreeMap<String, String>> {
    let want: BTreeMap<&str, &BTreeMap<String, String>> = want
        .iter()
        .filter(|r| r["gemeente"] == code)
        .map(|r| (r["referentie_signaalpartner"].as_str(), r))
        .collect();
    let csv = bundle(inst, code, v, "csv");
    let got: BTreeMap<String, BTreeMap<String, String>> =
        rows(&csv).into_iter().map(|r| (r["referentie_signaalpartner"].clone(), r)).collect();
    assert_eq!(
        got.keys().map(String::as_str).collect::<Vec<_>>(),
        want.keys().copied().collect::<Vec<_>>(),
        "{code} v{v}: the signals in the bundle"
    );
    for (referentie, row) in &want {
        for (column, value) in *row {
            assert_eq!(
                got[*referentie].get(column),
                Some(value),
                "{code} v{v} {referentie} column {column}: {:?}",
                got[*referentie]
            );
        }
    }
    let json = bundle(inst, code, v, "json");
    for plain in [&csv, &json] {
        let plain = std::str::from_utf8(plain).unwrap();
        for a in absent {
            assert!(!plain.contains(a), "{code} v{v}: {a} in a bundle:\n{plain}");
        }
    }
    // The JSON bundle: the same signals, each under its person with the names as sent.
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!((doc["gemeente"].as_str(), doc["periode"].as_str()), (Some(code), Some(PERIOD)));
    let mut seen = BTreeMap::new();
    for h in doc["huishoudens"].as_array().unwrap() {
        for p in h["personen"].as_array().unwrap() {
            let names = [&p["voorletters"], &p["voorvoegsel"], &p["achternaam"]]
                .map(|v| v.as_str().unwrap_or("").to_owned());
            for s in p["signalen"].as_array().unwrap() {
                let referentie = s["referentie_signaalpartner"].as_str().unwrap().to_owned();
                seen.insert(
                    referentie,
                    (names.clone(), s["bedrag_achterstand"].as_str().unwrap().to_owned()),
                );
            }
        }
    }
    let from_want: BTreeMap<String, ([String; 3], String)> = want
        .iter()
        .map(|(r, row)| {
            let names = ["voorletters", "voorvoegsel", "achternaam"].map(|c| row[c].clone());
            ((*r).to_owned(), (names, row["bedrag_achterstand"].clone()))
        })
        .collect();
    assert_eq!(seen, from_want, "{code} v{v}: the JSON bundle");
    got
}

#[test]
fn a_data_directory_sealed_by_479c2ea_is_batched_shown_and_erased() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = installation(tmp.path());

    // Before any batch: inzage reads the sealed files without key indexes. The address holds
    // three people (Müller twice: the corrected WS-2 only), nothing delivered yet.
    let (said, before) = inzage(&inst, "before.json", &HOME, None);
    assert!(said.starts_with("4 signal(s) in 1 period(s)"), "{said}");
    assert_eq!(
        held(&before),
        pairs(&[
            ("VT-1", "Müller"),
            ("WS-1", "Đorđević"),
            ("WS-2", "Müller"),
            ("WS-3", "Berg \"de\" ; Çelik")
        ])
    );
    let ws2 = before["signalen"].as_array().unwrap().iter().find(|s| s["signaal"]["referentie"] == "WS-2");
    assert_eq!(ws2.unwrap()["signaal"]["bedrag"], 27550, "the correction wins: {before}");
    assert!(before["signalen"].as_array().unwrap().iter().all(|s| s["geleverd_aan"].is_null()));
    let (_, withdrawn) = inzage(
        &inst,
        "withdrawn.json",
        &["--postcode", "3312CD", "--huisnummer", "7", "--huisletter", "A", "--toevoeging", "bis"],
        None,
    );
    assert_eq!(held(&withdrawn), pairs(&[("WS-5", "Smit-Öztürk")]), "WS-4 withdrawn by its objection");

    // The batch of the period: both municipalities get exactly their signals.
    let o = meldpunt(&inst, &["batch", "run", "--period", PERIOD]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.starts_with(&format!("batch {PERIOD} v1\n")), "{out}");
    let gm0505 = check_bundle(&inst, "GM0505", 1, &expected(), &ABSENT);
    check_bundle(&inst, "GM0642", 1, &expected(), &ABSENT);
    // One household of three people at Voorstraat 10 (3311 ab and 3311AB alike).
    let home: BTreeSet<&str> =
        ["WS-1", "WS-2", "WS-3", "VT-1"].iter().map(|r| gm0505[*r]["huishouden_id"].as_str()).collect();
    assert_eq!(home.len(), 1, "{gm0505:?}");
    let persons: BTreeSet<&str> =
        ["WS-1", "WS-2", "WS-3", "VT-1"].iter().map(|r| gm0505[*r]["persoon_nr"].as_str()).collect();
    assert_eq!(persons.len(), 3, "{gm0505:?}");
    assert_eq!(gm0505["WS-2"]["persoon_nr"], gm0505["VT-1"]["persoon_nr"]);
    // The surname with a quote and a `;` arrives quoted, as RFC 4180 has it.
    let raw = String::from_utf8(bundle(&inst, "GM0505", 1, "csv")).unwrap();
    assert!(raw.contains(";van der;\"Berg \"\"de\"\" ; Çelik\";"), "{raw}");

    // Inzage of one person: their signal, as sent, and where it went.
    let (said, one) = inzage(&inst, "one.json", &HOME, Some("Đorđević"));
    assert!(said.starts_with("1 signal(s) in 1 period(s)"), "{said}");
    let s = &one["signalen"][0];
    assert_eq!(held(&one), pairs(&[("WS-1", "Đorđević")]));
    assert_eq!(
        (s["signaal"]["voorletters"].as_str(), s["signaal"]["bedrag"].as_u64()),
        (Some("Đ."), Some(81240))
    );
    assert_eq!(s["signaal"]["email"], "d.dordevic@example.org");
    assert_eq!(
        (s["signaalpartner"].as_str(), s["geleverd_aan"]["gemeente"].as_str()),
        (Some("woonstad"), Some("GM0505"))
    );
    assert_eq!(s["signaal_id"].as_str(), Some(gm0505["WS-1"]["signaal_id"].as_str()));

    // Erasure of Müller: WS-2 in two files (the record and its correction) and VT-1.
    let o =
        meldpunt(&inst, &["erase", "--postcode", "3311 ab", "--huisnummer", "10", "--achternaam", "Müller"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    for line in [
        "erased: 3 record(s) about the subject in 1 period(s)\n",
        "sealed lines (with other versions of the same signals): 3\n",
        "sealed files re-sealed: 3\n",
        "bundles re-issued: 1 (older unpicked versions removed: 1)\n",
        &format!("  GM0505 {PERIOD}: now v2\n"),
    ] {
        assert!(out.contains(line), "{line:?} not in:\n{out}");
    }
    let (said, gone) = inzage(&inst, "gone.json", &HOME, Some("Müller"));
    assert!(said.starts_with("0 signal(s) in 1 period(s)"), "{said}");
    assert_eq!(held(&gone), []);
    let (_, rest) = inzage(&inst, "rest.json", &HOME, None);
    assert_eq!(held(&rest), pairs(&[("WS-1", "Đorđević"), ("WS-3", "Berg \"de\" ; Çelik")]));
    let (_, other) = inzage(&inst, "other.json", &["--postcode", "3331GH", "--huisnummer", "22"], None);
    assert_eq!(held(&other), pairs(&[("VT-2", "Bakker"), ("WS-6", "Hart")]));
    // The new version of GM0505's bundle: everybody else, unchanged (household total now
    // without Müller's 363,60); GM0642's untouched.
    let mut without = expected();
    without.retain(|r| r["achternaam"] != "Müller");
    for r in without.iter_mut().filter(|r| r["postcode"] == "3311AB") {
        r.insert("totaal_achterstand_huishouden".into(), "2046,96".into());
    }
    let v2 = check_bundle(&inst, "GM0505", 2, &without, &[&ABSENT[..], &["Müller", "VT-1", "WS-2"]].concat());
    assert_eq!(v2["WS-1"]["signaal_id"], gm0505["WS-1"]["signaal_id"], "signal ids stay");
    assert!(pickup(&inst, "GM0505").iter().all(|n| !n.contains("_v1_")), "{:?}", pickup(&inst, "GM0505"));
    assert!(pickup(&inst, "GM0642").iter().all(|n| n.contains("_v1_")), "{:?}", pickup(&inst, "GM0642"));
    check_bundle(&inst, "GM0642", 1, &expected(), &ABSENT);
}
