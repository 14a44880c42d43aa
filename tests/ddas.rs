//! The DDAS export (docs/ddas.md) of a generated month: creditors push signals, the batch
//! delivers, each municipality picks up its bundle (decrypted with the `age` CLI) and sends
//! feedback with every result code and the new columns; `meldpunt ddas export` then writes
//! the VNG/DDAS exchange model, which Python's `jsonschema` validates against the repository's
//! copy of the v1.2 schema, and whose signals, cases and results agree with the bundles and
//! the feedback sent. The monthly drop puts the same export, encrypted, into the pickup folder.

mod common;
#[path = "ddas/support.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use common::{Server, local_file, meldpunt, text};
use jiff::ToSpan;
use meldpunt::domain::period::Period;
use serde_json::Value;
use support::{
    CREDITORS, PARTNER, RESULTS, Row, bundle, export, pick_up, post, schema_errors, timeless, today,
};

/// What a case should say: (result code, datum_opgepakt, contact attempts as the model has them).
type Sent = (usize, Option<String>, Vec<Value>);

#[test]
fn the_ddas_export_of_a_month_validates_and_agrees_with_bundles_and_feedback() {
    let day = today().day().min(28);
    let mut s = Server::start_with(|cfg| cfg.push_str(&format!("\n[ddas]\nday = {day}\n")));
    // The month the batch is matched in (the export's range), and the batch's period (after
    // the cutoff day that is the next month).
    let month = Period::new(today().year(), today().month()).unwrap();
    let (first, last) = (month.first_day(), month.next().first_day().yesterday().unwrap());

    // The daemon dropped last month's export at its start (the configured day is today or past).
    let prev = month.prev();
    for code in ["GM0505", "GM0642"] {
        let name = format!("{code}_{prev}_ddas.json.age");
        let mut listed = false;
        for _ in 0..100 {
            let (_, list) = s.curl(code, &[], "/v1/pickup");
            if list.contains(&name) {
                listed = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(listed, "{name} in the pickup folder");
        let dropped = pick_up(&s, code, &name);
        assert_eq!(schema_errors(&s, &dropped), "", "{code}'s monthly drop validates");
        let dropped: Value = serde_json::from_slice(&dropped).unwrap();
        let (from, to) = (prev.first_day(), month.first_day().yesterday().unwrap());
        assert_eq!(
            timeless(dropped),
            timeless(export(&s, code, from, to)),
            "the drop is the CLI's export of {prev}"
        );
    }

    // A generated month: four kinds from three creditors.
    for (i, (party, prefix, kind)) in CREDITORS.into_iter().enumerate() {
        let mut csv = Vec::new();
        meldpunt::demo::sample::write_csv(
            &mut csv,
            prefix,
            kind.parse().unwrap(),
            24,
            14,
            70 + i as u64,
            today(),
        )
        .unwrap();
        let f = local_file(&s, &format!("{party}_{kind}.csv"), &csv);
        let o = s.sftp(party, &s.key(party), &format!("put {} /inbox/{party}_{kind}.csv\n", f.display()));
        assert!(o.status.success(), "{}", text(&o));
    }
    let p = common::run_batch(&s);

    // Each municipality picks up its bundle and reports on every household: the codes in
    // turn, so every code is used; every other household with the new columns.
    let mut bundles: BTreeMap<&str, Vec<Row>> = BTreeMap::new();
    let mut sent: BTreeMap<String, Sent> = BTreeMap::new();
    let mut k = 0;
    for code in ["GM0505", "GM0642"] {
        let rows = bundle(&s, code, p);
        assert!(!rows.is_empty(), "{code} got signals");
        let mut households: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for r in &rows {
            households.entry(&r.household).or_default().push(r);
        }
        let mut csv = String::from("signaal_id;resultaat;datum;datum_opgepakt;contactpogingen\n");
        let mut jsonl = String::new();
        for (h, signals) in &households {
            let code_i = k % RESULTS.len();
            let datum = today();
            let (opgepakt, pogingen, attempts) = if k % 2 == 0 {
                let d = |n: i64| today().checked_sub(n.days()).unwrap();
                (
                    Some(d(3).to_string()),
                    format!("{} telefoon nee ochtend | {} Huisbezoek ja avond", d(2), d(1)),
                    vec![
                        serde_json::json!({"datum": d(2).to_string(), "soort": "Telefoon", "bereikt": false, "dagdeel": "Ochtend"}),
                        serde_json::json!({"datum": d(1).to_string(), "soort": "Huisbezoek", "bereikt": true, "dagdeel": "Avond"}),
                    ],
                )
            } else {
                (None, String::new(), Vec::new())
            };
            for (j, r) in signals.iter().enumerate() {
                // The new columns on the household's first signal only: a case gathers them.
                let (o, c) = if j == 0 {
                    (opgepakt.clone().unwrap_or_default(), pogingen.clone())
                } else {
                    Default::default()
                };
                let res = RESULTS[code_i].0;
                csv.push_str(&format!("{};{res};{datum};{o};{c}\n", r.id));
                jsonl.push_str(&format!(
                    "{}\n",
                    serde_json::json!({"signaal_id": r.id, "resultaat": res, "datum": datum.to_string(),
                                       "datum_opgepakt": if o.is_empty() { Value::Null } else { o.into() },
                                       "contactpogingen": c})
                ));
            }
            sent.insert(h.to_string(), (code_i, opgepakt, attempts));
            k += 1;
        }
        // CSV from one municipality, JSON Lines from the other.
        let (name, body) =
            if code == "GM0505" { ("terugmelding.csv", csv) } else { ("terugmelding.jsonl", jsonl) };
        let r = post(&s, code, name, body.as_bytes());
        assert_eq!(r["status"], "accepted", "{r}");
        assert_eq!(r["lines"]["accepted"], rows.len() as u64, "{r}");
        bundles.insert(code, rows);
    }
    assert!(k >= RESULTS.len(), "every result code was sent: {k} households");

    // A bad datum_opgepakt and bad contact attempts: the receipt names line, field and fix.
    let ids: Vec<&str> = bundles["GM0505"].iter().map(|r| r.id.as_str()).collect();
    let bad = format!(
        "signaal_id;resultaat;datum;datum_opgepakt;contactpogingen\n{};quick_fix;{d};2026-02-30;\n{};quick_fix;{d};;{d} duif\n",
        ids[0],
        ids[1],
        d = today()
    );
    let r = post(&s, "GM0505", "fout.csv", bad.as_bytes());
    assert_eq!(r["status"], "rejected", "{r}");
    let e = &r["errors"];
    assert_eq!(
        (e[0]["line"].as_u64(), e[0]["field"].as_str(), e[0]["code"].as_str()),
        (Some(2), Some("datum_opgepakt"), Some("datum_opgepakt_invalid")),
        "{r}"
    );
    assert!(
        e[0]["message"].as_str().unwrap().contains("YYYY-MM-DD")
            && !e[0]["message"].as_str().unwrap().contains("02-30"),
        "{r}"
    );
    assert_eq!(
        (e[1]["line"].as_u64(), e[1]["field"].as_str(), e[1]["code"].as_str()),
        (Some(3), Some("contactpogingen"), Some("contactpogingen_invalid")),
        "{r}"
    );
    assert!(e[1]["message"].as_str().unwrap().contains("sms_whatsapp"), "the fix lists the kinds: {r}");

    // The export of this month, to standard output, for each municipality.
    for (code, rows) in &bundles {
        let o = meldpunt(
            &s,
            &["ddas", "export", "--gemeente", code, "--from", &first.to_string(), "--to", &last.to_string()],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(schema_errors(&s, &o.stdout), "", "{code}'s export validates against the v1.2 schema");
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            (doc["startdatumLevering"].as_str(), doc["einddatumLevering"].as_str()),
            (Some(&*first.to_string()), Some(&*last.to_string()))
        );
        let lev = &doc["leveringen"][0];
        assert_eq!(doc["leveringen"].as_array().unwrap().len(), 1);
        assert_eq!(lev["gemeentecode"], code[2..]);

        // Signals: exactly the bundle's, with their amounts, dates, address and partner type.
        let by_id: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
        let signals = lev["vroegsignalen"].as_array().unwrap();
        assert_eq!(signals.len(), rows.len(), "{code}: one vroegsignaal per bundle row");
        let household_of: BTreeMap<&str, &str> =
            rows.iter().map(|r| (r.id.as_str(), r.household.as_str())).collect();
        for v in signals {
            let r = by_id[v["ID"].as_str().unwrap()];
            assert_eq!(v["bedrag"].as_u64(), Some((r.bedrag_cents + 50) / 100), "{v}");
            let partner = PARTNER.iter().find(|(k, _)| *k == r.soort).unwrap().1;
            assert_eq!(v["signaalpartner"]["type"], partner, "{v}");
            assert_eq!(
                (v["ontstaansdatum"].as_str(), v["signaaldatum"].as_str()),
                (Some(&*r.ontstaansdatum), Some(&*r.signaaldatum))
            );
            assert_eq!(v["crisissignaal"].as_bool(), Some(r.crisis));
            let c = &v["client"];
            assert_eq!(
                (c["postcode"].as_str(), c["huisnummer"].as_str()),
                (Some(&*r.postcode), Some(&*r.huisnummer)),
                "{v}"
            );
            assert_eq!(c["huisnummertoevoeging"].as_str().unwrap_or(""), r.toevoeging);
            assert_eq!(c["geboortedatum"].as_str().unwrap_or(""), r.geboortedatum);
            assert!(c.get("burgerservicenummer").is_none());
            let (code_i, _, _) = &sent[household_of[r.id.as_str()]];
            assert_eq!(v["status"], RESULTS[*code_i].2, "{v}");
        }

        // Cases: one per household, with its signals, result, dates and attempts.
        let mut households: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for r in rows {
            households.entry(&r.household).or_default().insert(&r.id);
        }
        let zaken = lev["vroegsignaalzaken"].as_array().unwrap();
        assert_eq!(zaken.len(), households.len(), "{code}: one case per household");
        for z in zaken {
            let ids: BTreeSet<&str> =
                z["vroegsignalen"].as_array().unwrap().iter().map(|r| r["ID"].as_str().unwrap()).collect();
            let h = household_of[ids.iter().next().unwrap()];
            assert_eq!(ids, households[h], "the case holds its household's signals");
            let (code_i, opgepakt, attempts) = &sent[h];
            assert_eq!(z["resultaat"], RESULTS[*code_i].1, "{} → {z}", RESULTS[*code_i].0);
            assert_eq!(z["datumOpgepakt"].as_str(), opgepakt.as_deref(), "{z}");
            assert_eq!(
                z.get("contactpogingen").and_then(Value::as_array).cloned().unwrap_or_default(),
                *attempts,
                "{z}"
            );
            assert_eq!(z["matchingsdatum"], today().to_string());
            assert_eq!(
                (z["startdatumMatchingperiode"].as_str(), z["einddatumMatchingperiode"].as_str()),
                (
                    Some(&*p.first_day().to_string()),
                    Some(&*p.next().first_day().yesterday().unwrap().to_string())
                )
            );
        }
    }
    let used: BTreeSet<usize> = sent.values().map(|(i, _, _)| *i).collect();
    assert_eq!(used.len(), RESULTS.len(), "every result code is in an export");

    // The validator can fail: an amount with cents and an unknown result are named.
    let o = meldpunt(
        &s,
        &["ddas", "export", "--gemeente", "GM0505", "--from", &first.to_string(), "--to", &last.to_string()],
    );
    let mut doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    doc["leveringen"][0]["vroegsignalen"][0]["bedrag"] = serde_json::json!(12.5);
    doc["leveringen"][0]["vroegsignaalzaken"][0]["resultaat"] = serde_json::json!("hulp_geaccepteerd");
    let errors = schema_errors(&s, &serde_json::to_vec(&doc).unwrap());
    assert!(errors.contains("'vroegsignalen', 0, 'bedrag'") && errors.contains("'resultaat'"), "{errors}");

    // A range without this month's batch holds no signals; bad arguments are explained.
    let before = export(&s, "GM0505", prev.first_day(), first.yesterday().unwrap());
    assert_eq!(before["leveringen"][0]["vroegsignalen"], serde_json::json!([]));
    let o = meldpunt(
        &s,
        &["ddas", "export", "--gemeente", "GM9999", "--from", "2026-01-01", "--to", "2026-01-31"],
    );
    assert!(!o.status.success() && text(&o).contains("GM9999 is not configured"), "{}", text(&o));
    let o = meldpunt(
        &s,
        &["ddas", "export", "--gemeente", "GM0505", "--from", "2026-02-01", "--to", "2026-01-31"],
    );
    assert!(!o.status.success() && text(&o).contains("lies after --to"), "{}", text(&o));

    // The monthly drop of this month, run now by hand: encrypted in the pickup folder, and
    // the same as the command's export.
    let o = meldpunt(&s, &["ddas", "drop", "--month", &month.to_string()]);
    assert!(o.status.success(), "{}", text(&o));
    for code in ["GM0505", "GM0642"] {
        let plain = pick_up(&s, code, &format!("{code}_{month}_ddas.json.age"));
        let dropped: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(timeless(dropped), timeless(export(&s, code, first, last)), "{code}: drop = export");
    }
    let o = meldpunt(&s, &["ddas", "drop", "--month", &month.to_string()]);
    assert!(text(&o).contains("already"), "a month is dropped once: {}", text(&o));

    // The right of access shows the new columns with the feedback they came with.
    let (row, attempts) = bundles
        .values()
        .flatten()
        .filter(|r| r.toevoeging.is_empty())
        .find_map(|r| {
            let (_, _, attempts) = &sent[&r.household];
            let first = bundles.values().flatten().find(|x| x.household == r.household).unwrap();
            (!attempts.is_empty() && first.id == r.id).then_some((r, attempts))
        })
        .expect("a household without letter or addition that sent contact attempts");
    let out = s.tmp.path().join("inzage.json");
    let o = meldpunt(
        &s,
        &[
            "inzage",
            "--postcode",
            &row.postcode,
            "--huisnummer",
            &row.huisnummer,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let inzage: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let held =
        inzage["signalen"].as_array().unwrap().iter().find(|v| v["signaal_id"] == row.id.as_str()).unwrap();
    assert_eq!(held["terugmeldingen"][0]["contactpogingen"], Value::Array(attempts.clone()), "{held}");
    assert!(held["terugmeldingen"][0]["datum_opgepakt"].is_string(), "{held}");

    // Audited with counts only; a restart does not drop last month's export again.
    let drops = |s: &Server| {
        s.audit().into_iter().filter(|e| e.action == "ddas_export" && e.actor == "system").count()
    };
    assert_eq!(drops(&s), 2, "one drop per municipality");
    s.terminate();
    s.restart();
    // The drop is looked at as the daemon starts; give that look time to act if it would.
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(drops(&s), 2, "not again after a restart");
    let ev = s.audit().into_iter().rfind(|e| e.action == "ddas_export" && e.actor == "operator").unwrap();
    let shown = ev.object.to_string();
    assert!(ev.object["leveringen"][0]["vroegsignalen"].as_u64().is_some(), "{shown}");
    for r in bundles.values().flatten() {
        assert!(
            !shown.contains(&r.postcode) && !shown.contains(&r.id),
            "no personal data or ids of signals: {shown}"
        );
    }
}
