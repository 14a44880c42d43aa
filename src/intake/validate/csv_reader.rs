//! CSV files, checked as their bytes arrive: [`CsvValidator`] takes the upload chunk by
//! chunk and hands each record's outcome to the sink as soon as the record is complete.
//!
//! The bytes are held once, in one buffer: UTF-8 is checked over the whole buffered text in
//! one pass, records are split in place ([`csv_split`](super::csv_split)), every field is a
//! `&str` into the buffer, and only the incomplete record at the end is kept for the next
//! chunk. Memory stays at about one chunk plus one record (at most [`MAX_RECORD_BYTES`]).

use std::io::{self, Read};

use super::csv_header::{self, Sniff};
use super::csv_split::{self, Source, Splitter, Step};
use super::fields::{Field, Raw, Row};
use super::file_error::{self, MAX_RECORD_BYTES};
use super::problem::Problem;
use super::utf8::{self, EncodingError};
use super::{Context, Format, RecordSink, Tally, ValidateError, deliver, record};

/// Bytes read at a time by [`run`].
const READ_CHUNK: usize = 256 * 1024;

/// Beyond this many buffered bytes, chunks are added to the buffer rather than checked in place.
const MIN_STEP: usize = 64 * 1024;

/// An incomplete record (or header) this long is looked at again only once the input has
/// doubled it: a long one is not scanned again for every small chunk.
const RESCAN_FROM: usize = 4 * 1024;

/// Reads and checks a CSV file from a reader.
pub(super) fn run<R: Read>(
    mut input: R,
    ctx: &Context<'_>,
    sink: &mut dyn RecordSink,
) -> Result<Tally, ValidateError> {
    let mut v = CsvValidator::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ValidateError::Input(e)),
        };
        v.feed(&chunk[..n], ctx, sink)?;
    }
    v.finish(ctx, sink)
}

/// What the validator is looking for next.
enum Phase {
    /// The first bytes: a byte order mark.
    Start,
    /// The header line, to find the delimiter.
    Sniff,
    /// The header record.
    Header(Splitter),
    /// Data records.
    Data {
        split: Splitter,
        /// Field and column index of every field the header names.
        present: Vec<(Field, usize)>,
        /// Columns of the header.
        width: usize,
    },
}

/// A CSV file being checked; see the module documentation.
pub struct CsvValidator {
    /// Bytes not yet used; `buf[0]` is where the next record (or the header scan) starts.
    buf: Vec<u8>,
    /// File offset of `buf[0]` (a byte order mark counts).
    offset: u64,
    /// Line of `buf[0]`.
    line: u64,
    /// Look at the buffer again once it holds this many bytes.
    next_look: usize,
    /// The input has ended.
    ended: bool,
    phase: Phase,
    tally: Tally,
}

impl Default for CsvValidator {
    fn default() -> Self {
        CsvValidator::new()
    }
}

impl CsvValidator {
    /// A validator before the first byte.
    pub fn new() -> CsvValidator {
        CsvValidator {
            // It holds the start of the file until the header is read, then only a record
            // cut off at a chunk's end: it grows when it must.
            buf: Vec::new(),
            offset: 0,
            line: 1,
            next_look: 0,
            ended: false,
            phase: Phase::Start,
            tally: Tally::default(),
        }
    }

    /// Takes the next bytes of the file and checks every record they complete.
    pub fn feed(&mut self, chunk: &[u8], ctx: &Context<'_>, sink: &mut dyn RecordSink) -> Result<(), ValidateError> {
        let taken = self.feed_to_boundary(chunk, ctx, sink)?;
        if taken == chunk.len() {
            return Ok(());
        }
        // Among the records, at a record boundary: check the rest where it lies, copying only
        // its end.
        let rest = &chunk[taken..];
        let used = self.look_at(rest, ctx, sink)?;
        self.offset += used as u64;
        self.buf.extend_from_slice(&rest[used..]);
        self.next_look = next_look(self.buf.len());
        Ok(())
    }

    /// Like [`feed`](Self::feed), but among the data records it takes from `chunk` only what
    /// completes a record cut off at the end of the chunk before, and returns how many bytes
    /// it took: the rest of `chunk` then starts at a record boundary, where [`split_off`](Self::split_off)
    /// can hand a block of it to another thread. Before the data records, or while a record
    /// is still incomplete, it takes all of `chunk`.
    pub fn feed_to_boundary(
        &mut self,
        chunk: &[u8],
        ctx: &Context<'_>,
        sink: &mut dyn RecordSink,
    ) -> Result<usize, ValidateError> {
        if !matches!(self.phase, Phase::Data { .. }) || self.buf.len() >= MIN_STEP {
            self.buf.extend_from_slice(chunk);
            if self.buf.len() >= self.next_look {
                self.look(ctx, sink)?;
            }
            return Ok(chunk.len());
        }
        if self.buf.is_empty() {
            return Ok(0);
        }
        // Finish the record cut off at the end of the last chunk with the first line of this one.
        let first_line = memchr::memchr(b'\n', chunk).map_or(chunk.len(), |i| i + 1);
        self.buf.extend_from_slice(&chunk[..first_line]);
        self.look(ctx, sink)?;
        if self.buf.is_empty() {
            return Ok(first_line);
        }
        // Still not complete (a quoted line break, or a very long record).
        self.buf.extend_from_slice(&chunk[first_line..]);
        if self.buf.len() >= self.next_look {
            self.look(ctx, sink)?;
        }
        Ok(chunk.len())
    }

