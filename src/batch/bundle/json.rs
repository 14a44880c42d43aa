//! The JSON bundle: the same data as the CSV, grouped household → persons → signals.

use serde_json::{Value, json};

use super::{Row, cents};

/// Writes the JSON document for the rows of one municipality (rows grouped per household, in
/// order, as the delivery produces them).
pub fn write(rows: &[Row<'_>], head: Value) -> Vec<u8> {
    let mut households: Vec<Value> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let h = rows[i].household;
        let mut j = i;
        while j < rows.len() && std::ptr::eq(rows[j].household, h) {
            j += 1;
        }
        let first = &rows[i].signal.input.record;
        let persons: Vec<Value> = h
            .persons
            .iter()
            .enumerate()
            .map(|(p, person)| {
                let signals: Vec<Value> =
                    rows[i..j].iter().filter(|r| r.signal.person == p).map(signal_json).collect();
                let any = &h.signals[person.signals[0]].input.record;
                json!({
                    "persoon_nr": p + 1,
                    "voorletters": any.voorletters,
                    "voorvoegsel": any.voorvoegsel,
                    "achternaam": any.achternaam,
                    "geboortedatum": any.geboortedatum.map(|d| d.to_string()),
                    "signalen": signals,
                })
            })
            .collect();
        households.push(json!({
            "huishouden_id": h.id,
            "adres": {
                "straatnaam": first.straatnaam,
                "huisnummer": first.huisnummer,
                "huisletter": first.huisletter.map(String::from),
                "huisnummertoevoeging": first.huisnummertoevoeging,
                "postcode": first.postcode.as_str(),
                "plaatsnaam": first.plaatsnaam,
            },
            "enkelvoudig": h.enkelvoudig(),
            "meervoudig": h.meervoudig,
            "opeenvolgend": h.opeenvolgend,
            "totaal_achterstand": cents(h.total),
            "onder_drempel": rows[i].onder_drempel,
            "personen": persons,
        }));
        i = j;
    }
    let mut doc = head;
    doc["huishoudens"] = Value::Array(households);
    let mut out = serde_json::to_vec_pretty(&doc).expect("in memory");
    out.push(b'\n');
    out
}

fn signal_json(r: &Row<'_>) -> Value {
    let s = &r.signal.input.record;
    json!({
        "signaal_id": r.signal.input.signal_id,
        "soort_signaal": s.soort.as_str(),
        "fase": s.fase.as_str(),
        "bedrag_achterstand": cents(s.bedrag),
        "ontstaansdatum": s.ontstaansdatum.to_string(),
        "signaaldatum": s.signaaldatum.to_string(),
        "dagen_achterstand": crate::batch::signals::days_in_arrears(s),
        "herinneringsdatum": s.herinneringsdatum.map(|d| d.to_string()),
        "contactpoging": s.contactpoging,
        "schuldhulp_gewezen": s.schuldhulp_gewezen,
        "crisissignaal": s.crisissignaal,
        "herhaald": r.signal.herhaald,
        "telefoonnummer": s.telefoonnummer,
        "email": s.email,
        "signaalpartner": { "naam": r.creditor.name, "telefoon": r.creditor.phone, "email": r.creditor.email },
        "reageer_voor": r.reageer_voor.to_string(),
    })
}
