//! Reading a routing table file (both formats, see the module documentation): header columns,
//! values, conflicts and compaction.

use std::collections::HashMap;

use super::{
    MAX_HUISNUMMER, Range, RoutingProblem, RoutingTable, Slot, SourceFormat, keys_of, pc4_number, split_pc6,
};
use crate::domain::party::MunicipalityCode;
use crate::domain::signal::Postcode;

/// The canonical column names, lower case.
const CANONICAL: [&str; 4] = ["postcode", "huisnummer_van", "huisnummer_tot", "gemeente"];

/// Where the recognised columns are.
struct Columns {
    /// Header names as written (trimmed).
    names: Vec<String>,
    /// Header names in lower case, to spot a repeated header.
    lower: Vec<String>,
    postcode: usize,
    municipality: usize,
    /// Exact house number (export).
    nummer: Option<usize>,
    /// `huisnummer_van`, `huisnummer_tot`.
    range: Option<(usize, usize)>,
    format: SourceFormat,
}

/// A postcode key.
#[derive(Clone, Copy)]
enum Key {
    Pc4(u16),
    Pc6(u32),
}

impl Key {
    fn text(self) -> String {
        match self {
            Key::Pc4(n) => n.to_string(),
            Key::Pc6(k) => {
                let (pc4, l) = split_pc6(k);
                format!("{pc4}{}{}", char::from(b'A' + (l / 26) as u8), char::from(b'A' + (l % 26) as u8))
            }
        }
    }
}

/// A range as read, with its line (for naming conflicts).
#[derive(Clone, Copy)]
struct RawRange {
    van: u32,
    tot: u32,
    line: u32,
    code: u16,
}

/// One postcode's entries as read.
#[derive(Default)]
struct RawSlot {
    whole: Option<(u16, u32)>,
    ranges: Vec<RawRange>,
}

/// The table being built and the problems found so far.
struct Builder {
    codes: Vec<MunicipalityCode>,
    by_code: HashMap<MunicipalityCode, u16>,
    /// Municipality values as written → index (most files repeat a few hundred values).
    by_text: HashMap<String, u16>,
    pc6: HashMap<u32, RawSlot>,
    pc4: HashMap<u16, RawSlot>,
    problems: Vec<RoutingProblem>,
}

fn problem(line: u64, field: &str, message: String, fix: &str) -> RoutingProblem {
    RoutingProblem { line, field: field.to_owned(), message, fix: fix.to_owned() }
}

/// Parses a table in either format.
pub(super) fn parse(text: &str) -> Result<RoutingTable, Vec<RoutingProblem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let line_of = |r: &csv::StringRecord| r.position().map_or(1, |p| p.line());
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            return Err(vec![problem(
                1,
                "header",
                "the file is empty".into(),
                "start with the header postcode;huisnummer_van;huisnummer_tot;gemeente and add entries",
            )]);
        }
        Err(e) => return Err(vec![problem(1, "header", format!("unreadable: {e}"), "save the file as CSV")]),
    }
    let cols = columns(&record, line_of(&record))?;
    let mut b = Builder {
        codes: Vec::new(),
        by_code: HashMap::new(),
        by_text: HashMap::new(),
        pc6: HashMap::new(),
        pc4: HashMap::new(),
        problems: Vec::new(),
    };
    let mut rows = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                b.problems.push(problem(line, "line", format!("unreadable: {e}"), "save the file as CSV"));
                break;
            }
        }
        rows += 1;
        b.row(&cols, &record, line_of(&record));
    }
    if rows == 0 {
        b.problems.push(problem(
            1,
            "header",
            "the table has no entries".into(),
            "add a line per postcode below the header",
        ));
    }
    b.finish(&cols, rows)
}

/// `;` unless the header line has more `,` or tabs.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let count = |c: char| header.matches(c).count();
    let (semi, comma, tab) = (count(';'), count(','), count('\t'));
    if comma > semi && comma >= tab {
        b','
    } else if tab > semi && tab > comma {
        b'\t'
    } else {
        b';'
    }
}

