//! The executor's DDAS export (docs/ddas.md, "Executors"): `meldpunt ddas export --uitvoerder`
//! gives one `levering` per municipality it serves, equal to what `--gemeente` gives for each,
//! and the monthly drop puts a copy of each served municipality's export, encrypted to the
//! executor alone, into the executor's pickup folder.

use std::process::Command;

use serde_json::Value;

use super::{Drechtsteden, SDD, drechtsteden, get_pickup, text};
use crate::common::{self, Server};

fn export(s: &Server, who: &[&str], from: &str, to: &str) -> Value {
    let mut args = vec!["ddas", "export", "--from", from, "--to", to];
    args.extend_from_slice(who);
    let o = common::meldpunt(s, &args);
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    let mut v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    // Two exports differ only in the moment they were made.
    v.as_object_mut().unwrap().remove("aanleverdatumEnTijd").expect("aanleverdatumEnTijd");
    v
}

fn signals(levering: &Value) -> usize {
    levering["vroegsignalen"].as_array().map_or(0, Vec::len)
}

#[test]
fn the_executor_gets_the_ddas_export_of_each_municipality_it_serves() {
    let Drechtsteden { s, scratch, sdd, .. } = drechtsteden();
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let day = today.to_string();

    // Over the CLI: the executor's export is the two municipalities' export, in the order it
    // serves them; Dordrecht holds its 5 signals (vitens 3, oasen 2), Zwijndrecht vitens' 2 and
    // none of oasen, which has no agreement with it.
    let by_executor = export(&s, &["--uitvoerder", SDD], &day, &day);
    let by_codes = export(&s, &["--gemeente", "GM0505", "--gemeente", "GM0642"], &day, &day);
    assert_eq!(by_executor, by_codes);
    let leveringen = by_executor["leveringen"].as_array().unwrap();
    let got: Vec<(&str, usize)> =
        leveringen.iter().map(|l| (l["gemeentecode"].as_str().unwrap(), signals(l))).collect();
    assert_eq!(got, [("0505", 5), ("0642", 2)], "{by_executor}");
    let o = common::meldpunt(&s, &["ddas", "export", "--uitvoerder", "XYZ", "--from", &day, "--to", &day]);
    assert!(!o.status.success() && text(&o).contains("[[executor]]"), "{}", text(&o));

    // The monthly drop, by hand for this month: the executor's folder gets a copy for each
    // municipality whose signals may go to it, encrypted to the executor (the age CLI with its
    // identity), equal to that municipality's own export.
    let month = &day[..7];
    let (first, last) = meldpunt::ddas::monthly::days_of(month.parse().unwrap());
    let (first, last) = (first.to_string(), last.to_string());
    let o = common::meldpunt(&s, &["ddas", "drop", "--month", month]);
    assert!(o.status.success(), "{}", text(&o));
    let into = scratch.path().join("sdd-pickup");
    let names = get_pickup(&s, &sdd, &into);
    for (code, n) in [("GM0505", 5), ("GM0642", 2)] {
        let name = format!("{code}_{month}_{SDD}_ddas.json.age");
        assert!(names.contains(&name), "{name} in {names:?}");
        let o = Command::new("age").arg("-d").arg("-i").arg(&sdd.age).arg(into.join(&name)).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let mut dropped: Value = serde_json::from_slice(&o.stdout).unwrap();
        dropped.as_object_mut().unwrap().remove("aanleverdatumEnTijd");
        assert_eq!(dropped, export(&s, &["--gemeente", code], &first, &last), "{name}");
        assert_eq!(signals(&dropped["leveringen"][0]), n, "{name}");
        // Not for the municipality's key: Dordrecht's own identity cannot open it.
        let own = s.inst.dir.join("clients").join("GM0505").join("age.key");
        let o = Command::new("age").arg("-d").arg("-i").arg(own).arg(into.join(&name)).output().unwrap();
        assert!(!o.status.success(), "{name} opened with GM0505's key");
    }
    // The municipalities got their own, once each; a second drop of the month does nothing.
    for code in ["GM0505", "GM0642"] {
        let own =
            s.data().join("parties").join(code).join("pickup").join(format!("{code}_{month}_ddas.json.age"));
        assert!(own.is_file(), "{}", own.display());
    }
    let o = common::meldpunt(&s, &["ddas", "drop", "--month", month]);
    assert!(text(&o).contains("already"), "{}", text(&o));
    let drops: Vec<_> = s
        .audit()
        .into_iter()
        .filter(|e| e.action == "ddas_export" && e.object["target"] == "pickup")
        .collect();
    assert_eq!(drops.len(), 4, "two municipalities and the executor's two copies: {drops:?}");
}