    /// The whole records at the start of `rest` (which must follow what this validator has
    /// taken, at a record boundary), for a fork to check elsewhere: how many bytes they take
    /// and the fork, which starts at their line and offset. This validator moves past them.
    /// `None` before the data records, with a record carried over, or when no record ends
    /// in `rest`.
    pub fn split_off(&mut self, rest: &[u8]) -> Option<(usize, CsvValidator)> {
        let Phase::Data { split, present, width } = &self.phase else { return None };
        if !self.buf.is_empty() {
            return None;
        }
        let len = csv_split::last_record_end(rest, split.delimiter())?;
        let fork = CsvValidator {
            buf: Vec::new(),
            offset: self.offset,
            line: self.line,
            next_look: 0,
            ended: false,
            phase: Phase::Data { split: Splitter::new(split.delimiter()), present: present.clone(), width: *width },
            tally: Tally::default(),
        };
        self.offset += len as u64;
        self.line += utf8::count_newlines(&rest[..len]);
        Some((len, fork))
    }

    /// Checks `block`, whole records ending in a line end, and returns their counts (a fork's
    /// work; add them with [`add`](Self::add)).
    pub fn check_block(
        mut self,
        block: &[u8],
        ctx: &Context<'_>,
        sink: &mut dyn RecordSink,
    ) -> Result<Tally, ValidateError> {
        let used = self.look_at(block, ctx, sink)?;
        if used != block.len() {
            return Err(ValidateError::Sink(io::Error::other("a block did not end at a record boundary")));
        }
        Ok(self.tally)
    }

    /// Adds the counts of a block a fork checked.
    pub fn add(&mut self, t: Tally) {
        self.tally.total += t.total;
        self.tally.accepted += t.accepted;
        self.tally.rejected += t.rejected;
        self.tally.not_forwarded += t.not_forwarded;
    }

    /// Ends the file: checks the last record and returns the counts.
    pub fn finish(mut self, ctx: &Context<'_>, sink: &mut dyn RecordSink) -> Result<Tally, ValidateError> {
        self.ended = true;
        self.look(ctx, sink)?;
        match self.phase {
            Phase::Data { .. } if self.tally.total > 0 => Ok(self.tally),
            Phase::Data { .. } => Err(ValidateError::File(file_error::no_data_rows(Format::Csv, false))),
            _ => Err(ValidateError::File(file_error::no_data_rows(Format::Csv, true))),
        }
    }

    /// Goes through the buffered bytes as far as they allow.
    fn look(&mut self, ctx: &Context<'_>, sink: &mut dyn RecordSink) -> Result<(), ValidateError> {
        if matches!(self.phase, Phase::Start) {
            // Room for two marks, so that what is dropped does not depend on the chunking.
            if self.buf.len() < 2 * utf8::BOM.len() && !self.ended {
                return Ok(());
            }
            if self.buf.starts_with(&utf8::BOM) {
                self.buf.drain(..utf8::BOM.len());
                self.offset += utf8::BOM.len() as u64;
                // The CSV parser used to drop a second one (see `csv_split`): so does this.
                if self.buf.starts_with(&utf8::BOM) {
                    self.buf.drain(..utf8::BOM.len());
                    self.offset += utf8::BOM.len() as u64;
                }
            }
            self.phase = Phase::Sniff;
        }
        let buf = std::mem::take(&mut self.buf);
        let result = self.look_at(&buf, ctx, sink);
        self.buf = buf;
        let used = result?;
        self.buf.drain(..used);
        self.offset += used as u64;
        self.next_look = next_look(self.buf.len());
        Ok(())
    }

