//! Splitting CSV text into records and fields, in place.
//!
//! A record whose line holds no double quote is split where it lies: its fields are ranges
//! of the input, found with `memchr`, and nothing is copied. A record with a quote goes
//! through `csv_core` (RFC 4180 quoting, `""` inside quotes, line breaks inside quotes),
//! which writes the unquoted field bytes to a buffer of its own. Both read the same dialect
//! as before: records end at `\n` (a CR of CRLF stays at the end of the last field, where
//! trimming drops it), empty lines are skipped, and a quote opens a quoted field only at the
//! start of a field.
//!
//! The split is resumable: a quoted record cut off by the end of the buffered input goes on
//! where it stopped when more input comes, so a long record is never read twice.

use std::ops::Range;

use csv_core::{ReadRecordResult, Reader, ReaderBuilder, Terminator};

/// Where a record's fields are: in the input text, or in the splitter's own buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// `ranges` index the input from the record's first byte.
    Input,
    /// `ranges` index [`Splitter::unquoted`].
    Unquoted,
}

/// One step of the split.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// A record. It starts `skipped` bytes (empty lines) after the position asked for and
    /// takes `len` bytes from there, its line end included; `newlines` of them are `\n`.
    Record {
        /// Empty lines before the record.
        skipped: usize,
        /// Bytes of the record, from its first byte up to and including its line end.
        len: usize,
        /// `\n` bytes inside those (the line end included).
        newlines: u64,
        /// Where the fields are.
        source: Source,
    },
    /// The record is not complete yet: more input is needed (or, at the end, there is none).
    NeedMore,
    /// Nothing is left: only empty lines, and the input has ended.
    End,
}

/// The end (just past its `\n`) of the last record that `input` holds whole, for input that
/// starts at a record boundary; `None` when no record ends in it. Empty lines after that
/// record are left out (the splitter counts them with the record after them). It follows
/// the quoting the splitter reads: a quote opens a quoted field only at the start of a
/// field, `""` inside one is a quote, and a line end inside one does not end the record. A
/// quote at the very end of a quoted field's input cannot be read yet (it may be half of
/// `""`): the records before that field are all it counts.
pub(super) fn last_record_end(input: &[u8], delimiter: u8) -> Option<usize> {
    let mut quoted = false;
    // Where the stretch outside quotes now being read starts, and the last record end found.
    let (mut outside_from, mut end) = (0, None);
    let mut quotes = memchr::memchr_iter(b'"', input);
    while let Some(q) = quotes.next() {
        if quoted {
            match input.get(q + 1) {
                Some(b'"') => {
                    quotes.next();
                }
                Some(_) => (quoted, outside_from) = (false, q + 1),
                None => return end,
            }
        } else if q == 0 || input[q - 1] == b'\n' || input[q - 1] == delimiter {
            end = record_end(input, outside_from..q).or(end);
            quoted = true;
        }
    }
    if !quoted {
        end = record_end(input, outside_from..input.len()).or(end);
    }
    end
}

/// The end of the last record in `input[within]`, outside quotes: after the last line end
/// that follows something other than a line end.
fn record_end(input: &[u8], within: Range<usize>) -> Option<usize> {
    let mut nl = within.start + memchr::memrchr(b'\n', &input[within.clone()])?;
    while nl > 0 && input[nl - 1] == b'\n' {
        nl -= 1;
    }
    // Only empty lines (the record before them ended earlier, already counted).
    (nl > 0 && nl >= within.start).then_some(nl + 1)
}

/// Splits records; see the module documentation.
pub(super) struct Splitter {
    core: Reader,
    delimiter: u8,
    /// Field ranges of the last record.
    ranges: Vec<Range<usize>>,
    /// A quoted record is being read by `csv_core`.
    quoted: Option<Quoted>,
    /// `csv_core`'s output: the unquoted bytes of the record.
    out: Vec<u8>,
    /// `csv_core`'s field ends.
    ends: Vec<usize>,
    /// Bytes of `out` that belong to the last quoted record.
    out_len: usize,
}