/// Names that certainly hold the municipality code.
fn is_code_name(n: &str) -> bool {
    matches!(n, "gemeente" | "gemeentecode" | "gm_code" | "gmcode" | "gm")
        || n.strip_prefix("gemeente").is_some_and(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
}

/// Other names that may hold it (not a name, nor a code: a file without header starts with one).
fn is_code_like_name(n: &str) -> bool {
    let is_code =
        n.strip_prefix("gm").is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    (n.starts_with("gemeente") || n.starts_with("gm"))
        && !n.contains("naam")
        && !n.contains("name")
        && !is_code
}

/// Finds the recognised columns; every header problem at once.
fn columns(header: &csv::StringRecord, line: u64) -> Result<Columns, Vec<RoutingProblem>> {
    let names: Vec<String> = header.iter().map(str::to_owned).collect();
    let lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let found = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
    let mut problems = Vec::new();
    let one = |what: &str, pred: &dyn Fn(&str) -> bool, problems: &mut Vec<RoutingProblem>| {
        let at: Vec<usize> = (0..lower.len()).filter(|&i| pred(&lower[i])).collect();
        if at.len() > 1 {
            let list = at.iter().map(|&i| format!("'{}' (column {})", names[i], i + 1)).collect::<Vec<_>>();
            problems.push(problem(
                line,
                &names[at[0]],
                format!("{} columns hold the {what}: {}", at.len(), list.join(", ")),
                "keep one of them, or rename the others",
            ));
        }
        at.first().copied()
    };
    let postcode = one("postcode", &|n| matches!(n, "postcode" | "pc6" | "pc4"), &mut problems);
    let municipality = match one("municipality", &is_code_name, &mut problems) {
        Some(i) => Some(i),
        None => one("municipality", &is_code_like_name, &mut problems),
    };
    let nummer = one("house number", &|n| matches!(n, "huisnummer" | "huisnr"), &mut problems);
    let van = one("start of the house-number range", &|n| n == "huisnummer_van", &mut problems);
    let tot = one("end of the house-number range", &|n| n == "huisnummer_tot", &mut problems);
    if postcode.is_none() {
        problems.push(problem(
            line,
            "header",
            format!("no postcode column (the header has {found})"),
            "start the file with the header postcode;huisnummer_van;huisnummer_tot;gemeente, \
             or name the export's postcode column PC6 or postcode",
        ));
    }
    if municipality.is_none() {
        problems.push(problem(
            line,
            "header",
            format!("no municipality column (the header has {found})"),
            "name the column gemeente, or in an export Gemeente2024, GM_CODE or gemeentecode",
        ));
    }
    let range = match (van, tot) {
        (Some(v), Some(t)) => Some((v, t)),
        (None, None) => None,
        (Some(v), None) => {
            problems.push(problem(
                line,
                &names[v],
                "a huisnummer_van column without huisnummer_tot".into(),
                "add the huisnummer_tot column (the range is inclusive), or remove huisnummer_van",
            ));
            None
        }
        (None, Some(t)) => {
            problems.push(problem(
                line,
                &names[t],
                "a huisnummer_tot column without huisnummer_van".into(),
                "add the huisnummer_van column (the range is inclusive), or remove huisnummer_tot",
            ));
            None
        }
    };
    if let (Some(n), Some((v, _))) = (nummer, range) {
        problems.push(problem(
            line,
            &names[n],
            format!("both an exact house number ('{}') and a range ('{}')", names[n], names[v]),
            "keep either the exact number or the range columns",
        ));
    }
    match (postcode, municipality) {
        (Some(postcode), Some(municipality)) if problems.is_empty() => {
            let format = if lower.iter().map(String::as_str).eq(CANONICAL) {
                SourceFormat::Canonical
            } else {
                SourceFormat::Export
            };
            Ok(Columns { names, lower, postcode, municipality, nummer, range, format })
        }
        _ => Err(problems),
    }
}

/// A PC4 (`3311`) or PC6 (`3311 ab`) postcode; spaces and case do not matter.
fn postcode(raw: &str) -> Option<Key> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() == 4 {
        return pc4_number(s.as_bytes()).map(Key::Pc4);
    }
    let p = Postcode::parse(&s)?;
    keys_of(&p).map(|(_, k)| Key::Pc6(k))
}

/// A house number, 1–99999.
fn huisnummer(raw: &str) -> Option<u32> {
    let ok = !raw.is_empty() && raw.len() <= 6 && raw.bytes().all(|b| b.is_ascii_digit());
    let n: u32 = if ok { raw.parse().ok()? } else { return None };
    (1..=MAX_HUISNUMMER).contains(&n).then_some(n)
}

