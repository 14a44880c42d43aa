//! The file-level errors: a file that cannot be read as a whole is rejected with one of these.

use std::io;

use super::fields::Field;
use super::utf8::EncodingError;
use super::{FileError, Format, ValidateError};

/// Most bytes one record may span; a longer one is almost always an unclosed quote.
pub(super) const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// A record grew past [`MAX_RECORD_BYTES`] (carried inside an `io::Error`).
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("a record is longer than {MAX_RECORD_BYTES} bytes")]
pub(super) struct RecordTooLong;

/// Maps an error from reading the upload: encoding and record-size problems reject the
/// file, anything else is an input failure.
pub(super) fn from_io(e: io::Error, line: u64) -> ValidateError {
    if let Some(enc) = EncodingError::from_io(&e) {
        return ValidateError::File(encoding(enc));
    }
    if e.get_ref().is_some_and(|inner| inner.is::<RecordTooLong>()) {
        return ValidateError::File(record_too_long(line));
    }
    ValidateError::Input(e)
}

/// `encoding_invalid`: the first byte that is not UTF-8.
pub(super) fn encoding(e: EncodingError) -> FileError {
    FileError {
        code: "encoding_invalid".into(),
        message: format!(
            "the file is not valid UTF-8: the first bad byte is at byte offset {} (line {}); save the \
             file as UTF-8 (in Excel: Save As, \"CSV UTF-8\") and upload it again",
            e.offset, e.line
        ),
        line: Some(e.line),
        byte_offset: Some(e.offset),
    }
}

/// `no_data_rows`: an empty file, or a header without records. An empty file gets this
/// code too (not a separate `header_missing`): either way there is nothing to process.
pub(super) fn no_data_rows(format: Format, empty: bool) -> FileError {
    let message = match (format, empty) {
        (Format::Csv, true) => "the file is empty; it must have a header row and at least one data row",
        (Format::Csv, false) => "the file has no data rows; add at least one signal below the header row",
        (Format::Jsonl, _) => "the file holds no records; write one signal per line as a JSON object",
    };
    FileError { code: "no_data_rows".into(), message: message.into(), line: None, byte_offset: None }
}

/// `line_ends_cr`: lines that end in a carriage return alone, so the whole file reads as one
/// header row.
pub(super) fn line_ends_cr() -> FileError {
    FileError {
        code: "line_ends_cr".into(),
        message: "the lines end in a carriage return alone (CR, as old Mac files do), so the file \
                  reads as one line; save it with LF or CRLF line ends"
            .into(),
        line: Some(1),
        byte_offset: None,
    }
}

/// `columns_missing`: every required column the header lacks.
pub(super) fn columns_missing(missing: &[Field], line: u64) -> FileError {
    let names: Vec<&str> = missing.iter().map(|f| f.name()).collect();
    let required: Vec<&str> = Field::ALL.iter().filter(|f| f.required()).map(|f| f.name()).collect();
    let (noun, verb) = if names.len() == 1 { ("column", "is") } else { ("columns", "are") };
    FileError {
        code: "columns_missing".into(),
        message: format!(
            "the required {noun} {} {verb} missing from the header row; the first line must name the \
             columns, separated by ; or , and including {}",
            names.join(", "),
            required.join(", ")
        ),
        line: Some(line),
        byte_offset: None,
    }
}

/// `columns_duplicate`: a known column named twice, so which one holds the value is unclear.
pub(super) fn columns_duplicate(field: Field, line: u64) -> FileError {
    FileError {
        code: "columns_duplicate".into(),
        message: format!(
            "the column {} appears more than once in the header row; keep exactly one",
            field.name()
        ),
        line: Some(line),
        byte_offset: None,
    }
}

/// `record_too_long`: a CSV record that never ends, usually an unclosed double quote.
pub(super) fn record_too_long(line: u64) -> FileError {
    FileError {
        code: "record_too_long".into(),
        message: format!(
            "the record starting at line {line} is longer than {} MiB; check it for a double quote (\") \
             that is opened but never closed",
            MAX_RECORD_BYTES / (1024 * 1024)
        ),
        line: Some(line),
        byte_offset: None,
    }
}