/// Progress of a quoted record through `csv_core`.
struct Quoted {
    /// Empty lines skipped before it.
    skipped: usize,
    /// Bytes of it already given to `csv_core`.
    fed: usize,
    /// Bytes written to `out` and entries to `ends`.
    nout: usize,
    nend: usize,
}

impl Splitter {
    /// A splitter for `delimiter`.
    pub fn new(delimiter: u8) -> Splitter {
        let mut core = ReaderBuilder::new().delimiter(delimiter).terminator(Terminator::Any(b'\n')).build();
        // `csv_core` drops a byte order mark at the start of what it reads first. The
        // caller has dealt with the start of the file already, so let it read an empty line
        // (which it skips) before any record: no record can lose a BOM of its own.
        let _ = core.read_record(b"\n", &mut [0; 1], &mut [0; 1]);
        Splitter {
            core,
            delimiter,
            ranges: Vec::new(),
            quoted: None,
            out: Vec::new(),
            ends: Vec::new(),
            out_len: 0,
        }
    }

    /// The delimiter it splits on.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// The field ranges of the record just returned.
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.ranges
    }

    /// The unquoted bytes of the record just returned when its source is
    /// [`Source::Unquoted`] (valid UTF-8 when the input was: quote removal drops only ASCII).
    pub fn unquoted(&self) -> &[u8] {
        &self.out[..self.out_len]
    }

    /// The next record in `input[pos..]`. `ended`: no more input will follow.
    pub fn next(&mut self, input: &[u8], pos: usize, ended: bool) -> Step {
        if self.quoted.is_none() {
            let rest = &input[pos..];
            let skipped = rest.iter().take_while(|&&b| b == b'\n').count();
            let rest = &rest[skipped..];
            if rest.is_empty() {
                return if ended { Step::End } else { Step::NeedMore };
            }
            // One pass finds the line end, or a quote before it.
            let stop = memchr::memchr2(b'\n', b'"', rest);
            if stop.is_none_or(|i| rest[i] == b'\n') {
                let line_end = stop;
                if line_end.is_none() && !ended {
                    return Step::NeedMore;
                }
                let line = &rest[..line_end.unwrap_or(rest.len())];
                self.ranges.clear();
                let mut start = 0;
                for d in memchr::memchr_iter(self.delimiter, line) {
                    self.ranges.push(start..d);
                    start = d + 1;
                }
                self.ranges.push(start..line.len());
                let terminated = line_end.is_some();
                return Step::Record {
                    skipped,
                    len: line.len() + usize::from(terminated),
                    newlines: u64::from(terminated),
                    source: Source::Input,
                };
            }
            self.quoted = Some(Quoted { skipped, fed: 0, nout: 0, nend: 0 });
        }
        self.go_on_quoted(input, pos, ended)
    }

    /// Feeds `csv_core` the rest of the quoted record that starts at `pos` (after its
    /// skipped empty lines).
    fn go_on_quoted(&mut self, input: &[u8], pos: usize, ended: bool) -> Step {
        let Some(q) = self.quoted.as_mut() else {
            return Step::NeedMore;
        };
        let start = pos + q.skipped;
        loop {
            let rest = &input[start + q.fed..];
            if rest.is_empty() && !ended {
                return Step::NeedMore;
            }
            if self.out.len() < q.nout + rest.len() + 1 {
                self.out.resize(q.nout + rest.len() + 1, 0);
            }
            if self.ends.len() < q.nend + 1 {
                self.ends.resize((q.nend + 1).max(64) * 2, 0);
            }
            let (res, nin, nout, nend) =
                self.core.read_record(rest, &mut self.out[q.nout..], &mut self.ends[q.nend..]);
            q.fed += nin;
            q.nout += nout;
            q.nend += nend;
            match res {
                ReadRecordResult::InputEmpty if !ended => return Step::NeedMore,
                // At the end, an empty input tells `csv_core` to finish the record.
                ReadRecordResult::InputEmpty | ReadRecordResult::OutputFull => {}
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => {
                    let q = self.quoted.take().expect("a quoted record in progress");
                    self.out_len = q.nout;
                    self.ranges.clear();
                    let mut from = 0;
                    for &end in &self.ends[..q.nend] {
                        self.ranges.push(from..end);
                        from = end;
                    }
                    let taken = &input[start..start + q.fed];
                    let newlines = super::utf8::count_newlines(taken);
                    return Step::Record { skipped: q.skipped, len: q.fed, newlines, source: Source::Unquoted };
                }
                ReadRecordResult::End => {
                    self.quoted = None;
                    return Step::End;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `last_record_end` of every prefix of many mixed texts is where the splitter, reading
    /// that prefix with more to come, ends its last record.
    #[test]
    fn last_record_end_is_where_the_splitter_ends_a_record() {
        const PIECES: [&str; 14] =
            ["a", "", "\"q\"", "\"x\"\"y\"", "\"l\nm\"", "\"\"", "b\"c", "\"z\"w", "\"\"\"\n\"", " \"s\"", "\r", "é", "\"a;b\"", "\"\n\n\""];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..400 {
            let mut text = String::new();
            for _ in 0..1 + next(12) {
                for f in 0..1 + next(4) {
                    if f > 0 {
                        text.push(';');
                    }
                    text.push_str(PIECES[next(PIECES.len())]);
                }
                text.push_str(["\n", "\r\n", "\n\n", "\n"][next(4)]);
            }
            let bytes = text.as_bytes();
            for p in 0..=bytes.len() {
                let mut s = Splitter::new(b';');
                let (mut pos, mut end) = (0, None);
                while let Step::Record { skipped, len, .. } = s.next(&bytes[..p], pos, false) {
                    pos += skipped + len;
                    end = Some(pos);
                }
                assert_eq!(last_record_end(&bytes[..p], b';'), end, "{:?}", String::from_utf8_lossy(&bytes[..p]));
            }
        }
    }

    /// Every record of `text` read in one go: (line, fields), lines from 1.
    fn split(text: &str, delimiter: u8) -> Vec<(u64, Vec<String>)> {
        let mut s = Splitter::new(delimiter);
        let (mut pos, mut line, mut out) = (0, 1, Vec::new());
        loop {
            match s.next(text.as_bytes(), pos, true) {
                Step::Record { skipped, len, newlines, source } => {
                    line += skipped as u64;
                    let base = match source {
                        Source::Input => &text.as_bytes()[pos + skipped..],
                        Source::Unquoted => s.unquoted(),
                    };
                    let fields =
                        s.ranges().iter().map(|r| String::from_utf8(base[r.clone()].to_vec()).unwrap()).collect();
                    out.push((line, fields));
                    line += newlines;
                    pos += skipped + len;
                }
                Step::End => return out,
                Step::NeedMore => panic!("need more at the end"),
            }
        }
    }

    #[test]
    fn plain_and_quoted_records_agree_with_the_csv_crate() {
        let text = "a;b;c\n\n\n1;\"x;\"\"y\"\"\nz\";3\r\n4;5\n\"\";;\nq\"q;w\"\n\"open;x\n";
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(text.as_bytes());
        let expected: Vec<Vec<String>> =
            rdr.byte_records().map(|r| r.unwrap().iter().map(|f| String::from_utf8(f.to_vec()).unwrap()).collect()).collect();
        let got = split(text, b';');
        assert_eq!(got.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>(), expected);
        assert_eq!(got.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [1, 4, 6, 7, 8, 9]);
    }

    #[test]
    fn a_quoted_record_cut_off_goes_on_where_it_stopped() {
        let text = b"1;\"long\nquoted\";2\n3;4\n";
        let mut s = Splitter::new(b';');
        for cut in 3..12 {
            assert_eq!(s.next(&text[..cut], 0, false), Step::NeedMore, "cut {cut}");
        }
        match s.next(text, 0, false) {
            Step::Record { skipped: 0, len: 18, newlines: 2, source: Source::Unquoted } => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(s.unquoted(), b"1long\nquoted2");
        assert_eq!(s.ranges(), [0..1, 1..12, 12..13]);
    }

    #[test]
    fn a_bom_inside_the_file_is_kept() {
        let text = "\u{feff}\"a\";b\n";
        let got = split(text, b';');
        assert_eq!(got[0].1[0], "\u{feff}\"a\"");
    }
}
