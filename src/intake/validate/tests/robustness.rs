//! Damaged input never panics: every mutation of a valid file ends in a result or a
//! file-level error, with sane line numbers.

use super::*;

use crate::demo::sample::Xs;

/// Bytes that matter to the parsers.
const SPICE: &[u8] = b";,\"\n\r {}[]:\\\xC3\xA9\xFF\xEF\xBB\xBF0-";

fn mutate(base: &[u8], rng: &mut Xs) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..1 + rng.next() % 6 {
        let at = (rng.next() as usize) % (out.len() + 1);
        match rng.next() % 3 {
            0 if at < out.len() => out[at] = SPICE[(rng.next() as usize) % SPICE.len()],
            1 if at < out.len() => {
                out.remove(at);
            }
            _ => out.insert(at, SPICE[(rng.next() as usize) % SPICE.len()]),
        }
    }
    out
}

#[test]
fn mutated_files_never_panic() {
    let csv_base = csv(&[base(), with(&[(Field::Achternaam, "Öz; \"t\"\nx")]), base()]);
    let jsonl_base = format!(
        "{}\n{}\n",
        r#"{"referentie":"A-1","soort":"gas","achternaam":"Çelik","huisnummer":3,"postcode":"3311AB","bedrag":1.5,"ontstaansdatum":"2026-01-01","contactpoging":true}"#,
        r#"{"referentie":"A-2","bezwaar":"ja"}"#
    );
    let mut rng = Xs(0x5EED_1234_ABCD_0001);
    for (format, original) in [(Format::Csv, csv_base), (Format::Jsonl, jsonl_base.into_bytes())] {
        let max_line = 2 + original.len() as u64;
        for _ in 0..3000 {
            let file = mutate(&original, &mut rng);
            let (r, events) = run(&file, format);
            match r {
                Ok(t) => assert_eq!(t.total, t.accepted + t.rejected + t.not_forwarded),
                Err(ValidateError::File(_)) => {}
                Err(other) => panic!("{other:?} for {file:?}"),
            }
            for e in &events {
                let line = match e {
                    Event::Accepted(l, _) | Event::Objected(l, _) => *l,
                    Event::Rejected(errs) => errs[0].line,
                };
                assert!((1..=max_line).contains(&line), "line {line} for {file:?}");
            }
        }
    }
}
