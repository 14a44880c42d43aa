//! Tests of the validator as a whole: a collecting sink, a valid base record, and helpers
//! that write it as CSV or JSON Lines with some fields changed.

mod bench;
mod codes;
mod csv_files;
mod fixtures;
mod jsonl_files;
mod robustness;

use std::io;

use jiff::civil::Date;

use super::fields::Field;
use super::{Context, FileError, Format, RecordError, RecordSink, RuleSet, Tally, ValidateError, validate};
use crate::domain::signal::{Kind, SignalRecord};

/// Day of receipt in every test.
pub(super) const RECEIVED_ON: Date = Date::constant(2026, 11, 20);

/// Kinds the test creditor may send: all but `warmte`.
pub(super) const ALLOWED: [Kind; 5] =
    [Kind::Drinkwater, Kind::Elektriciteit, Kind::Gas, Kind::Woninghuur, Kind::Zorgverzekering];

/// One call the validator made on the sink.
#[derive(Debug, PartialEq)]
pub(super) enum Event {
    Accepted(u64, Box<SignalRecord>),
    Objected(u64, String),
    Rejected(Vec<RecordError>),
}

/// A sink that keeps every call.
#[derive(Default)]
pub(super) struct Collect {
    pub events: Vec<Event>,
}

impl RecordSink for Collect {
    fn accepted(&mut self, line: u64, record: SignalRecord) -> io::Result<()> {
        self.events.push(Event::Accepted(line, Box::new(record)));
        Ok(())
    }
    fn objected(&mut self, line: u64, referentie: &str) -> io::Result<()> {
        self.events.push(Event::Objected(line, referentie.to_owned()));
        Ok(())
    }
    fn rejected(&mut self, errors: &[RecordError]) -> io::Result<()> {
        assert!(!errors.is_empty(), "rejected without errors");
        self.events.push(Event::Rejected(errors.to_vec()));
        Ok(())
    }
}

/// A tally from its four counts.
pub(super) fn tally(total: u64, accepted: u64, rejected: u64, not_forwarded: u64) -> Tally {
    Tally { total, accepted, rejected, not_forwarded }
}

/// Runs the validator over `bytes` with the default rules.
pub(super) fn run(bytes: &[u8], format: Format) -> (Result<Tally, ValidateError>, Vec<Event>) {
    run_from(bytes, format)
}

/// Runs the validator over any reader with the default rules.
pub(super) fn run_from<R: io::Read>(input: R, format: Format) -> (Result<Tally, ValidateError>, Vec<Event>) {
    let rules = RuleSet::default();
    let ctx = Context { allowed_kinds: &ALLOWED, rules: &rules, received_on: RECEIVED_ON };
    let mut sink = Collect::default();
    let r = validate(input, format, &ctx, &mut sink);
    (r, sink.events)
}

/// Runs the validator and expects a structural rejection.
pub(super) fn file_error(bytes: &[u8], format: Format) -> FileError {
    match run(bytes, format).0 {
        Err(ValidateError::File(e)) => e,
        other => panic!("expected a file error, got {other:?}"),
    }
}

/// The errors of the single rejected record in `events`.
pub(super) fn only_rejection(events: &[Event]) -> &[RecordError] {
    match events {
        [Event::Rejected(errors)] => errors,
        other => panic!("expected one rejection, got {other:?}"),
    }
}

/// Each event as `line:referentie-or-code`.
pub(super) fn summary(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Accepted(line, rec) => format!("{line}:{}", rec.referentie),
            Event::Objected(line, r) => format!("{line}:objected:{r}"),
            Event::Rejected(errs) => {
                let codes: Vec<&str> = errs.iter().map(|e| e.code.as_str()).collect();
                format!("{}:{}", errs[0].line, codes.join("+"))
            }
        })
        .collect()
}

/// A valid `woninghuur` record, as (field, value) in the order of the field table in docs/signal-file.md.
pub(super) fn base() -> Vec<(Field, String)> {
    let values = [
        "A-1",
        "woninghuur",
        "eerste",
        "J.",
        "van der",
        "Berg",
        "1980-05-17",
        "Voorstraat",
        "12",
        "a",
        "2hg",
        "3311 ab",
        "Dordrecht",
        "06 1234 5678",
        "j@example.nl",
        "1234,56",
        "2026-09-01",
        "2026-11-19",
        "2026-09-15",
        "ja",
        "ja",
        "nee",
        "nee",
    ];
    Field::ALL.into_iter().zip(values).map(|(f, v)| (f, v.to_owned())).collect()
}

/// `base()` with some fields replaced.
pub(super) fn with(changes: &[(Field, &str)]) -> Vec<(Field, String)> {
    let mut rec = base();
    for (field, value) in changes {
        rec[*field as usize].1 = (*value).to_owned();
    }
    rec
}

/// One CSV value, quoted when it needs to be.
pub(super) fn csv_value(v: &str, delimiter: char) -> String {
    if v.contains([delimiter, '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

/// A CSV file (`;`, LF) with the full header and these records.
pub(super) fn csv(records: &[Vec<(Field, String)>]) -> Vec<u8> {
    let mut out: String = Field::ALL.map(Field::name).join(";");
    out.push('\n');
    for rec in records {
        let line: Vec<String> = rec.iter().map(|(_, v)| csv_value(v, ';')).collect();
        out.push_str(&line.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}
