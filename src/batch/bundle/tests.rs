//! Bundle writers: the streamed JSON is exactly what serde_json writes for the same
//! `serde_json::Value` (sorted keys, as the bundle always had), and the CSV quotes what needs
//! quoting.

use jiff::civil::Date;

use super::*;
use crate::batch::classify::{self, Input};
use crate::config::{Agreements, TlsIdentity};
use crate::domain::party::CreditorId;
use crate::domain::signal::{Fase, Kind, Postcode, SignalRecord};

fn record(referentie: &str, achternaam: &str, nr: u32, geboren: Option<Date>) -> SignalRecord {
    SignalRecord {
        referentie: referentie.into(),
        soort: Kind::Gas,
        fase: Fase::Update,
        voorletters: Some("J.\"K\"".into()),
        voorvoegsel: Some("van der".into()),
        achternaam: achternaam.into(),
        geboortedatum: geboren,
        straatnaam: Some("Straat; hoek".into()),
        huisnummer: nr,
        huisletter: Some('B'),
        huisnummertoevoeging: None,
        postcode: Postcode::parse("3311AB").unwrap(),
        plaatsnaam: Some("Dordrecht\r\nZuid".into()),
        telefoonnummer: None,
        email: Some("ë@example.nl".into()),
        bedrag: Cents(100_005),
        ontstaansdatum: Date::constant(2026, 8, 1),
        signaaldatum: Date::constant(2026, 11, 2),
        herinneringsdatum: None,
        contactpoging: Some(false),
        schuldhulp_gewezen: None,
        crisissignaal: true,
    }
}

fn creditor() -> Creditor {
    Creditor {
        spool_dir: None,
        id: CreditorId::parse("eneco").unwrap(),
        name: "Eneco".into(),
        phone: "010 000".into(),
        email: "e@example.nl".into(),
        kinds: vec![Kind::Gas],
        agreements: Agreements::All,
        ssh_keys: Vec::new(),
        tls: TlsIdentity::None,
    }
}

fn households() -> Vec<Household> {
    let born = Some(Date::constant(1980, 2, 29));
    let inputs = [
        ("G-1", "Berg", 1, born),
        ("G-2", "Çelik", 1, None),
        ("G-3", "Berg", 1, None),
        ("G-4", "Jansen", 2, None),
    ]
    .map(|(r, name, nr, b)| Input {
        signal_id: format!("S-{r}"),
        creditor: CreditorId::parse("eneco").unwrap(),
        record: Box::new(record(r, name, nr, b)),
    });
    classify::classify("2026-11".parse().unwrap(), inputs.to_vec(), &[], 6)
}

fn rows<'a>(hs: &'a [Household], c: &'a Creditor, m: &'a MunicipalityCode) -> Vec<Row<'a>> {
    hs.iter()
        .flat_map(|h| {
            h.signals.iter().map(move |signal| Row {
                household: h,
                signal,
                onder_drempel: h.total < Cents(200_000),
                creditor: c,
                reageer_voor: Date::constant(2026, 12, 24),
                period: "2026-11".parse().unwrap(),
                municipality: m,
                werkbak: (h.total >= Cents(200_000)).then_some("bellen"),
                bekend: signal.input.signal_id == "S-G-1",
            })
        })
        .collect()
}

/// The JSON bundle of `rows`, checked to be byte for byte what serde_json writes for its value.
fn json_as_serde_writes_it(rows: &[Row<'_>], m: &MunicipalityCode, version: u32) -> serde_json::Value {
    let head = json::Head {
        period: "2026-11".parse().unwrap(),
        municipality: m,
        version,
        reageer_voor: Date::constant(2026, 12, 24),
    };
    let mut out = Vec::new();
    json::write(&mut out, rows, &head).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let mut again = serde_json::to_vec(&value).unwrap();
    again.push(b'\n');
    assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(again).unwrap());
    value
}

