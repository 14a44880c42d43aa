//! The optional DDAS columns of a feedback line (docs/feedback.md, docs/ddas.md):
//! `datum_opgepakt`, the day the municipality took the case up, and `contactpogingen`, its
//! contact attempts. Empty or absent is fine; a value that cannot be read makes the line bad
//! like any other field.
//!
//! Line codes: `datum_opgepakt_invalid`, `datum_opgepakt_future`, `contactpogingen_invalid`.

#![allow(clippy::result_large_err, reason = "an ErrorEntry is built once per bad line of a small file")]

use jiff::civil::Date;

use super::parse::{RawLine, line_error};
use crate::domain::contact::{self, ContactPoging};
use crate::intake::receipt::ErrorEntry;

/// `datum_opgepakt`, when given.
pub fn datum_opgepakt(l: &RawLine, today: Date) -> Result<Option<Date>, ErrorEntry> {
    let field = Some("datum_opgepakt");
    if l.datum_opgepakt.is_empty() {
        return Ok(None);
    }
    let Some(d) = contact::feedback_date(&l.datum_opgepakt) else {
        return Err(line_error(
            l.line,
            field,
            "datum_opgepakt_invalid",
            "datum_opgepakt must be a date written as YYYY-MM-DD (from 2000 on), or empty",
        ));
    };
    if d > today {
        return Err(line_error(
            l.line,
            field,
            "datum_opgepakt_future",
            format!(
                "datum_opgepakt lies after the day of receipt ({today}); write the day the case was taken up"
            ),
        ));
    }
    Ok(Some(d))
}

/// `contactpogingen`, when given (an empty list when not).
pub fn contactpogingen(l: &RawLine, today: Date) -> Result<Vec<ContactPoging>, ErrorEntry> {
    if l.contactpogingen.is_empty() {
        return Ok(Vec::new());
    }
    contact::parse(&l.contactpogingen, today).map_err(|e| {
        line_error(
            l.line,
            Some("contactpogingen"),
            "contactpogingen_invalid",
            format!("contactpogingen: {e}"),
        )
    })
}