/// A municipality code: `GM` + 4 digits (any case), in an export also the CBS number.
fn code(raw: &str, numeric: bool) -> Option<MunicipalityCode> {
    if numeric && (1..=4).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
        let n: u16 = raw.parse().ok()?;
        return if n == 0 { None } else { MunicipalityCode::parse(&format!("GM{n:04}")).ok() };
    }
    MunicipalityCode::parse(&raw.to_ascii_uppercase()).ok()
}

const NUMBER_FIX: &str = "write a whole number from 1 to 99999, or leave it empty for the whole postcode";

impl Builder {
    /// Reads one data line; its problems are collected and the line left out.
    fn row(&mut self, cols: &Columns, rec: &csv::StringRecord, line: u64) {
        if rec.len() == cols.lower.len() && rec.iter().zip(&cols.lower).all(|(v, h)| v.to_lowercase() == *h) {
            self.problems.push(problem(
                line,
                "line",
                "the header is repeated".into(),
                "remove this line (were two files joined?)",
            ));
            return;
        }
        if rec.len() != cols.names.len() {
            let sep = if rec.len() > cols.names.len() { " (a separator inside a value?)" } else { "" };
            self.problems.push(problem(
                line,
                "line",
                format!("{} field(s) where the header has {}{sep}", rec.len(), cols.names.len()),
                "give every line the columns of the header, empty ones included",
            ));
            return;
        }
        let before = self.problems.len();
        let raw_pc = &rec[cols.postcode];
        let key = postcode(raw_pc);
        if key.is_none() {
            self.problems.push(problem(
                line,
                &cols.names[cols.postcode],
                format!("'{raw_pc}' is not a postcode"),
                "write 4 digits (PC4, e.g. 3311) or 4 digits and 2 letters (PC6, e.g. 3311AB); \
                 the first digit is not 0",
            ));
        }
        let range = self.range(cols, rec, line);
        let code = self.code(cols, rec, line);
        if self.problems.len() > before {
            return;
        }
        let (Some(key), Ok(range), Some(code)) = (key, range, code) else { return };
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        let slot = match key {
            Key::Pc4(k) => self.pc4.entry(k).or_default(),
            Key::Pc6(k) => self.pc6.entry(k).or_default(),
        };
        match range {
            Some((van, tot)) => slot.ranges.push(RawRange { van, tot, line, code }),
            None => match slot.whole {
                None => slot.whole = Some((code, line)),
                Some((same, _)) if same == code => {}
                Some((other, first)) => {
                    let message = format!(
                        "{} maps to {} here but to {} on line {first}",
                        key.text(),
                        self.codes[usize::from(code)],
                        self.codes[usize::from(other)],
                    );
                    self.problems.push(problem(
                        u64::from(line),
                        &cols.names[cols.municipality],
                        message,
                        "keep one of the two lines, or make them name the same municipality",
                    ));
                }
            },
        }
    }

    /// The house-number range of a line: `Ok(None)` for the whole postcode.
    fn range(
        &mut self,
        cols: &Columns,
        rec: &csv::StringRecord,
        line: u64,
    ) -> Result<Option<(u32, u32)>, ()> {
        if let Some(i) = cols.nummer {
            let raw = &rec[i];
            if raw.is_empty() {
                return Ok(None);
            }
            return match huisnummer(raw) {
                Some(n) => Ok(Some((n, n))),
                None => {
                    self.problems.push(problem(
                        line,
                        &cols.names[i],
                        format!("'{raw}' is not a house number"),
                        NUMBER_FIX,
                    ));
                    Err(())
                }
            };
        }
        let Some((vi, ti)) = cols.range else { return Ok(None) };
        let (van_raw, tot_raw) = (&rec[vi], &rec[ti]);
        let (van_name, tot_name) = (&cols.names[vi], &cols.names[ti]);
        match (van_raw.is_empty(), tot_raw.is_empty()) {
            (true, true) => return Ok(None),
            (false, true) | (true, false) => {
                let (given, missing) =
                    if van_raw.is_empty() { (tot_name, van_name) } else { (van_name, tot_name) };
                self.problems.push(problem(
                    line,
                    missing,
                    format!("{missing} is empty but {given} is not"),
                    "give both numbers of the (inclusive) range, or neither for the whole postcode",
                ));
                return Err(());
            }
            (false, false) => {}
        }
        let mut number = |raw: &str, name: &str| {
            let n = huisnummer(raw);
            if n.is_none() {
                self.problems.push(problem(line, name, format!("'{raw}' is not a house number"), NUMBER_FIX));
            }
            n
        };
        let (van, tot) = (number(van_raw, van_name), number(tot_raw, tot_name));
        let (Some(van), Some(tot)) = (van, tot) else { return Err(()) };
        if van > tot {
            self.problems.push(problem(
                line,
                van_name,
                format!("the range {van}-{tot} runs backwards ({van_name} > {tot_name})"),
                "write the lower number in huisnummer_van and the higher in huisnummer_tot",
            ));
            return Err(());
        }
        Ok(Some((van, tot)))
    }

