//! Known clients, privately (docs/known-clients.md), against the real daemon with real clients:
//!
//! - the operator makes Dordrecht's key with `meldpunt clients key new`; the municipality hashes
//!   its case system's export with `meldpunt clients hash` (no configuration) and uploads the
//!   list over OpenSSH `sftp` into `/clients`;
//! - the batch marks exactly the signals of listed people `bekend = ja` — one written
//!   `Berg, van der` in the export where the signal has voorvoegsel `van der` + `Berg` — in the
//!   CSV (read back with the `age` CLI and Python's csv) and the JSON bundle, and a
//!   `bekend = true` queue rule puts exactly those in its queue;
//! - a second list over `PUT /v1/clients` (curl) replaces the first: the audit gives the
//!   replaced count, the old hashes are gone from the database;
//! - a byte scan of the whole data directory and the daemon's log finds none of the export's
//!   plaintext and no uploaded file;
//! - a list older than `[clients] max_age_days` stops counting: nobody is marked, `status` says
//!   so, `clients_expired` is audited once with the count;
//! - after `clients key rotate` the stored list is gone and a list made with the old key is
//!   refused as `mismatch`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, local_file, meldpunt, text};

/// Reads a decrypted CSV bundle with Python's csv module: a list of {column: value} rows.
const PY_ROWS: &str = r#"
import csv, json, sys
print(json.dumps(list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))))
"#;

/// The signals Woonstad sends: referentie, voorvoegsel, achternaam, geboortedatum, postcode,
/// huisnummer, huisletter. W-1 and W-2 are on the client list; W-3 has a listed name at
/// another address, W-5 the listed address and birth date without the prefix.
const SIGNALS: [(&str, &str, &str, &str, &str, &str, &str); 5] = [
    ("W-1", "van der", "Berg", "1980-05-01", "3311AB", "12", "A"),
    ("W-2", "", "Jansen", "1975-03-03", "3311AC", "5", ""),
    ("W-3", "", "Jansen", "1975-03-03", "3311AC", "7", ""),
    ("W-4", "de", "Vries", "1990-01-01", "3311AD", "9", ""),
    ("W-5", "", "Berg", "1980-05-01", "3311AB", "12", "A"),
];

/// The case system's export: van der Berg written the other way, the address in other case
/// and spacing, a dd-mm-yyyy date, and a client who is in no signal.
const EXPORT: &str = "Postcode;Huisnummer;Huisletter;Huisnummertoevoeging;Achternaam;Geboortedatum;Dossiernummer\n\
                      3311 ab;12;a;;Berg, van der;1980-05-01;D-1001\n\
                      3311AC;5;;;JANSEN;03-03-1975;D-1002\n\
                      3312 ZZ;99;;bis;Kwakkelstein;1961-07-07;D-1003\n";

/// The second list's export: Jansen and the client in no signal only.
const EXPORT_2: &str = "postcode,huisnummer,achternaam,geboortedatum\n\
                        3311AC,5,Jansen,1975-03-03\n\
                        3312ZZ,99,Kwakkelstein,1961-07-07\n";

/// Text of the exports that must never be found in the data directory or the log.
const PLAINTEXT: [&str; 6] =
    ["Kwakkelstein", "KWAKKELSTEIN", "3312ZZ", "3312 ZZ", "1961-07-07", "Berg, van der"];

fn signal_file() -> Vec<u8> {
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let day = |days: i64| today.checked_sub(jiff::Span::new().days(days)).unwrap().to_string();
    let mut csv = String::from(
        "referentie;soort;voorvoegsel;achternaam;geboortedatum;postcode;huisnummer;huisletter;bedrag;\
         ontstaansdatum;herinneringsdatum;contactpoging;schuldhulp_gewezen\n",
    );
    for (r, vv, naam, born, pc, nr, letter) in SIGNALS {
        csv.push_str(&format!(
            "{r};woninghuur;{vv};{naam};{born};{pc};{nr};{letter};750,00;{};{};ja;ja\n",
            day(60),
            day(40)
        ));
    }
    csv.into_bytes()
}

