//! The routing table (docs/matching.md): postcode (PC6 or PC4, optionally with an inclusive house-number
//! range) → municipality (`GM` + 4 digits). The longest match wins:
//! PC6 with range > PC6 > PC4 with range > PC4.
//!
//! Parsing and lookup are pure; [`RoutingTable::load`] reads a file. `meldpunt routing import`
//! (src/cli/routing.rs) checks a file in either format below and writes it in the canonical one.
//!
//! # Files accepted
//!
//! Text (UTF-8; a byte-order mark is skipped; other bytes are read leniently since only the
//! recognised columns matter), first line a header. The separator is taken from the header line:
//! `;` unless it has more `,` (or tabs) than `;`. Values may be quoted; spaces around values are
//! ignored. Empty lines are skipped. Every line must have as many fields as the header.
//!
//! **Canonical** (what `meldpunt demo` and `meldpunt routing import` write): exactly the header
//! `postcode;huisnummer_van;huisnummer_tot;gemeente` (case-insensitive), then per line a PC4
//! (`3311`) or PC6 (`3311AB`; spaces and lower case allowed, normalised) postcode, an optional
//! inclusive house-number range (both numbers 1–99999 or neither) and a code `GM` + 4 digits.
//!
//! **Export** (the CBS table "gemeente, wijk en buurt per postcode en huisnummer" and similar):
//! any other header. Columns are recognised by name (trimmed, case-insensitive); others are
//! ignored:
//!
//! | role | header names |
//! |---|---|
//! | postcode (PC6 or PC4 values) | `PC6`, `PC4`, `postcode` |
//! | municipality | first `gemeente`, `gemeentecode`, `gm_code`, `gmcode`, `gm` or `gemeente` + 4 digits (`Gemeente2024`); if none of those, any header starting with `gemeente` or `gm` that does not contain `naam`/`name` |
//! | exact house number (optional) | `huisnummer`, `huisnr` → the range n..=n |
//! | house-number range (optional) | `huisnummer_van` and `huisnummer_tot`, both |
//!
//! Municipality values are `GM0505` (any case) or the CBS number `505` / `0505` (→ `GM0505`).
//! An empty house number means the whole postcode.
//!
//! An export with a house-number column lists single addresses (the national CBS table has
//! ~9 M), so it is compacted per postcode: numbers mapping to the same municipality that follow
//! each other (sorted, no other municipality's number in between) become one range, and a
//! postcode whose numbers all map to one municipality becomes a plain postcode entry. A PC6 on a
//! municipal border (odd numbers here, even numbers there) keeps its exact numbers.
//!
//! # Problems
//!
//! Parsing names every problem at once, each with line, field (the column as the header names
//! it), message and fix: a header without a postcode or municipality column, a column given
//! twice, a repeated header line, a line with the wrong number of fields, a bad postcode, a bad
//! house number, half a range or `van` > `tot`, a bad municipality code, two entries at the same
//! level (the same postcode, or overlapping ranges of it) that map to different municipalities
//! (both lines named), and a table without entries.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::domain::party::MunicipalityCode;
use crate::domain::signal::Postcode;

mod parse;
#[cfg(test)]
mod tests;

/// The canonical header.
pub const CANONICAL_HEADER: &str = "postcode;huisnummer_van;huisnummer_tot;gemeente";

/// The highest house number (docs/signal-file.md).
pub const MAX_HUISNUMMER: u32 = 99_999;

/// Postcode + house number → municipality, with longest-match lookup.
#[derive(Clone, Debug)]
pub struct RoutingTable {
    codes: Vec<MunicipalityCode>,
    pc6: HashMap<u32, Slot>,
    pc4: HashMap<u16, Slot>,
    format: SourceFormat,
    rows: u64,
}

/// The entries of one postcode: the whole postcode and disjoint, sorted ranges.
#[derive(Clone, Debug, Default)]
struct Slot {
    whole: Option<u16>,
    ranges: Box<[Range]>,
}

/// An inclusive house-number range and the index of its municipality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    van: u32,
    tot: u32,
    code: u16,
}

