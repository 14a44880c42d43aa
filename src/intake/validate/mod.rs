//! Signal-file reading and validation (docs/signal-file.md), pure and streaming.
//!
//! `validate` reads a CSV or JSON Lines file from any `Read`, checks every record against
//! the rules and hands each outcome to a [`RecordSink`]. Memory stays constant in the
//! file size (one record at a time). It never touches the disk or the network.
//!
//! File-level codes ([`FileError`]): `encoding_invalid`, `columns_missing`,
//! `columns_duplicate`, `no_data_rows` (also for an empty file), `record_too_long` (a CSV
//! record over 1 MiB, i.e. an unclosed quote). Record codes ([`RecordError`]):
//! `<field>_missing`, `<field>_invalid`, `<field>_too_long`, `soort_not_allowed`,
//! `geboortedatum_future`, `geboortedatum_age`, `ontstaansdatum_future`,
//! `signaaldatum_future`, `herinneringsdatum_future`, `bedrag_out_of_range`,
//! `arrears_too_short`, `arrears_too_long`, `contactpoging_required`,
//! `schuldhulp_gewezen_required`, and for whole records `field_count`, `record_malformed`
//! and `record_too_long` (JSON Lines).
//!
//! Leniencies: enum values (`soort`, `fase`, `ja`/`nee`) are case-insensitive; rows whose
//! cells are all empty (`;;;;`) are skipped like blank lines. Strictness: text fields may
//! not hold control characters (line breaks, tabs); dates need a year from 1900.

use std::io::{self, Read};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::domain::signal::{Kind, SignalRecord};
use crate::domain::signal_view::SignalView;

mod csv_header;
mod csv_reader;
mod csv_split;
mod fields;
mod file_error;
mod jsonl;
mod problem;
mod record;
#[cfg(test)]
mod tests;
mod utf8;
mod values;

pub use crate::domain::rules::{KindRules, Requirement, RuleSet};
pub use csv_reader::CsvValidator;

/// The two accepted file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.csv`: header row, `;` or `,`, RFC 4180 quoting.
    Csv,
    /// `.jsonl`: one JSON object per line.
    Jsonl,
}

impl Format {
    /// The format for a file name by its extension (case-insensitive), if known.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if lower.ends_with(".jsonl") {
            Some(Format::Jsonl)
        } else {
            None
        }
    }
}

/// What the validator needs to know besides the bytes.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    /// Kinds this creditor may send.
    pub allowed_kinds: &'a [Kind],
    /// Per-kind rules (window, required fields).
    pub rules: &'a RuleSet,
    /// Local date of receipt: default `signaaldatum`, reference for "not in the future".
    pub received_on: Date,
}

/// Receives each record outcome in file order.
pub trait RecordSink {
    /// A valid record to keep. `line` is the physical line where it starts (header = 1).
    fn accepted(&mut self, line: u64, record: SignalRecord) -> io::Result<()>;
    /// The same, as the validator hands it over: borrowed from the input. By default it
    /// makes the owned record for [`RecordSink::accepted`]; a sink that only encodes the
    /// record (the sealer) takes the view and saves the allocations.
    fn accepted_view(&mut self, line: u64, record: SignalView<'_>) -> io::Result<()> {
        self.accepted(line, record.to_record())
    }
    /// A valid record with `bezwaar = ja`: not forwarded and never stored.
    fn objected(&mut self, line: u64, referentie: &str) -> io::Result<()>;
    /// An invalid record, with every problem found in it (at least one), in field order.
    fn rejected(&mut self, errors: &[RecordError]) -> io::Result<()>;
}

/// One invalid record, as listed in the receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordError {
    /// Physical line where the record starts (CSV: the header is line 1; JSON Lines: line 1
    /// is the first line of the file, blank lines included in the count).
    pub line: u64,
    /// The record's `referentie`, when it has a readable one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referentie: Option<String>,
    /// The field at fault, lower case as in docs/signal-file.md (absent for whole-record problems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Stable snake_case error code, e.g. `postcode_invalid`.
    pub code: String,
    /// What is wrong and how to fix it; never echoes personal data.
    pub message: String,
}

/// Why a whole file was structurally rejected (nothing of it is kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    /// Stable snake_case code, e.g. `encoding_invalid`, `columns_missing`, `no_data_rows`.
    pub code: String,
    /// What is wrong and how to fix it.
    pub message: String,
    /// Line, when the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset, for encoding errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
}

/// Counts of one validation run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Data records read.
    pub total: u64,
    /// Records handed to `accepted`.
    pub accepted: u64,
    /// Records handed to `rejected`.
    pub rejected: u64,
    /// Records handed to `objected`.
    pub not_forwarded: u64,
}

/// Why `validate` stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// The file is structurally unreadable; reject it whole.
    #[error("{}", .0.message)]
    File(FileError),
    /// Reading the input failed (e.g. the upload was aborted).
    #[error("reading the upload failed: {0}")]
    Input(io::Error),
    /// The sink failed (e.g. the sealer could not write).
    #[error("storing a record failed: {0}")]
    Sink(io::Error),
}

/// Reads and checks a whole file, streaming, handing each record's outcome to `sink`.
///
/// Records are handed over as they are read, so a file-level error (e.g. a bad byte near
/// the end) can come after some records: the caller then discards everything it got.
pub fn validate<R: Read>(
    input: R,
    format: Format,
    ctx: &Context<'_>,
    sink: &mut dyn RecordSink,
) -> Result<Tally, ValidateError> {
    match format {
        Format::Csv => csv_reader::run(input, ctx, sink),
        Format::Jsonl => jsonl::run(input, ctx, sink),
    }
}

/// Hands one record's outcome to the sink and counts it.
fn deliver(
    outcome: record::Outcome<'_>,
    line: u64,
    sink: &mut dyn RecordSink,
    tally: &mut Tally,
) -> Result<(), ValidateError> {
    match outcome {
        record::Outcome::Accepted(rec) => {
            tally.accepted += 1;
            sink.accepted_view(line, rec)
        }
        record::Outcome::Objected(referentie) => {
            tally.not_forwarded += 1;
            sink.objected(line, referentie)
        }
        record::Outcome::Rejected(errors) => {
            tally.rejected += 1;
            sink.rejected(&errors)
        }
    }
    .map_err(ValidateError::Sink)
}
