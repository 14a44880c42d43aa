//! The feedback (terugmelding) reader: `feedback::parse::parse` in both formats, then
//! `feedback::check::check` against a made-up set of delivered signals.
#![no_main]

use std::collections::HashSet;

use jiff::civil::Date;
use libfuzzer_sys::fuzz_target;
use meldpunt::feedback::check::{Named, check, well_formed};
use meldpunt::feedback::parse::{format_of, parse};
use meldpunt::intake::validate::Format;
use meldpunt::state::exchange::DeliveredSignal;
use sha2::{Digest, Sha256};

const TODAY: Date = Date::constant(2026, 11, 24);
const ME: &str = "GM0505";

fn delivered(id: &str, municipality: &str, referentie: &str) -> DeliveredSignal {
    DeliveredSignal {
        signal_id: id.to_owned(),
        period: "2026-10".to_owned(),
        municipality: municipality.to_owned(),
        creditor: "woonstad".to_owned(),
        referentie: referentie.to_owned(),
        executor: None,
        to_municipality: true,
    }
}

/// Ids ending in 0–7 were delivered (ending in 0–3 to GM0505, else to GM0363); creditor
/// `woonstad` delivered every reference to GM0505.
fn lookup(named: Named<'_>) -> Option<DeliveredSignal> {
    match named {
        Named::Id(id) => {
            assert!(well_formed(id), "looked up a malformed id {id:?}");
            match id.as_bytes()[21] {
                b'0'..=b'3' => Some(delivered(id, ME, &format!("R{}", &id[2..]))),
                b'4'..=b'7' => Some(delivered(id, "GM0363", &format!("R{}", &id[2..]))),
                _ => None,
            }
        }
        Named::Reference { partner, referentie } => {
            assert!(!partner.is_empty() && !referentie.is_empty());
            (partner == "woonstad").then(|| {
                let h = hex(&Sha256::digest(referentie.as_bytes())[..10]);
                delivered(&format!("S-{h}"), ME, referentie)
            })
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fuzz_target!(|data: &[u8]| {
    let _ = format_of("", data);
    for format in [Format::Csv, Format::Jsonl] {
        let Ok(parsed) = parse(data, format) else { continue };
        assert!(!parsed.lines.is_empty() || !parsed.errors.is_empty());
        let mut lines_seen = HashSet::new();
        for l in &parsed.lines {
            for f in [&l.signaal_id, &l.resultaat, &l.datum, &l.signaalpartner, &l.referentie] {
                assert_eq!(f.trim(), f.as_str(), "fields are trimmed");
            }
            assert!(lines_seen.insert(l.line), "two lines numbered {}", l.line);
        }
        for e in &parsed.errors {
            assert!(e.line.is_some(), "a line error names its line: {e:?}");
        }
        let n = parsed.lines.len();
        let (good, errors) = check(parsed.lines, ME, TODAY, &mut lookup);
        assert!(good.len() <= n);
        let mut ids = HashSet::new();
        for c in &good {
            assert_eq!(c.signal.municipality, ME, "feedback accepted on another municipality's signal");
            assert!(c.datum <= TODAY, "a result dated in the future was accepted");
            assert!(ids.insert(c.signal.signal_id.clone()), "one signal accepted twice");
        }
        for e in &errors {
            assert!(e.line.is_some() && !e.code.is_empty(), "{e:?}");
        }
    }
});
