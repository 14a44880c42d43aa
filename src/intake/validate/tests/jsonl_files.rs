//! JSON Lines: value types, line numbering, malformed lines, structure.

use super::*;

/// The base record as a JSON object (all values strings), with `extra` merged over it.
fn object(extra: serde_json::Value) -> String {
    let mut map = serde_json::Map::new();
    for (f, v) in base() {
        map.insert(f.name().to_owned(), serde_json::Value::String(v));
    }
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            map.insert(k, v);
        }
    }
    serde_json::Value::Object(map).to_string()
}

#[test]
fn numbers_booleans_and_null_are_read() {
    let line = object(serde_json::json!({
        "huisnummer": 12, "bedrag": 12.5, "contactpoging": true, "schuldhulp_gewezen": true,
        "bezwaar": false, "crisissignaal": null, "email": null, "huisletter": null,
    }));
    let line2 = object(serde_json::json!({"referentie": 778899, "bedrag": "12,50", "crisissignaal": "JA"}));
    let file = format!("{line}\n{line2}\n");
    let (r, events) = run(file.as_bytes(), Format::Jsonl);
    assert_eq!(r.unwrap(), Tally { total: 2, accepted: 2, ..Tally::default() }, "{events:?}");
    let [Event::Accepted(1, a), Event::Accepted(2, b)] = &events[..] else { panic!("{events:?}") };
    assert_eq!((a.huisnummer, a.bedrag.0, a.email.as_deref(), a.huisletter), (12, 1250, None, None));
    assert_eq!((a.contactpoging, a.crisissignaal), (Some(true), false));
    assert_eq!((b.referentie.as_str(), b.bedrag.0, b.crisissignaal), ("778899", 1250, true));
}

#[test]
fn keys_are_case_insensitive_and_unknown_keys_ignored() {
    let line = r#"{"Referentie":"J-1","SOORT":"drinkwater","Achternaam":"Çelik","HuisNummer":"3","Postcode":"3311ab","Bedrag":"40","OntstaansDatum":"2026-01-01","klant":{"id":1}}"#;
    let (r, events) = run(line.as_bytes(), Format::Jsonl);
    assert_eq!(r.unwrap().accepted, 1, "{events:?}");
}

#[test]
fn wrong_json_types_are_field_errors() {
    let line = object(serde_json::json!({
        "achternaam": true, "huisnummer": 12.0, "bedrag": [1], "contactpoging": false, "bezwaar": "true",
    }));
    let (_, events) = run(line.as_bytes(), Format::Jsonl);
    let codes: Vec<&str> = only_rejection(&events).iter().map(|e| e.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "achternaam_invalid",
            "huisnummer_invalid",
            "bedrag_invalid",
            "contactpoging_required",
            "bezwaar_invalid"
        ]
    );
}

#[test]
fn lines_count_from_one_with_blank_lines_and_malformed_lines() {
    let good = object(serde_json::json!({}));
    let file = format!("\n{good}\r\n   \n[1,2]\n\"text\"\n{{\"referentie\": \"A-9\",\n{good}");
    let (r, events) = run(file.as_bytes(), Format::Jsonl);
    assert_eq!(r.unwrap(), tally(5, 2, 3, 0));
    let got: Vec<String> = events
        .iter()
        .map(|e| match e {
            Event::Accepted(line, _) => format!("{line}:ok"),
            Event::Rejected(errs) => {
                assert_eq!(
                    (errs.len(), errs[0].field.as_ref(), errs[0].referentie.as_ref()),
                    (1, None, None)
                );
                format!("{}:{}", errs[0].line, errs[0].code)
            }
            Event::Objected(..) => unreachable!(),
        })
        .collect();
    assert_eq!(got, ["2:ok", "4:record_malformed", "5:record_malformed", "6:record_malformed", "7:ok"]);
}

#[test]
fn objected_record_in_jsonl() {
    let line = object(serde_json::json!({"referentie": "B-7", "bezwaar": true}));
    let (r, events) = run(line.as_bytes(), Format::Jsonl);
    assert_eq!(r.unwrap().not_forwarded, 1);
    assert_eq!(events, [Event::Objected(1, "B-7".into())]);
}

#[test]
fn no_objects_and_bad_encoding_reject_the_file() {
    for file in [&b""[..], &b"\n\n  \r\n"[..], &b"\xEF\xBB\xBF\n"[..]] {
        assert_eq!(file_error(file, Format::Jsonl).code, "no_data_rows");
    }
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend_from_slice(object(serde_json::json!({})).as_bytes());
    file.extend_from_slice(b"\n{\"achternaam\":\"M\xFCller\"}\n");
    let at = file.iter().position(|&b| b == 0xFC).unwrap() as u64;
    let e = file_error(&file, Format::Jsonl);
    assert_eq!((e.code.as_str(), e.byte_offset, e.line), ("encoding_invalid", Some(at), Some(2)));
}

#[test]
fn an_overlong_line_is_one_rejected_record() {
    let huge = format!("{{\"achternaam\":\"{}\"}}", "x".repeat(1_100_000));
    let file = format!("{huge}\n{}\n", object(serde_json::json!({})));
    let (r, events) = run(file.as_bytes(), Format::Jsonl);
    assert_eq!(r.unwrap(), tally(2, 1, 1, 0));
    assert_eq!(only_rejection(&events[..1])[0].code, "record_too_long");
}
