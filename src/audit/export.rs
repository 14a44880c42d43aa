//! The export file: JSON Lines that verify offline with only the public key.
//!
//! One line per event (the SPEC §10 fields), in seq order; each checkpoint as
//! `{"checkpoint":{…}}` right after the event it covers; a purge anchor the export starts from
//! as `{"anchor":{…}}` first. An export starts at event 1, after the latest purge anchor, or
//! (with `--since`) right after a checkpoint, and always ends with a checkpoint signed when it
//! was made. Every line must be exactly the canonical serialisation of what it holds, so no
//! byte of the file can change without verification failing.

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

impl Audit {
    /// Signs an `export` checkpoint and returns the export text of the events from `since`
    /// (all when `None`) up to that checkpoint.
    pub fn export_blocking(&self, key: &AuditKey, since: Option<Timestamp>) -> Result<String, StateError> {
        let own = self.checkpoint_blocking(key, "export", false)?;
        let end = own.as_ref().map_or(0, |c| c.seq);
        let records: Vec<Record> = self.records()?.into_iter().filter(|r| r.seq <= end).collect();
        // Earlier exports' checkpoints are left out: the only `export` checkpoint is this one.
        let checkpoints: Vec<Checkpoint> = self
            .checkpoints()?
            .into_iter()
            .filter(|c| c.seq <= end && (c.reason != "export" || Some(c) == own.as_ref()))
            .collect();
        let anchor = self.anchors()?.into_iter().max_by_key(|a| a.through);
        let since = since.map(|t| format!("{t:.3}"));
        let first_wanted =
            records.iter().find(|r| since.as_ref().is_none_or(|s| r.ts >= *s)).map_or(end + 1, |r| r.seq);
        // Start right after the latest signed point before the first wanted event.
        let from_anchor = anchor.as_ref().map_or(0, |a| a.through);
        let start = checkpoints
            .iter()
            .map(|c| c.seq)
            .filter(|s| *s < first_wanted && *s >= from_anchor)
            .max()
            .unwrap_or(from_anchor)
            .max(from_anchor);
        let mut out = String::new();
        if let Some(a) = anchor.filter(|a| a.through == start) {
            push(&mut out, &Signed::Anchor(a));
        }
        for c in checkpoints.iter().filter(|c| c.seq == start) {
            push(&mut out, &Signed::Checkpoint(c.clone()));
        }
        for r in records.iter().filter(|r| r.seq > start) {
            push(&mut out, r);
            for c in checkpoints.iter().filter(|c| c.seq == r.seq) {
                push(&mut out, &Signed::Checkpoint(c.clone()));
            }
        }
        Ok(out)
    }
}

fn push(out: &mut String, line: &impl Serialize) {
    // Serialising these plain structs cannot fail (string keys, no maps with other keys).
    out.push_str(&serde_json::to_string(line).unwrap_or_default());
    out.push('\n');
}

/// Reads an export file strictly (see the module docs).
pub fn parse(bytes: &[u8]) -> Result<Log, ExportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| ExportError::NotUtf8 { offset: e.valid_up_to() })?;
    if text.is_empty() {
        return Ok(Log::default());
    }
    let body = text.strip_suffix('\n').ok_or(ExportError::Incomplete)?;
    let mut log = Log::default();
    for (i, line) in body.split('\n').enumerate() {
        let n = i + 1;
        let bad = |e: serde_json::Error| ExportError::BadLine { line: n, why: e.to_string() };
        let canonical = if line.starts_with("{\"checkpoint\":") || line.starts_with("{\"anchor\":") {
            let s: Signed = serde_json::from_str(line).map_err(bad)?;
            let again = serde_json::to_string(&s).map_err(bad)?;
            match s {
                Signed::Anchor(a) => log.anchors.push(a),
                Signed::Checkpoint(c) => log.checkpoints.push(c),
            }
            again
        } else {
            let r: Record = serde_json::from_str(line).map_err(bad)?;
            let again = serde_json::to_string(&r).map_err(bad)?;
            log.records.push(r);
            again
        };
        if canonical != line {
            return Err(ExportError::NotCanonical { line: n });
        }
    }
    Ok(log)
}
