//! The routing-table reader `batch::routing::RoutingTable::parse` (bytes read as
//! `RoutingTable::read` does: lossy UTF-8). A table that parses writes a canonical form that
//! parses to the same table; every route leads to a municipality of the table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt::batch::routing::RoutingTable;
use meldpunt::domain::signal::Postcode;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let table = match RoutingTable::parse(&text) {
        Ok(t) => t,
        Err(problems) => {
            assert!(!problems.is_empty(), "Err without problems");
            for p in &problems {
                let _ = p.at(std::path::Path::new("routing.csv")).to_string();
            }
            return;
        }
    };
    assert!(!table.is_empty(), "a parsed table is never empty");
    let canonical = table.to_canonical();
    let again = RoutingTable::parse(&canonical).expect("the canonical form parses");
    assert_eq!(again.to_canonical(), canonical, "canonical form is not stable");
    assert_eq!(again.counts(), table.counts());
    let municipalities = table.municipalities();
    // Route every postcode of the canonical form, at a few house numbers.
    for line in canonical.lines().skip(1) {
        let pc = line.split(';').next().unwrap_or("");
        let pc6 = if pc.len() == 4 { format!("{pc}AA") } else { pc.to_owned() };
        let Some(p) = Postcode::parse(&pc6) else { panic!("canonical postcode {pc:?} is not one") };
        for n in [0, 1, 2, 99, 99_999, u32::MAX] {
            if let Some(code) = table.route(&p, n) {
                assert!(municipalities.contains(code), "{code:?} routed but not listed");
            }
        }
    }
});