/// Dordrecht's queues with a `bekend` queue first.
fn with_bekend_queue(config: &mut String) {
    let queues = "werkbakken = [\"sdd\", \"brief_en_bellen\", \"brief\"]\n";
    assert!(config.contains(queues));
    *config = config.replacen(
        queues,
        "werkbakken = [\"bekend\", \"sdd\", \"brief_en_bellen\", \"brief\"]\n\
         [[municipality.werkbak_rule]]\nwerkbak = \"bekend\"\nbekend = true\n",
        1,
    );
}

/// `meldpunt clients hash` on `export`, without any configuration; the hashed list's path.
fn hash(s: &Server, key: &Path, export: &str, name: &str) -> PathBuf {
    let input = local_file(s, &format!("{name}.csv"), export.as_bytes());
    let out = s.tmp.path().join(format!("{name}.txt"));
    let o = Command::new(common::bin())
        .args(["clients", "hash", "--key"])
        .arg(key)
        .arg("--in")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .env_remove("MELDPUNT_CONFIG")
        .current_dir(s.tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hashed into"), "{}", text(&o));
    out
}

/// The rows of Dordrecht's CSV bundle of version `v`, decrypted with `age`, read with Python.
fn bundle_rows(s: &Server, v: u32) -> BTreeMap<String, BTreeMap<String, String>> {
    let plain = decrypt(s, &format!("_v{v}_signalen.csv.age"));
    let file = s.tmp.path().join(format!("v{v}.csv"));
    std::fs::write(&file, plain).unwrap();
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(python).arg("-c").arg(PY_ROWS).arg(&file).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let rows: Vec<BTreeMap<String, String>> = serde_json::from_slice(&o.stdout).unwrap();
    rows.into_iter().map(|r| (r["referentie_signaalpartner"].clone(), r)).collect()
}

/// Dordrecht's bundle file ending in `suffix`, decrypted with the `age` CLI.
fn decrypt(s: &Server, suffix: &str) -> Vec<u8> {
    let dir = s.data().join("parties/GM0505/pickup");
    let bundle = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in {}", dir.display()));
    let key = s.inst.dir.join("clients/GM0505/age.key");
    let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(&bundle).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    o.stdout
}

/// The `bekend` column of each signal of a bundle, and whether it is in the `bekend` queue.
fn marks(rows: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<(String, String, bool)> {
    rows.iter().map(|(r, row)| (r.clone(), row["bekend"].clone(), row["werkbak"] == "bekend")).collect()
}

/// The `clients_*` events of the audit log: (action, outcome, object).
fn client_events(s: &Server) -> Vec<(String, String, serde_json::Value)> {
    s.audit()
        .into_iter()
        .filter(|e| e.action.starts_with("clients_"))
        .map(|e| (e.action.clone(), e.outcome.as_str().to_owned(), e.object.clone()))
        .collect()
}

/// Every file under `dir`.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { files_under(&p, out) } else { out.push(p) }
    }
}

fn state(s: &Server) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(s.data().join("state.db")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c
}

