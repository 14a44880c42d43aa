//! The export file: JSON Lines that verify offline with only the public key.
//!
//! One line per event (the docs/audit.md fields), in seq order; each checkpoint as
//! `{"checkpoint":{…}}` right after the event it covers; a purge anchor the export starts from
//! as `{"anchor":{…}}` first. An export starts at event 1, after the latest purge anchor, or
//! (with `--since`) right after a checkpoint, and always ends with a checkpoint signed when it
//! was made. Every line must be exactly the canonical serialisation of what it holds, so no
//! byte of the file can change without verification failing.

use std::io::{BufRead, Write};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::checkpoint::{Anchor, Checkpoint};
use super::key::AuditKey;
use super::verify::Log;
use super::{Audit, Record};
use crate::state::StateError;

/// A signed line of an export.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
enum Signed {
    Anchor(Anchor),
    Checkpoint(Checkpoint),
}

/// Why an export file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A line is not a record, checkpoint or anchor.
    #[error("line {line}: not an audit event, checkpoint or anchor ({why}): the file was altered")]
    BadLine {
        /// Line number, from 1.
        line: usize,
        /// The parser's words.
        why: String,
    },
    /// The file does not end with a newline.
    #[error("the last line is incomplete (no final newline): the file was cut")]
    Incomplete,
    /// A line parses but is not in canonical form.
    #[error("line {line}: not in the form meldpunt writes (bytes changed): the file was altered")]
    NotCanonical {
        /// Line number, from 1.
        line: usize,
    },
    /// Not UTF-8.
    #[error("byte {offset}: not UTF-8: the file was altered")]
    NotUtf8 {
        /// Byte offset.
        offset: usize,
    },
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Reading the log failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Writing the output failed.
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

impl Audit {
    /// Signs an `export` checkpoint and writes the export of the events from `since` (all
    /// when `None`) up to that checkpoint to `out`, event by event. Returns the lines written.
    pub fn export_blocking(
        &self,
        key: &AuditKey,
        since: Option<Timestamp>,
        out: &mut dyn Write,
    ) -> Result<u64, WriteError> {
        let own = self.checkpoint_blocking(key, "export", false)?;
        let end = own.as_ref().map_or(0, |c| c.seq);
        // Earlier exports' checkpoints are left out: the only `export` checkpoint is this one.
        let checkpoints: Vec<Checkpoint> = self
            .checkpoints()?
            .into_iter()
            .filter(|c| c.seq <= end && (c.reason != "export" || Some(c) == own.as_ref()))
            .collect();
        let anchor = self.anchors()?.into_iter().max_by_key(|a| a.through);
        let since = since.map(|t| format!("{t:.3}"));
        let mut first_wanted = end + 1;
        self.scan(since.as_deref(), &mut |r| {
            first_wanted = first_wanted.min(r.seq);
            false
        })?;
        // Start right after the latest signed point before the first wanted event.
        let from_anchor = anchor.as_ref().map_or(0, |a| a.through);
        let start = checkpoints
            .iter()
            .map(|c| c.seq)
            .filter(|s| *s < first_wanted && *s >= from_anchor)
            .max()
            .unwrap_or(from_anchor);
        let mut lines = 0u64;
        if let Some(a) = anchor.filter(|a| a.through == start) {
            line(out, &Signed::Anchor(a), &mut lines)?;
        }
        for c in checkpoints.iter().filter(|c| c.seq == start) {
            line(out, &Signed::Checkpoint(c.clone()), &mut lines)?;
        }
        let mut failed = None;
        self.scan(None, &mut |r| {
            if r.seq <= start {
                return true;
            }
            if r.seq > end {
                return false;
            }
            let written = line(out, &r, &mut lines).and_then(|()| {
                checkpoints
                    .iter()
                    .filter(|c| c.seq == r.seq)
                    .try_for_each(|c| line(out, &Signed::Checkpoint(c.clone()), &mut lines))
            });
            match written {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        })?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        Ok(lines)
    }
}

/// Writes one line of an export (canonical JSON and a newline).
fn line(out: &mut dyn Write, value: &impl Serialize, lines: &mut u64) -> std::io::Result<()> {
    // Serialising these plain structs cannot fail (string keys only).
    let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    *lines += 1;
    writeln!(out, "{text}")
}

/// One line of an export, parsed.
pub(super) enum Line {
    /// An event.
    Record(Record),
    /// A checkpoint.
    Checkpoint(Checkpoint),
    /// A purge anchor.
    Anchor(Anchor),
}

/// Parses line `n` strictly: it must be exactly the canonical form of what it holds.
pub(super) fn parse_line(n: usize, line: &str) -> Result<Line, ExportError> {
    let bad = |e: serde_json::Error| ExportError::BadLine { line: n, why: e.to_string() };
    let (parsed, canonical) = if line.starts_with("{\"checkpoint\":") || line.starts_with("{\"anchor\":") {
        let s: Signed = serde_json::from_str(line).map_err(bad)?;
        let again = serde_json::to_string(&s).map_err(bad)?;
        let parsed = match s {
            Signed::Anchor(a) => Line::Anchor(a),
            Signed::Checkpoint(c) => Line::Checkpoint(c),
        };
        (parsed, again)
    } else {
        let r: Record = serde_json::from_str(line).map_err(bad)?;
        let again = serde_json::to_string(&r).map_err(bad)?;
        (Line::Record(r), again)
    };
    if canonical != line {
        return Err(ExportError::NotCanonical { line: n });
    }
    Ok(parsed)
}

/// Calls `f` with each line of `input` (number from 1, text without the newline), checking
/// that the file is UTF-8 and ends with a newline; stops at the first error.
pub(super) fn for_each_line<E: From<ExportError> + From<std::io::Error>>(
    mut input: impl BufRead,
    mut f: impl FnMut(usize, &str) -> Result<(), E>,
) -> Result<(), E> {
    let (mut buf, mut offset, mut n) = (Vec::new(), 0usize, 0usize);
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        n += 1;
        let text = std::str::from_utf8(&buf)
            .map_err(|e| ExportError::NotUtf8 { offset: offset + e.valid_up_to() })?;
        offset += buf.len();
        let line = text.strip_suffix('\n').ok_or(ExportError::Incomplete)?;
        f(n, line)?;
    }
}

/// Reads a whole export strictly into memory (see the module docs; for a large file use
/// [`super::offline::verify_export`], which streams).
pub fn parse(bytes: &[u8]) -> Result<Log, ExportError> {
    let mut log = Log::default();
    let read = for_each_line(std::io::Cursor::new(bytes), |n, line| -> Result<(), ParseFailure> {
        match parse_line(n, line)? {
            Line::Record(r) => log.records.push(r),
            Line::Checkpoint(c) => log.checkpoints.push(c),
            Line::Anchor(a) => log.anchors.push(a),
        }
        Ok(())
    });
    match read {
        Ok(()) => Ok(log),
        Err(ParseFailure(e)) => Err(e),
    }
}

/// A parse error (reading from memory cannot fail with I/O).
struct ParseFailure(ExportError);

impl From<ExportError> for ParseFailure {
    fn from(e: ExportError) -> Self {
        ParseFailure(e)
    }
}

impl From<std::io::Error> for ParseFailure {
    fn from(e: std::io::Error) -> Self {
        ParseFailure(ExportError::BadLine { line: 0, why: e.to_string() })
    }
}