    /// Checks what `buf` holds; returns how many bytes were used up.
    fn look_at(&mut self, buf: &[u8], ctx: &Context<'_>, sink: &mut dyn RecordSink) -> Result<usize, ValidateError> {
        let (text, bad) = valid_prefix(buf, self.ended);
        // The text ends where the input ends only when no bad byte cuts it short.
        let ended = self.ended && text.len() == buf.len();
        // Bytes used, and the line of `text[pos]`.
        let (mut pos, mut line) = (0usize, self.line);
        let offset = self.offset;
        let need_more = |pos: usize, line: u64, taken: usize| -> Result<usize, ValidateError> {
            // What the record (or the header scan) has taken beyond `pos` is not used up.
            too_long(taken, line)?;
            match bad {
                Some(at) => Err(ValidateError::File(file_error::encoding(EncodingError {
                    offset: offset + at as u64,
                    line: line + utf8::count_newlines(&buf[pos..at]),
                }))),
                None => Ok(pos),
            }
        };
        loop {
            match &mut self.phase {
                Phase::Start => unreachable!("the start is dealt with before"),
                Phase::Sniff => match csv_header::sniff(text.as_bytes(), ended) {
                    Sniff::Delimiter(d) => self.phase = Phase::Header(Splitter::new(d)),
                    Sniff::NeedMore => return need_more(pos, line, 0),
                },
                Phase::Header(split) => {
                    let (skipped, len, newlines, source) = match split.next(text.as_bytes(), pos, ended) {
                        Step::Record { skipped, len, newlines, source } => (skipped, len, newlines, source),
                        Step::End => {
                            self.line = line;
                            return Ok(pos);
                        }
                        Step::NeedMore => {
                            self.line = line;
                            return need_more(pos, line, text.len() - pos);
                        }
                    };
                    too_long(skipped + len, line)?;
                    let start = pos + skipped;
                    let fields = field_text(text, start, split, source);
                    let names: Vec<&str> = split.ranges().iter().map(|r| fields.get(r.clone()).unwrap_or("")).collect();
                    line += skipped as u64;
                    let record_line = line;
                    (pos, line) = (start + len, line + newlines);
                    if names.iter().all(|n| n.trim_ascii().is_empty()) {
                        continue;
                    }
                    if csv_header::lone_cr(&names) {
                        return Err(ValidateError::File(file_error::line_ends_cr()));
                    }
                    let columns = csv_header::columns(&names, record_line).map_err(ValidateError::File)?;
                    let present = Field::ALL.into_iter().filter_map(|f| columns[f as usize].map(|i| (f, i))).collect();
                    let width = names.len();
                    let Phase::Header(split) = std::mem::replace(&mut self.phase, Phase::Start) else {
                        unreachable!("in the header phase")
                    };
                    self.phase = Phase::Data { split, present, width };
                }
                Phase::Data { split, present, width } => {
                    let (skipped, len, newlines, source) = match split.next(text.as_bytes(), pos, ended) {
                        Step::Record { skipped, len, newlines, source } => (skipped, len, newlines, source),
                        Step::End => break,
                        Step::NeedMore => {
                            self.line = line;
                            return need_more(pos, line, text.len() - pos);
                        }
                    };
                    too_long(skipped + len, line)?;
                    let start = pos + skipped;
                    line += skipped as u64;
                    let record_line = line;
                    (pos, line) = (start + len, line + newlines);
                    let fields = field_text(text, start, split, source);
                    let ranges = split.ranges();
                    if ranges.iter().all(|r| fields.as_bytes()[r.clone()].trim_ascii().is_empty()) {
                        continue;
                    }
                    self.tally.total += 1;
                    if ranges.len() != *width {
                        let p = Problem::FieldCount { expected: *width, found: ranges.len() };
                        sink.rejected(&[p.to_error(record_line, None, None, ctx.allowed_kinds)])
                            .map_err(ValidateError::Sink)?;
                        self.tally.rejected += 1;
                        continue;
                    }
                    let mut row = Row::new();
                    for &(field, i) in present.iter() {
                        let value = ranges.get(i).and_then(|r| fields.get(r.clone())).map_or(Raw::Nested, Raw::text);
                        row.set(field, value);
                    }
                    deliver(record::check(&row, record_line, ctx), record_line, sink, &mut self.tally)?;
                }
            }
        }
        self.line = line;
        Ok(pos)
    }
}

/// When to look again at a buffer left holding `pending` bytes of an incomplete record:
/// at the next chunk while that is small, else once the input has doubled it (so a long
/// record is scanned a few times at most, not once per chunk).
fn next_look(pending: usize) -> usize {
    if pending < RESCAN_FROM { 0 } else { 2 * pending }
}

/// `record_too_long` for a record that takes more than [`MAX_RECORD_BYTES`] from the end of
/// the one before it (on `line`), complete or not.
fn too_long(taken: usize, line: u64) -> Result<(), ValidateError> {
    if taken as u64 > MAX_RECORD_BYTES {
        return Err(ValidateError::File(file_error::record_too_long(line)));
    }
    Ok(())
}

/// The text the field ranges of a record index.
fn field_text<'t>(text: &'t str, start: usize, split: &'t Splitter, source: Source) -> &'t str {
    match source {
        Source::Input => text.get(start..).unwrap_or(""),
        // Quote removal drops only ASCII bytes, so valid text stays valid.
        Source::Unquoted => std::str::from_utf8(split.unquoted()).unwrap_or(""),
    }
}

/// The longest valid UTF-8 start of `buf`, and the offset in `buf` of the first byte that is
/// not UTF-8: a bad byte, or, once the input has `ended`, a sequence cut off at its end.
fn valid_prefix(buf: &[u8], ended: bool) -> (&str, Option<usize>) {
    match std::str::from_utf8(buf) {
        Ok(text) => (text, None),
        Err(e) => {
            let at = e.valid_up_to();
            let text = std::str::from_utf8(&buf[..at]).unwrap_or("");
            let bad = (e.error_len().is_some() || ended).then_some(at);
            (text, bad)
        }
    }
}