    /// The municipality of a line, as an index into `codes`.
    fn code(&mut self, cols: &Columns, rec: &csv::StringRecord, line: u64) -> Option<u16> {
        let raw = &rec[cols.municipality];
        if let Some(&i) = self.by_text.get(raw) {
            return Some(i);
        }
        let numeric = cols.format == SourceFormat::Export;
        let Some(c) = code(raw, numeric) else {
            let fix = if numeric {
                "write GM followed by 4 digits (GM0505) or the CBS number (505)"
            } else {
                "write GM followed by 4 digits, e.g. GM0505"
            };
            self.problems.push(problem(
                line,
                &cols.names[cols.municipality],
                format!("'{raw}' is not a municipality code"),
                fix,
            ));
            return None;
        };
        let next = self.codes.len() as u16; // at most 10 000 codes exist
        let i = *self.by_code.entry(c.clone()).or_insert(next);
        if i == next {
            self.codes.push(c);
        }
        self.by_text.insert(raw.to_owned(), i);
        Some(i)
    }

    /// Checks overlapping ranges, merges and compacts them, and builds the table.
    fn finish(mut self, cols: &Columns, rows: u64) -> Result<RoutingTable, Vec<RoutingProblem>> {
        let field = cols.nummer.or(cols.range.map(|(v, _)| v)).map_or("huisnummer", |i| &cols.names[i]);
        let compact = cols.nummer.is_some();
        let pc6 = std::mem::take(&mut self.pc6);
        let pc4 = std::mem::take(&mut self.pc4);
        let pc6: HashMap<u32, Slot> =
            pc6.into_iter().map(|(k, s)| (k, self.slot(Key::Pc6(k), s, field, compact))).collect();
        let pc4: HashMap<u16, Slot> =
            pc4.into_iter().map(|(k, s)| (k, self.slot(Key::Pc4(k), s, field, compact))).collect();
        if !self.problems.is_empty() {
            self.problems.sort_by_key(|p| p.line);
            return Err(self.problems);
        }
        Ok(RoutingTable { codes: self.codes, pc6, pc4, format: cols.format, rows })
    }

    /// One postcode's final entries: conflicts reported, ranges sorted, disjoint, merged.
    fn slot(&mut self, key: Key, raw: RawSlot, field: &str, compact: bool) -> Slot {
        let mut ranges = raw.ranges;
        ranges.sort_unstable_by_key(|r| (r.van, r.tot, r.line));
        for (i, a) in ranges.iter().enumerate() {
            for b in ranges[i + 1..].iter().take_while(|b| b.van <= a.tot) {
                if a.code != b.code {
                    let (here, there) = if a.line > b.line { (a, b) } else { (b, a) };
                    let show = |r: &RawRange| {
                        if r.van == r.tot { r.van.to_string() } else { format!("{}-{}", r.van, r.tot) }
                    };
                    let pc = key.text();
                    self.problems.push(problem(
                        u64::from(here.line),
                        field,
                        format!(
                            "{pc} huisnummer {} maps to {} here but overlaps {pc} huisnummer {} on line {}, \
                             which maps to {}",
                            show(here),
                            self.codes[usize::from(here.code)],
                            show(there),
                            there.line,
                            self.codes[usize::from(there.code)],
                        ),
                        "make the house-number ranges of a postcode not overlap, or name the same municipality",
                    ));
                }
            }
        }
        let mut merged: Vec<Range> = Vec::new();
        for r in ranges {
            match merged.last_mut() {
                Some(last) if last.code == r.code && (compact || r.van <= last.tot.saturating_add(1)) => {
                    last.tot = last.tot.max(r.tot);
                }
                _ => merged.push(Range { van: r.van, tot: r.tot, code: r.code }),
            }
        }
        let mut whole = raw.whole.map(|(c, _)| c);
        if compact && merged.len() == 1 && whole.is_none_or(|w| w == merged[0].code) {
            whole = Some(merged[0].code);
            merged.clear();
        }
        Slot { whole, ranges: merged.into_boxed_slice() }
    }
}