#[test]
fn known_clients_are_marked_privately_replaced_scanned_and_expired() {
    let mut s = Server::start_logged(with_bekend_queue);
    let key = s.tmp.path().join("GM0505.clients.key");
    let o = meldpunt(&s, &["clients", "key", "new", "--party", "GM0505", "--out", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let o = meldpunt(&s, &["clients", "key", "new", "--party", "GM0505", "--out", "/dev/null/x"]);
    assert!(!o.status.success());

    // A bad line is named with its line and field, and nothing is written.
    let bad = local_file(
        &s,
        "bad.csv",
        b"postcode;huisnummer;achternaam;geboortedatum\n3311AB;1;Smit;\n3311AB;twaalf;Smit;\n",
    );
    let o = Command::new(common::bin())
        .args(["clients", "hash", "--key"])
        .arg(&key)
        .arg("--in")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!o.status.success() && o.stdout.is_empty(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.csv: line 3, huisnummer: "), "{}", text(&o));

    // The first list, over SFTP.
    let list = hash(&s, &key, EXPORT, "export");
    let result = s.tmp.path().join("accepted.json");
    let o = s.sftp(
        "GM0505",
        &s.key("GM0505"),
        &format!(
            "put {} /clients/clients.txt\nget /receipts/known_clients.json {}\n",
            list.display(),
            result.display()
        ),
    );
    assert!(o.status.success(), "{}", text(&o));
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap();
    assert_eq!(
        (result["status"].as_str(), result["persons"].as_u64(), result["key"].as_str()),
        (Some("accepted"), Some(3), Some("ok")),
        "{result}"
    );
    let events = client_events(&s);
    let uploads: Vec<_> = events.iter().filter(|(a, _, _)| a == "clients_upload").collect();
    assert_eq!(uploads.len(), 1, "{events:?}");
    assert_eq!(uploads[0].1, "ok");
    assert_eq!((uploads[0].2["persons"].as_u64(), uploads[0].2["replaced"].as_u64()), (Some(3), Some(0)));
    assert_eq!(uploads[0].2["protocol"], "sftp");

    // A malformed list over SFTP fails the close (OpenSSH `sftp` says only "Failure"), the
    // reason is in /receipts/known_clients.json, and nothing changes.
    let first_line = std::fs::read_to_string(&list).unwrap().lines().next().unwrap().to_owned();
    let broken = local_file(&s, "broken.txt", format!("{first_line}\nnot a hash\n").as_bytes());
    let o = s.sftp("GM0505", &s.key("GM0505"), &format!("put {} /clients/broken.txt\n", broken.display()));
    assert!(!o.status.success(), "{}", text(&o));
    // The result is in /receipts/known_clients.json.
    let back = s.tmp.path().join("result.json");
    let o =
        s.sftp("GM0505", &s.key("GM0505"), &format!("get /receipts/known_clients.json {}\n", back.display()));
    assert!(o.status.success(), "{}", text(&o));
    let result: serde_json::Value = serde_json::from_slice(&std::fs::read(&back).unwrap()).unwrap();
    assert_eq!(
        (result["status"].as_str(), result["bad_lines"].as_u64()),
        (Some("rejected"), Some(1)),
        "{result}"
    );
    assert_eq!(result["errors"][0]["line"], 2, "{result}");
    assert_eq!(client_events(&s).iter().filter(|(a, o, _)| a == "clients_upload" && o == "ok").count(), 1);

    // Woonstad's signals; the batch.
    let f = local_file(&s, "woonstad.csv", &signal_file());
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/woonstad.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let receipt = &s.wait_receipts("woonstad", 1)[0];
    assert_eq!(receipt["records"]["accepted"], 5, "{receipt}");
    let period = common::run_batch(&s);
    let expected = |known: &[&str]| -> Vec<(String, String, bool)> {
        SIGNALS
            .iter()
            .map(|x| {
                let k = known.contains(&x.0);
                (x.0.to_owned(), if k { "ja" } else { "nee" }.to_owned(), k)
            })
            .collect()
    };
    assert_eq!(marks(&bundle_rows(&s, 1)), expected(&["W-1", "W-2"]));
    let json: serde_json::Value = serde_json::from_slice(&decrypt(&s, "_v1_signalen.json.age")).unwrap();
    let mut in_json = BTreeMap::new();
    for h in json["huishoudens"].as_array().unwrap() {
        for p in h["personen"].as_array().unwrap() {
            for sig in p["signalen"].as_array().unwrap() {
                in_json.insert(
                    sig["referentie_signaalpartner"].as_str().unwrap().to_owned(),
                    sig["bekend"].clone(),
                );
            }
        }
    }
    let want: BTreeMap<String, serde_json::Value> =
        expected(&["W-1", "W-2"]).into_iter().map(|(r, _, k)| (r, serde_json::Value::Bool(k))).collect();
    assert_eq!(in_json, want);

    // The second list, over HTTPS, replaces the first.
    let key_text = std::fs::read_to_string(&key).unwrap();
    let client_key = meldpunt::domain::clients::ClientKey::parse_file(&key_text).unwrap();
    let berg = {
        let pc = meldpunt::domain::signal::Postcode::parse("3311AB").unwrap();
        let hh = meldpunt::domain::household::HouseholdKey::new(&pc, 12, Some("A"), None);
        let person = meldpunt::domain::household::PersonKey::new(Some("van der"), "Berg", None);
        meldpunt::domain::clients::person_hashes(&client_key, &hh, &person).name
    };
    let stored = |s: &Server| -> Vec<Vec<u8>> {
        let c = state(s);
        let mut stmt = c.prepare("SELECT name FROM client_hashes WHERE party = 'GM0505'").unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert!(stored(&s).contains(&berg.to_vec()), "the first list holds van der Berg");
    let list2 = hash(&s, &key, EXPORT_2, "export2");
    let (code, body) = s.curl("GM0505", &["-T", list2.to_str().unwrap()], "/v1/clients");
    assert_eq!(code, 201, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (answer["status"].as_str(), answer["persons"].as_u64(), answer["replaced"].as_u64()),
        (Some("accepted"), Some(2), Some(3)),
        "{answer}"
    );
    assert_eq!(answer["key"], "ok");
    let after = stored(&s);
    assert_eq!(after.len(), 2);
    assert!(!after.contains(&berg.to_vec()), "the replaced list is gone");
    let events = client_events(&s);
    let last = events.iter().rev().find(|(a, _, _)| a == "clients_upload").unwrap();
    assert_eq!(
        (last.2["persons"].as_u64(), last.2["replaced"].as_u64(), last.2["protocol"].as_str()),
        (Some(2), Some(3), Some("https"))
    );
    // A creditor may not upload one.
    let (code, body) = s.curl("woonstad", &["-T", list2.to_str().unwrap()], "/v1/clients");
    assert_eq!(code, 403, "{body}");

    // Byte scan: none of the export's plaintext, and no uploaded file, anywhere in the data
    // directory or the log.
    let mut files = Vec::new();
    files_under(&s.data(), &mut files);
    files.push(s.log.clone().expect("a logged server"));
    let header = format!("meldpunt-clients 1 key {}", client_key.id());
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        for needle in PLAINTEXT.iter().copied().chain([header.as_str()]) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} holds {needle:?}",
                f.display()
            );
        }
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(!name.contains("clients.txt") && !name.contains("export"), "{}", f.display());
    }
    // Nothing of a hash in the log either.
    let log = std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap();
    assert!(!log.contains(&hex_of(&berg)) && !log.contains(&hex_of(&berg)[..16]));

    // Expiry: the list is made 100 days old; the next run expires it (audited once, with the
    // count), marks nobody, and status says so.
    let old = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 100);
    state(&s)
        .execute("UPDATE client_lists SET uploaded_at = ?1 WHERE party = 'GM0505'", [old.to_string()])
        .unwrap();
    let o = meldpunt(&s, &["batch", "run", "--force", "--period", &period.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no longer counts"), "{}", text(&o));
    assert_eq!(marks(&bundle_rows(&s, 2)), expected(&[]));
    let o = meldpunt(&s, &["status"]);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.starts_with("PROBLEM") && l.contains("known-client list of GM0505")),
        "{}",
        text(&o)
    );
    s.terminate();
    s.restart();
    let o = meldpunt(&s, &["batch", "run", "--dry-run", "--period", &period.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    let expired: Vec<_> = client_events(&s).into_iter().filter(|(a, _, _)| a == "clients_expired").collect();
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!((expired[0].2["party"].as_str(), expired[0].2["persons"].as_u64()), (Some("GM0505"), Some(2)));
    assert!(stored(&s).is_empty(), "an expired list's hashes are deleted");

    // Rotation: a fresh list counts until the key is rotated; then it is gone, and a list
    // made with the old key is refused as a mismatch (the stored state stays empty).
    let (code, body) = s.curl("GM0505", &["-T", list2.to_str().unwrap()], "/v1/clients");
    assert_eq!(code, 201, "{body}");
    let new_key = s.tmp.path().join("GM0505.clients.key.2");
    let o =
        meldpunt(&s, &["clients", "key", "rotate", "--party", "GM0505", "--out", new_key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("(2 persons)"), "{}", text(&o));
    assert!(stored(&s).is_empty());
    let (code, body) = s.curl("GM0505", &["-T", list2.to_str().unwrap()], "/v1/clients");
    assert_eq!(code, 422, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (answer["status"].as_str(), answer["key"].as_str()),
        (Some("rejected"), Some("mismatch")),
        "{answer}"
    );
    let actions: Vec<String> = client_events(&s).into_iter().map(|(a, o, _)| format!("{a}:{o}")).collect();
    assert_eq!(
        actions,
        [
            "clients_key_created:ok",
            "clients_upload:ok",
            "clients_upload:error",
            "clients_upload:ok",
            "clients_expired:ok",
            "clients_upload:ok",
            "clients_key_rotated:ok",
            "clients_upload:error"
        ]
    );
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
