//! CSV files: one reused `csv::ByteRecord` at a time, columns mapped to fields once.

use std::io::{self, Read};

use super::fields::{Field, Raw, Row};
use super::file_error::{self, MAX_RECORD_BYTES, RecordTooLong};
use super::problem::Problem;
use super::utf8::Utf8Reader;
use super::{Context, Format, RecordSink, Tally, ValidateError, csv_header, deliver, record};

/// Buffer of the CSV parser.
const BUFFER: usize = 64 * 1024;

/// Whether the header record holds a carriage return other than the one of its CRLF: a file
/// whose lines end in CR alone reads as one long header row (no column name has a CR).
fn lone_cr(header: &csv::ByteRecord) -> bool {
    let last = header.len().saturating_sub(1);
    header.iter().enumerate().any(|(i, field)| {
        let field = if i == last { field.strip_suffix(b"\r").unwrap_or(field) } else { field };
        field.contains(&b'\r')
    })
}

/// Reads and checks a CSV file.
pub(super) fn run<R: Read>(
    input: R,
    ctx: &Context<'_>,
    sink: &mut dyn RecordSink,
) -> Result<Tally, ValidateError> {
    let mut src = Utf8Reader::new(input);
    let sniffed = csv_header::sniff(&mut src).map_err(|e| file_error::from_io(e, 1))?;
    let guard = Guard {
        inner: io::Cursor::new(sniffed.prefix).chain(src),
        total: 0,
        record_start: 0,
        eof: false,
        last: 0,
    };
    let rdr = csv::ReaderBuilder::new()
        .delimiter(sniffed.delimiter)
        .has_headers(false)
        .flexible(true)
        // `\n` only: a CR of CRLF stays at the end of the last field, where trimming drops
        // it. This keeps every record ending in the byte that counts the line.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(BUFFER)
        .from_reader(guard);
    let mut records = Records { rdr, rec: csv::ByteRecord::new(), line: 1 };

    if !records.next()? {
        return Err(ValidateError::File(file_error::no_data_rows(Format::Csv, true)));
    }
    if lone_cr(&records.rec) {
        return Err(ValidateError::File(file_error::line_ends_cr()));
    }
    let columns = csv_header::columns(&records.rec, records.line).map_err(ValidateError::File)?;
    let present: Vec<(Field, usize)> =
        Field::ALL.into_iter().filter_map(|f| columns[f as usize].map(|i| (f, i))).collect();
    let width = records.rec.len();
    let mut tally = Tally::default();
    while records.next()? {
        tally.total += 1;
        let (rec, line) = (&records.rec, records.line);
        if rec.len() != width {
            let p = Problem::FieldCount { expected: width, found: rec.len() };
            sink.rejected(&[p.to_error(line, None, None, ctx.allowed_kinds)]).map_err(ValidateError::Sink)?;
            tally.rejected += 1;
            continue;
        }
        // One UTF-8 check for the whole record; fields are slices of it. The stream was
        // checked already and quote removal only drops ASCII bytes, so this cannot fail
        // and every field boundary is a character boundary.
        let text = std::str::from_utf8(rec.as_slice()).unwrap_or_default();
        let mut row = Row::new();
        for &(field, i) in &present {
            let value = rec.range(i).and_then(|r| text.get(r)).map_or(Raw::Nested, Raw::text);
            row.set(field, value);
        }
        deliver(record::check(&row, line, ctx), line, sink, &mut tally)?;
    }
    if tally.total == 0 {
        return Err(ValidateError::File(file_error::no_data_rows(Format::Csv, false)));
    }
    Ok(tally)
}

/// The parser with its current record and that record's first line.
struct Records<R> {
    rdr: csv::Reader<Guard<R>>,
    rec: csv::ByteRecord,
    line: u64,
}

impl<R: Read> Records<R> {
    /// Reads the next record that is not blank (blank: every field empty or whitespace).
    fn next(&mut self) -> Result<bool, ValidateError> {
        loop {
            let from = self.rdr.position().line();
            match self.rdr.read_byte_record(&mut self.rec) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => return Err(csv_error(e, from)),
            }
            let end = self.rdr.position().clone();
            let guard = self.rdr.get_mut();
            guard.record_start = end.byte();
            // The record ends at a `\n` (counted in `end.line()`) unless it ends the file.
            let terminated = !(guard.eof && end.byte() == guard.total && guard.last != b'\n');
            let term = u64::from(terminated);
            let start = self.rec.position().map_or(from, |p| p.line());
            self.line = if terminated && end.line() - start == 1 {
                start
            } else {
                // Skipped blank lines or line breaks inside quotes: count back from the end.
                // (Never before `start`: that also covers an unclosed quote whose last
                // line break at the end of the file looks like a terminator.)
                let inner = self.rec.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
                end.line().saturating_sub(inner + term).max(start)
            };
            if !self.rec.iter().all(|f| f.trim_ascii().is_empty()) {
                return Ok(true);
            }
        }
    }
}

/// Maps a parser error; with a flexible reader of byte records only I/O errors occur.
fn csv_error(e: csv::Error, line: u64) -> ValidateError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => file_error::from_io(io, line),
        other => ValidateError::Input(io::Error::other(format!("CSV parser: {other:?}"))),
    }
}

/// Counts the bytes handed to the parser and refuses to feed a record past
/// [`MAX_RECORD_BYTES`], so an unclosed quote cannot pull the whole file into memory.
struct Guard<R> {
    inner: R,
    /// Bytes handed out.
    total: u64,
    /// Parser byte position where the current record starts (the end of the previous one).
    record_start: u64,
    /// The inner reader reported end of input.
    eof: bool,
    /// The last byte handed out.
    last: u8,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.total - self.record_start > MAX_RECORD_BYTES {
            return Err(io::Error::other(RecordTooLong));
        }
        let n = self.inner.read(buf)?;
        match n.checked_sub(1) {
            None => self.eof = true,
            Some(last) => {
                self.total += n as u64;
                self.last = buf[last];
            }
        }
        Ok(n)
    }
}
