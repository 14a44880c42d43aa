//! Terugmelding files for creditors (docs/feedback.md): `referentie;status;datum;schuldenrust_tot`,
//! with the status mapped to what the creditor may see ([`Resultaat::for_creditor`]).
//!
//! Each feedback file gives each creditor concerned one new file in its `/feedback` folder:
//! `terugmelding_<date>.csv`, or `terugmelding_<date>_2.csv`, `_3`, … when the creditor got
//! one that day already. Files are never rewritten once a creditor may have fetched them, so
//! a later result for the same signal arrives as a line in a later file: the later one wins.

use std::path::Path;

use jiff::civil::Date;

use crate::domain::feedback::Resultaat;
use crate::durable;

/// The header of a terugmelding file.
pub const HEADER: &str = "referentie;status;datum;schuldenrust_tot";

/// The `n`-th (from 1) terugmelding file name of a creditor on `date`.
pub fn file_name(date: Date, n: u32) -> String {
    if n <= 1 { format!("terugmelding_{date}.csv") } else { format!("terugmelding_{date}_{n}.csv") }
}

/// One creditor line: (referentie, resultaat code, datum) as stored.
pub type StoredLine = (String, String, String);

/// The CSV text of a terugmelding file (UTF-8, `;`, LF line ends, a header row).
pub fn render(lines: &[StoredLine]) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(HEADER.split(';'));
    for (referentie, resultaat, datum) in lines {
        let status = Resultaat::parse(resultaat).map(Resultaat::for_creditor);
        let date = datum.parse::<Date>().ok();
        let rust = status.zip(date).and_then(|(s, d)| s.schuldenrust_tot(d)).map(|d| d.to_string());
        let status = status.map_or("niet_opgepakt", |s| s.as_str());
        let _ = w.write_record([referentie.as_str(), status, datum.as_str(), rust.as_deref().unwrap_or("")]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Writes one terugmelding file into a creditor's feedback folder, atomically.
pub fn write(dir: &Path, name: &str, lines: &[StoredLine]) -> std::io::Result<()> {
    durable::create_private_dir(dir)?;
    durable::write_atomic(&dir.join(name), render(lines).as_bytes(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_mapped_statuses_and_schuldenrust() {
        let lines: Vec<StoredLine> = Resultaat::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("R{i}"), r.as_str().to_owned(), "2026-12-15".to_owned()))
            .collect();
        let text = render(&lines);
        let mut rows = text.lines();
        assert_eq!(rows.next(), Some(HEADER));
        let rows: Vec<Vec<&str>> = rows.map(|r| r.split(';').collect()).collect();
        assert_eq!(rows.len(), 14);
        assert_eq!(rows[0], ["R0", "hulp_geaccepteerd", "2026-12-15", "2027-01-14"]);
        for (row, r) in rows.iter().zip(Resultaat::ALL) {
            assert_eq!(row[1], r.for_creditor().as_str());
            assert_eq!(row[3].is_empty(), r != Resultaat::HulpGeaccepteerd);
        }
        for hidden in
            ["overleden", "geen_inwoner", "geen_contact", "al_bekend_schuldhulpverlening", "andere_reden"]
        {
            assert!(!text.contains(hidden), "{hidden} leaked");
        }
    }

    #[test]
    fn names() {
        let d = Date::constant(2026, 12, 1);
        assert_eq!(file_name(d, 1), "terugmelding_2026-12-01.csv");
        assert_eq!(file_name(d, 3), "terugmelding_2026-12-01_3.csv");
    }
}
