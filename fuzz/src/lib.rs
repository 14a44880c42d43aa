//! Shared helpers of the fuzz targets (see DEVELOPERS.md, "Fuzzing").

use std::io::{self, Read};

use jiff::civil::Date;
use meldpunt::domain::signal::{Kind, Postcode, SignalRecord};
use meldpunt::intake::validate::{
    Context, CsvValidator, Format, RecordError, RecordSink, RuleSet, Tally, ValidateError, validate,
};

/// Day of receipt used by the signal-file targets.
pub const RECEIVED_ON: Date = Date::constant(2026, 11, 20);

/// One call the validator made on the sink.
#[derive(Debug, PartialEq)]
pub enum Event {
    /// `accepted`.
    Accepted(u64, Box<SignalRecord>),
    /// `objected`.
    Objected(u64, String),
    /// `rejected`.
    Rejected(Vec<RecordError>),
}

/// A sink that keeps every call and checks what it is given.
#[derive(Default)]
pub struct Collect {
    /// Calls in order.
    pub events: Vec<Event>,
}

impl RecordSink for Collect {
    fn accepted(&mut self, line: u64, record: SignalRecord) -> io::Result<()> {
        assert!(line >= 1, "line numbers start at 1");
        assert_normalised(&record.postcode);
        assert!(!record.referentie.is_empty(), "an accepted record has a referentie");
        self.events.push(Event::Accepted(line, Box::new(record)));
        Ok(())
    }
    fn objected(&mut self, line: u64, referentie: &str) -> io::Result<()> {
        self.events.push(Event::Objected(line, referentie.to_owned()));
        Ok(())
    }
    fn rejected(&mut self, errors: &[RecordError]) -> io::Result<()> {
        assert!(!errors.is_empty(), "rejected without errors");
        for e in errors {
            assert!(!e.code.is_empty() && !e.message.is_empty(), "{e:?}");
        }
        self.events.push(Event::Rejected(errors.to_vec()));
        Ok(())
    }
}

/// A postcode is `1234AB`: four digits, the first not 0, two upper-case ASCII letters, and
/// parsing it again gives itself.
pub fn assert_normalised(p: &Postcode) {
    let b = p.as_str().as_bytes();
    assert!(
        b.len() == 6
            && b[0] != b'0'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4..].iter().all(u8::is_ascii_uppercase),
        "postcode not normalised: {:?}",
        p.as_str()
    );
    assert_eq!(Postcode::parse(p.as_str()).as_ref(), Some(p));
}

/// A reader handing out `data` in chunks of the given sizes (cycled; 0 is read as 1).
pub struct Chunked<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    next: usize,
}

impl<'a> Chunked<'a> {
    /// Chunks of `data` of `sizes` bytes in turn.
    pub fn new(data: &'a [u8], sizes: &'a [u8]) -> Self {
        Chunked { data, sizes, next: 0 }
    }
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = match self.sizes {
            [] => buf.len(),
            s => usize::from(s[self.next % s.len()].max(1)),
        };
        self.next += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The outcome of a run, comparable across runs.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(meldpunt::intake::validate::Tally, Vec<Event>),
    File(meldpunt::intake::validate::FileError),
    Other(String),
}

fn run(input: impl Read, format: Format) -> Outcome {
    let ctx = Context { allowed_kinds: &Kind::ALL, rules: &RuleSet::default(), received_on: RECEIVED_ON };
    let mut sink = Collect::default();
    outcome(validate(input, format, &ctx, &mut sink), sink)
}

/// A CSV file in chunks of `sizes` bytes, each cut as the intake worker cuts a large upload
/// (`feed_to_boundary`, then the whole records after it checked by a fork, then the rest fed),
/// the forks' events and counts put back in file order.
fn run_in_blocks(data: &[u8], sizes: &[u8]) -> Outcome {
    let ctx = Context { allowed_kinds: &Kind::ALL, rules: &RuleSet::default(), received_on: RECEIVED_ON };
    let mut csv = CsvValidator::new();
    let mut sink = Collect::default();
    let mut rest = data;
    let mut next = 0;
    let result = loop {
        if rest.is_empty() {
            break csv.finish(&ctx, &mut sink);
        }
        let size = sizes.get(next % sizes.len().max(1)).map_or(rest.len(), |&s| usize::from(s.max(1)) * 16);
        let (chunk, later) = rest.split_at(size.min(rest.len()));
        (rest, next) = (later, next + 1);
        let mut at = match csv.feed_to_boundary(chunk, &ctx, &mut sink) {
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        if let Some((len, fork)) = csv.split_off(&chunk[at..]) {
            let mut block = Collect::default();
            match fork.check_block(&chunk[at..at + len], &ctx, &mut block) {
                Ok(t) => csv.add(t),
                Err(e) => break Err(e),
            }
            sink.events.append(&mut block.events);
            at += len;
        }
        if let Err(e) = csv.feed(&chunk[at..], &ctx, &mut sink) {
            break Err(e);
        }
    };
    outcome(result, sink)
}

fn outcome(result: Result<Tally, ValidateError>, sink: Collect) -> Outcome {
    match result {
        Ok(t) => {
            let count = |f: fn(&Event) -> bool| sink.events.iter().filter(|e| f(e)).count() as u64;
            assert_eq!(t.accepted, count(|e| matches!(e, Event::Accepted(..))), "{t:?}");
            assert_eq!(t.not_forwarded, count(|e| matches!(e, Event::Objected(..))), "{t:?}");
            assert_eq!(t.rejected, count(|e| matches!(e, Event::Rejected(..))), "{t:?}");
            assert_eq!(t.total, t.accepted + t.rejected + t.not_forwarded, "{t:?}");
            Outcome::Ok(t, sink.events)
        }
        Err(ValidateError::File(e)) => {
            assert!(!e.code.is_empty() && !e.message.is_empty(), "{e:?}");
            Outcome::File(e)
        }
        Err(e) => Outcome::Other(e.to_string()),
    }
}

/// The signal-file targets: the first byte says how many of the next bytes are chunk sizes
/// (0–7); the rest is the file. The file is read once whole and once in those chunks; both
/// reads must give the same outcome (records, tally, or the same file error).
pub fn signal_file(data: &[u8], format: Format) {
    let (sizes, file) = match data.split_first() {
        Some((&n, rest)) => rest.split_at(usize::from(n & 7).min(rest.len())),
        None => (&[][..], data),
    };
    let whole = run(file, format);
    if !sizes.is_empty() {
        let chunked = run(Chunked::new(file, sizes), format);
        assert_eq!(whole, chunked, "outcome depends on how the input was chunked");
    }
    if format == Format::Csv {
        let blocks = run_in_blocks(file, sizes);
        assert_eq!(whole, blocks, "outcome depends on checking in blocks");
    }
}
