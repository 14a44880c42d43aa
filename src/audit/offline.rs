//! Verifying an export file offline, streaming: one pass reads its checkpoints and anchors,
//! a second pushes its events through the [`Verifier`], so an export of years is checked
//! without holding it in memory.

use std::io::{BufRead, Seek};

use super::export::{ExportError, Line, for_each_line, parse_line};
use super::finding::Finding;
use super::key::PublicKey;
use super::verify::{Log, Source, Verified, Verifier};

/// Why an export did not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineError {
    /// A line or byte of the file is not what meldpunt writes.
    #[error(transparent)]
    Read(#[from] ExportError),
    /// The content does not verify.
    #[error(transparent)]
    Found(#[from] Finding),
    /// The file could not be read.
    #[error("reading the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Verifies the export read from `input` with `public` (and, if given, against the officer's
/// `earlier` export, already verified).
pub fn verify_export<R: BufRead + Seek>(
    mut input: R,
    public: &PublicKey,
    earlier: Option<&Log>,
) -> Result<Verified, OfflineError> {
    let mut signed = Log::default();
    for_each_line(&mut input, |n, line| -> Result<(), OfflineError> {
        if !line.starts_with("{\"seq\"") {
            match parse_line(n, line)? {
                Line::Checkpoint(c) => signed.checkpoints.push(c),
                Line::Anchor(a) => signed.anchors.push(a),
                Line::Record(_) => {}
            }
        }
        Ok(())
    })?;
    input.rewind()?;
    let mut v = Verifier::new(&signed.checkpoints, &signed.anchors, Some(public), Source::Export)?;
    if let Some(e) = earlier {
        v = v.against(e);
    }
    for_each_line(&mut input, |n, line| -> Result<(), OfflineError> {
        match parse_line(n, line)? {
            Line::Record(r) => v.push(&r)?,
            // A signed line seen in the first pass; a record line that parses as one was
            // rejected there (only lines starting `{"seq"` were skipped).
            Line::Checkpoint(_) | Line::Anchor(_) => {}
        }
        Ok(())
    })?;
    Ok(v.finish()?)
}
