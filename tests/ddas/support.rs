//! What `tests/ddas.rs` compares the export with: the model's values written out apart from
//! the code under test, bundles picked up and decrypted with the `age` CLI, the JSON-schema
//! validator (Python `jsonschema`), the command's export, feedback sent over HTTPS.

use std::path::Path;
use std::process::Command;

use jiff::civil::Date;
use meldpunt::domain::period::Period;
use serde_json::Value;

use crate::common::{Server, local_file, meldpunt, text};

/// Each result code and what the model must say: (code, `EnumEindresultaat` of the case,
/// `EnumSignaalstatus` of its signals), written out apart from the code under test.
pub const RESULTS: [(&str, &str, &str); 14] = [
    ("hulp_geaccepteerd", "Vervolghulp en/of verwijzing", "Opgepakt"),
    ("vervolghulp_financieel", "Vervolghulp en/of verwijzing financieel", "Opgepakt"),
    ("quick_fix", "(Budget)advies en/of quick fix", "Opgepakt"),
    ("geen_hulp_nodig", "Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering", "Opgepakt"),
    ("al_betaald_of_regeling", "Inwoner heeft zelf al betaald/betalingsregeling getroffen", "Opgepakt"),
    ("geen_contact", "Definitief geen contact kunnen krijgen", "Opgepakt"),
    ("geen_reactie_na_contact", "Geen reactie na eerder contact", "Opgepakt"),
    (
        "al_bekend_schuldhulpverlening",
        "Inwoner al bekend bij schuldhulpverlening",
        "Inwoner al bekend bij schuldhulpverlening",
    ),
    ("ander_lopend_traject", "Inwoner heeft al een ander lopend traject", "Opgepakt"),
    ("herhaalde_melding", "Niet opgepakt: herhaalde melding", "Niet opgepakt: herhaalde melding"),
    ("onterecht_signaal", "Niet opgepakt: onterecht signaal", "Niet opgepakt: onterecht signaal"),
    ("overleden", "Inwoner is overleden", "Inwoner is overleden"),
    (
        "geen_inwoner",
        "Persoon is geen inwoner (meer) in de gemeente",
        "Persoon is geen inwoner (meer) in de gemeente",
    ),
    ("niet_opgepakt_andere_reden", "Niet opgepakt: andere reden", "Niet opgepakt: andere reden"),
];

/// The model's partner type per kind.
pub const PARTNER: [(&str, &str); 6] = [
    ("woninghuur", "Huur"),
    ("elektriciteit", "Energie"),
    ("gas", "Energie"),
    ("warmte", "Energie"),
    ("drinkwater", "Water"),
    ("zorgverzekering", "Zorg"),
];

pub const CREDITORS: [(&str, &str, &str); 4] = [
    ("woonstad", "W", "woninghuur"),
    ("vitens", "V", "drinkwater"),
    ("eneco", "E", "elektriciteit"),
    ("eneco", "G", "gas"),
];

pub fn today() -> Date {
    meldpunt::domain::period::local_date(jiff::Timestamp::now())
}

/// A bundle row: the columns the export is compared with.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub household: String,
    pub soort: String,
    pub bedrag_cents: u64,
    pub crisis: bool,
    pub postcode: String,
    pub huisnummer: String,
    pub toevoeging: String,
    pub geboortedatum: String,
    pub ontstaansdatum: String,
    pub signaaldatum: String,
}

/// Fetches a pickup file over HTTPS (curl with the municipality's client certificate) and
/// decrypts it with the `age` CLI and the municipality's identity.
pub fn pick_up(s: &Server, code: &str, name: &str) -> Vec<u8> {
    let enc = s.tmp.path().join(format!("{name}.dl"));
    let (status, body) = s.curl(code, &["-o", enc.to_str().unwrap()], &format!("/v1/pickup/{name}"));
    assert_eq!(status, 200, "{name}: {body}");
    let key = s.inst.dir.join("clients").join(code).join("age.key");
    let o = Command::new("age").arg("-d").arg("-i").arg(key).arg(&enc).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    o.stdout
}

/// The rows of a municipality's CSV bundle.
pub fn bundle(s: &Server, code: &str, p: Period) -> Vec<Row> {
    let plain = pick_up(s, code, &format!("{code}_{p}_v1_signalen.csv.age"));
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').from_reader(&plain[3..]);
    let h: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap_or_else(|| panic!("column {name}"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let get = |name: &str| r[col(name)].to_owned();
            let (euros, cents) =
                get("bedrag_achterstand").split_once(',').map(|(e, c)| (e.to_owned(), c.to_owned())).unwrap();
            Row {
                id: get("signaal_id"),
                household: get("huishouden_id"),
                soort: get("soort_signaal"),
                bedrag_cents: euros.parse::<u64>().unwrap() * 100 + cents.parse::<u64>().unwrap(),
                crisis: get("crisissignaal") == "ja",
                postcode: get("postcode"),
                huisnummer: get("huisnummer"),
                toevoeging: format!("{}{}", get("huisletter"), get("huisnummertoevoeging")),
                geboortedatum: get("geboortedatum"),
                ontstaansdatum: get("ontstaansdatum"),
                signaaldatum: get("signaaldatum"),
            }
        })
        .collect()
}

/// Validates `doc` against the repository's copy of the v1.2 schema with Python's
/// `jsonschema` (the draft the schema declares, formats checked); the errors it names.
pub fn schema_errors(s: &Server, doc: &[u8]) -> String {
    let f = local_file(s, "export.json", doc);
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ddas/Uitwisselmodel-v1.2.schema.json");
    let script = r#"
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
doc = json.load(open(sys.argv[2], encoding="utf-8"))
cls = jsonschema.validators.validator_for(schema)
assert cls.__name__ == "Draft202012Validator", cls.__name__
cls.check_schema(schema)
v = cls(schema, format_checker=cls.FORMAT_CHECKER)
errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print(list(e.absolute_path), e.message)
print("checked", len(doc.get("leveringen", [])), "leveringen")
"#;
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(python).arg("-c").arg(script).arg(&schema).arg(&f).output().unwrap();
    assert!(o.status.success(), "the validator ran: {}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("checked"), "{out}");
    out.lines().filter(|l| !l.starts_with("checked")).collect::<Vec<_>>().join("\n")
}

/// `meldpunt ddas export` for one municipality and a range, to standard output.
pub fn export(s: &Server, code: &str, from: Date, to: Date) -> Value {
    let o = meldpunt(
        s,
        &["ddas", "export", "--gemeente", code, "--from", &from.to_string(), "--to", &to.to_string()],
    );
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

/// A document without the moment it was made (two exports differ only there).
pub fn timeless(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("aanleverdatumEnTijd").expect("aanleverdatumEnTijd");
    v
}

pub fn post(s: &Server, code: &str, name: &str, bytes: &[u8]) -> Value {
    let f = local_file(s, name, bytes);
    let (status, body) =
        s.curl(code, &["--data-binary", &format!("@{}", f.display())], &format!("/v1/feedback?name={name}"));
    assert_eq!(status, 201, "{body}");
    serde_json::from_str(&body).unwrap()
}