impl Slot {
    fn range(&self, n: u32) -> Option<u16> {
        let i = self.ranges.partition_point(|r| r.tot < n);
        self.ranges.get(i).filter(|r| r.van <= n).map(|r| r.code)
    }
}

/// Which of the accepted formats a table was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// `postcode;huisnummer_van;huisnummer_tot;gemeente`.
    Canonical,
    /// A CBS-style export, columns recognised by name.
    Export,
}

impl SourceFormat {
    /// A short name for reports and audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Canonical => "canonical",
            Self::Export => "export",
        }
    }
}

/// Entry counts of a table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// PC6 entries, with or without a house-number range.
    pub pc6: usize,
    /// Of those, entries with a range.
    pub pc6_ranges: usize,
    /// PC4 entries, with or without a house-number range.
    pub pc4: usize,
    /// Of those, entries with a range.
    pub pc4_ranges: usize,
}

/// One problem in a routing table file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutingProblem {
    /// Line number, from 1 (the header).
    pub line: u64,
    /// The column as the header names it (or `header`, `line`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl RoutingProblem {
    /// Displays as `file:line: field: message (fix)`.
    pub fn at<'a>(&'a self, file: &'a Path) -> impl fmt::Display + 'a {
        struct At<'a>(&'a RoutingProblem, &'a Path);
        impl fmt::Display for At<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}:{}", self.1.display(), self.0)
            }
        }
        At(self, file)
    }
}

impl fmt::Display for RoutingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {} ({})", self.line, self.field, self.message, self.fix)
    }
}

/// Problems listed in an error message before "… and N more".
const LISTED: usize = 50;

/// A routing table file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// The file could not be read.
    #[error("reading routing table {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file has problems.
    #[error("{}", invalid_text(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem.
        problems: Vec<RoutingProblem>,
    },
}

fn invalid_text(path: &Path, problems: &[RoutingProblem]) -> String {
    use fmt::Write as _;
    let mut s = String::new();
    for p in problems.iter().take(LISTED) {
        let _ = writeln!(s, "{}", p.at(path));
    }
    if problems.len() > LISTED {
        let _ = writeln!(s, "… and {} more", problems.len() - LISTED);
    }
    let _ = write!(
        s,
        "{} problem(s) in routing table {}; check a corrected file with `meldpunt routing import`",
        problems.len(),
        path.display()
    );
    s
}

impl RoutingTable {
    /// Parses a table in either accepted format; returns every problem at once.
    pub fn parse(text: &str) -> Result<RoutingTable, Vec<RoutingProblem>> {
        parse::parse(text)
    }

    /// Reads and parses a file; problems are listed as `file:line: field: message (fix)`.
    pub fn load(path: &Path) -> anyhow::Result<RoutingTable> {
        Ok(Self::read(path)?)
    }

    /// Like [`RoutingTable::load`], with a typed error.
    pub fn read(path: &Path) -> Result<RoutingTable, RoutingError> {
        let bytes =
            std::fs::read(path).map_err(|source| RoutingError::Read { path: path.to_owned(), source })?;
        Self::parse(&String::from_utf8_lossy(&bytes))
            .map_err(|problems| RoutingError::Invalid { path: path.to_owned(), problems })
    }

    /// The municipality of an address: PC6 with range > PC6 > PC4 with range > PC4.
    pub fn route(&self, postcode: &Postcode, huisnummer: u32) -> Option<&MunicipalityCode> {
        let (pc4, pc6) = keys_of(postcode)?;
        let code = self
            .pc6
            .get(&pc6)
            .and_then(|s| s.range(huisnummer).or(s.whole))
            .or_else(|| self.pc4.get(&pc4).and_then(|s| s.range(huisnummer).or(s.whole)))?;
        self.codes.get(usize::from(code))
    }

    /// The number of entries (lines of the canonical file without its header).
    pub fn len(&self) -> usize {
        let c = self.counts();
        c.pc6 + c.pc4
    }