#[test]
fn streamed_json_is_what_serde_json_writes_for_its_value() {
    let (hs, c, m) = (households(), creditor(), MunicipalityCode::parse("GM0505").unwrap());
    let rows = rows(&hs, &c, &m);
    let value = json_as_serde_writes_it(&rows, &m, 2);
    let first = &value["huishoudens"][0];
    assert_eq!(value["huishoudens"].as_array().unwrap().len(), 2);
    assert_eq!(first["personen"].as_array().unwrap().len(), 2);
    assert_eq!(first["personen"][0]["signalen"].as_array().unwrap().len(), 2);
    assert_eq!(first["totaal_achterstand"], "3000,15");
    assert_eq!(first["adres"]["huisletter"], "B");
    assert_eq!(value["versie"], 2);
}

#[test]
fn csv_quotes_separators_quotes_and_line_breaks() {
    let (hs, c, m) = (households(), creditor(), MunicipalityCode::parse("GM0505").unwrap());
    let rows = rows(&hs, &c, &m);
    let mut out = Vec::new();
    csv::write(&mut out, &rows).unwrap();
    let text = String::from_utf8(out).unwrap();
    let body = text.strip_prefix('\u{feff}').unwrap();
    assert!(body.starts_with(&format!("{}\r\n", csv::COLUMNS.join(";"))));
    assert!(body.contains(
        ";\"J.\"\"K\"\"\";van der;Berg;1980-02-29;\"Straat; hoek\";1;B;;3311AB;\"Dordrecht\r\nZuid\";;"
    ));
    assert!(body.contains(";1000,05;2026-08-01;2026-11-02;93;;nee;;3000,15;Eneco;010 000;e@example.nl;2026-12-24;2026-11;GM0505;G-1;bellen;ja\r\n"));
    assert_eq!(body.matches("\r\nS-").count(), 4);
}

#[test]
fn each_row_names_its_own_creditor() {
    let (hs, m) = (households(), MunicipalityCode::parse("GM0505").unwrap());
    let mut water = creditor();
    water.name = "Water; \"Zuid\"".into();
    water.phone = "020 111".into();
    water.email = "w@example.nl".into();
    let eneco = creditor();
    let mut rows = rows(&hs, &eneco, &m);
    for r in rows.iter_mut().skip(1).step_by(2) {
        r.creditor = &water;
    }
    let names: Vec<(&str, &str)> =
        rows.iter().map(|r| (r.signal.input.signal_id.as_str(), r.creditor.name.as_str())).collect();
    assert_eq!(names.iter().filter(|(_, n)| n.starts_with("Water")).count(), 2);

    let mut out = Vec::new();
    csv::write(&mut out, &rows).unwrap();
    let text = String::from_utf8(out).unwrap();
    for (id, name) in &names {
        let line = &text[text.find(&format!("\r\n{id};")).unwrap() + 2..];
        let line = &line[..line.find("\r\nS-").map_or(line.len(), |end| end + 2)];
        let tail = match *name {
            "Eneco" => ";Eneco;010 000;e@example.nl;2026-12-24;2026-11;GM0505;",
            _ => ";\"Water; \"\"Zuid\"\"\";020 111;w@example.nl;2026-12-24;2026-11;GM0505;",
        };
        let referentie = id.strip_prefix("S-").unwrap();
        assert!(line.contains(&format!("{tail}{referentie};")), "{id}: {line:?}");
    }

    let value = json_as_serde_writes_it(&rows, &m, 1);
    let mut seen = Vec::new();
    for h in value["huishoudens"].as_array().unwrap() {
        for p in h["personen"].as_array().unwrap() {
            for s in p["signalen"].as_array().unwrap() {
                let partner = &s["signaalpartner"];
                seen.push((
                    s["signaal_id"].as_str().unwrap().to_owned(),
                    partner["naam"].as_str().unwrap().to_owned(),
                ));
                let water = partner["naam"] == "Water; \"Zuid\"";
                assert_eq!(partner["telefoon"], if water { "020 111" } else { "010 000" });
            }
        }
    }
    seen.sort();
    let mut expected: Vec<(String, String)> =
        names.iter().map(|(i, n)| (i.to_string(), n.to_string())).collect();
    expected.sort();
    assert_eq!(seen, expected);
}
