//! The known-client readers (docs/known-clients.md), on the same bytes: the uploaded hashed list
//! (`domain::clients::list::parse`) and the case system's export
//! (`domain::clients::export::read`). A parsed list is sorted and unique and each person writes
//! back to a line that parses to it; a refusal names 1 to `MAX_LISTED` lines; every export
//! problem names a data line and a known column; every client has a normalised household key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt::domain::clients::export::{self, COLUMNS};
use meldpunt::domain::clients::list::{self, MAX_LISTED};
use meldpunt::domain::signal::Postcode;

fuzz_target!(|data: &[u8]| {
    match list::parse(data) {
        Ok(l) => {
            assert!(l.persons.windows(2).all(|w| w[0] < w[1]), "persons not sorted and unique");
            let mut text = list::header(&l.key_id);
            text.push('\n');
            for p in &l.persons {
                text.push_str(&list::line(p));
                text.push('\n');
            }
            assert_eq!(list::parse(text.as_bytes()).expect("a written list parses"), l);
        }
        Err(r) => {
            assert!(!r.problems.is_empty() && r.problems.len() <= MAX_LISTED, "{r:?}");
            assert!(r.bad_lines >= r.problems.len() as u64);
            assert!(r.problems.iter().all(|p| p.line >= 1));
        }
    }
    let Ok(e) = export::read(data) else { return };
    for p in &e.problems {
        assert!(p.line >= 2, "a problem on the header line: {p:?}");
        assert!(p.field == "line" || COLUMNS.contains(&p.field), "{p:?}");
        assert!(!p.to_string().is_empty());
    }
    for c in &e.clients {
        assert!(c.line >= 2);
        let fields: Vec<&str> = c.household.as_str().split('|').collect();
        assert_eq!(fields.len(), 4, "{:?}", c.household);
        assert_eq!(Postcode::parse(fields[0]).map(|p| p.as_str().to_owned()).as_deref(), Some(fields[0]));
        assert!(fields[2..].iter().all(|f| f.chars().all(char::is_alphanumeric)));
    }
});