    /// Whether the table has no entries (a parsed table never is empty).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry counts per level.
    pub fn counts(&self) -> Counts {
        fn level<K>(m: &HashMap<K, Slot>) -> (usize, usize) {
            m.values().fold((0, 0), |(all, ranged), s| {
                (all + usize::from(s.whole.is_some()) + s.ranges.len(), ranged + s.ranges.len())
            })
        }
        let (pc6, pc6_ranges) = level(&self.pc6);
        let (pc4, pc4_ranges) = level(&self.pc4);
        Counts { pc6, pc6_ranges, pc4, pc4_ranges }
    }

    /// Every municipality the table routes to.
    pub fn municipalities(&self) -> BTreeSet<MunicipalityCode> {
        let mut used = vec![false; self.codes.len()];
        for s in self.pc6.values().chain(self.pc4.values()) {
            for c in s.whole.iter().copied().chain(s.ranges.iter().map(|r| r.code)) {
                used[usize::from(c)] = true;
            }
        }
        self.codes.iter().zip(used).filter(|(_, u)| *u).map(|(c, _)| c.clone()).collect()
    }

    /// The format the table was read from.
    pub fn format(&self) -> SourceFormat {
        self.format
    }

    /// The data lines the file had (before compaction).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The table in the canonical format, sorted by postcode (PC4 before its PC6s), the whole
    /// postcode before its ranges. Parsing it gives the same table.
    pub fn to_canonical(&self) -> String {
        use fmt::Write as _;
        // (pc4, 0 for PC4 or 1 + letters for PC6, van (0 = whole), tot, code)
        let mut rows: Vec<(u16, u16, u32, u32, u16)> = Vec::with_capacity(self.len());
        let mut add = |pc4: u16, letters: u16, s: &Slot| {
            if let Some(c) = s.whole {
                rows.push((pc4, letters, 0, 0, c));
            }
            rows.extend(s.ranges.iter().map(|r| (pc4, letters, r.van, r.tot, r.code)));
        };
        for (&k, s) in &self.pc4 {
            add(k, 0, s);
        }
        for (&k, s) in &self.pc6 {
            let (pc4, letters) = split_pc6(k);
            add(pc4, letters + 1, s);
        }
        rows.sort_unstable();
        let mut out = String::with_capacity(24 * (rows.len() + 1));
        out.push_str(CANONICAL_HEADER);
        out.push('\n');
        for (pc4, letters, van, tot, code) in rows {
            let _ = write!(out, "{pc4}");
            if letters > 0 {
                let l = letters - 1;
                out.push(char::from(b'A' + (l / 26) as u8));
                out.push(char::from(b'A' + (l % 26) as u8));
            }
            if van == 0 {
                let _ = writeln!(out, ";;;{}", self.codes[usize::from(code)]);
            } else {
                let _ = writeln!(out, ";{van};{tot};{}", self.codes[usize::from(code)]);
            }
        }
        out
    }
}

/// The PC4 number (1000–9999) of 4 ASCII digits, the first not 0.
fn pc4_number(b: &[u8]) -> Option<u16> {
    let ok = b.len() == 4 && b[0] != b'0' && b.iter().all(u8::is_ascii_digit);
    ok.then(|| b.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
}

/// The PC6 key: PC4 × 676 + letters (A–Z, A–Z).
fn pc6_key(pc4: u16, l1: u8, l2: u8) -> Option<u32> {
    let l = |c: u8| c.is_ascii_uppercase().then(|| u32::from(c - b'A'));
    Some(u32::from(pc4) * 676 + l(l1)? * 26 + l(l2)?)
}

/// The PC4 number and the letters index (0–675) of a PC6 key.
fn split_pc6(key: u32) -> (u16, u16) {
    ((key / 676) as u16, (key % 676) as u16)
}

/// The PC4 number and PC6 key of a postcode.
fn keys_of(p: &Postcode) -> Option<(u16, u32)> {
    let b = p.as_str().as_bytes();
    if b.len() != 6 {
        return None;
    }
    let pc4 = pc4_number(&b[..4])?;
    Some((pc4, pc6_key(pc4, b[4], b[5])?))
}
