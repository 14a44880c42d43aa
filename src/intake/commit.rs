//! Filing a received file: duplicates, corrections, vault, state row, receipt, audit.
//!
//! Order matters for crash safety: the sealed file is moved into its period first, then the
//! state row (with the receipt) is committed, then the receipt files are written. Start-up
//! recovery removes sealed files without a row and rewrites missing receipt files, so a crash
//! at any point either loses an upload the client was never told about, or keeps it whole.

use jiff::Timestamp;
use serde_json::json;

use super::receipt::{Counts, ErrorEntry, Receipt, ReceiptStatus, Warning};
use super::received::Outcome;
use super::validate::FileError;
use super::worker::{Checked, Sealed};
use super::{IntakeError, StorageError};
use crate::app::App;
use crate::audit::{Event, Outcome as AuditOutcome};
use crate::domain::party::VerifiedSender;
use crate::domain::period::Period;
use crate::metrics::Protocol;
use crate::state::files::{self, FileRow};

/// Files one received file and returns its receipt.
pub(super) fn commit(
    app: &App,
    sender: &VerifiedSender,
    name: &str,
    file_id: &str,
    received_at: Timestamp,
    period: Period,
    outcome: Outcome,
) -> Result<Receipt, IntakeError> {
    let creditor = sender.creditor().as_str();
    let period_s = period.to_string();
    let mut receipt = Receipt {
        file_id: file_id.to_owned(),
        file_name: name.to_owned(),
        sha256: String::new(),
        bytes: 0,
        received_at: format!("{received_at:.3}"),
        period: period_s.clone(),
        status: ReceiptStatus::Rejected,
        records: Counts::default(),
        duplicate_of: None,
        errors: Vec::new(),
        errors_not_listed: 0,
        warnings: Vec::new(),
    };
    let local = received_at.to_zoned(crate::domain::period::zone());
    let natural = app.config().cutoff.period_of(received_at);
    if natural != period {
        receipt.warnings.push(Warning {
            line: None,
            code: "period_closed_early".into(),
            message: format!(
                "period {natural}'s batch has already run (its deliveries were closed early): the file belongs to period {period} and goes into its batch"
            ),
        });
    } else if (local.year(), local.month()) != (period.year(), period.month()) {
        let c = app.config().cutoff;
        receipt.warnings.push(Warning {
            line: None,
            code: "after_cutoff".into(),
            message: format!(
                "received after this month's cutoff (day {} at {}, Amsterdam time): the file belongs to period {period} and goes into its batch",
                c.day,
                c.time.strftime("%H:%M:%S")
            ),
        });
    }
    let mut refs_blob = Vec::new();
    let mut sealed_into_vault = false;
    match outcome {
        Outcome::TooLarge { bytes } => {
            let limit = app.config().intake.max_file_bytes;
            receipt.bytes = bytes;
            receipt.errors.push(ErrorEntry::from(FileError {
                code: "file_too_large".into(),
                message: format!(
                    "the file is larger than the limit of {limit} bytes; split it into smaller files"
                ),
                line: None,
                byte_offset: Some(limit),
            }));
        }
        Outcome::Worked(w) => {
            receipt.sha256 = w.sha256;
            receipt.bytes = w.bytes;
            match w.result {
                Err(fe) => receipt.errors.push(fe.into()),
                Ok(Sealed { checked, file }) => {
                    let conn = app.state().lock();
                    let dup = files::find_kept_by_sha(&conn, creditor, &period_s, &receipt.sha256)
                        .map_err(storage)?;
                    drop(conn);
                    receipt.records.total = checked.tally.total;
                    if let Some(first) = dup {
                        drop(file); // nothing added: the sealed copy goes
                        receipt.status = ReceiptStatus::Duplicate;
                        receipt.duplicate_of = Some(first);
                    } else {
                        refs_blob = fill_accepted(app, &mut receipt, checked, creditor, &period_s)?;
                        file.file().map_err(storage)?;
                        sealed_into_vault = true;
                    }
                }
            }
        }
    }

    let receipt_json = serde_json::to_string(&receipt).map_err(StorageError::Receipt)?;
    let row = FileRow {
        file_id: file_id.to_owned(),
        creditor: creditor.to_owned(),
        period: period_s.clone(),
        name: name.to_owned(),
        sha256: receipt.sha256.clone(),
        bytes: receipt.bytes,
        received_at: receipt.received_at.clone(),
        status: receipt.status,
        accepted: receipt.records.accepted,
        rejected: receipt.records.rejected,
        not_forwarded: receipt.records.not_forwarded,
        replaced: receipt.records.replaced,
        refs: refs_blob,
        receipt: receipt_json,
    };
    // A kept file goes in only while its period's batch has not begun (docs/periods.md).
    let inserted = if sealed_into_vault {
        files::insert_while_open(&app.state().lock(), &row)
    } else {
        files::insert(&app.state().lock(), &row).map(|()| true)
    };
    if !matches!(inserted, Ok(true)) && sealed_into_vault {
        let _ = std::fs::remove_file(app.vault().sealed_path(period, file_id));
    }
    match inserted {
        Ok(true) => {}
        Ok(false) => return Err(IntakeError::PeriodClosed(period_s)),
        Err(e) => return Err(storage(e)),
    }
    // The row is durable; a failure here is repaired by start-up recovery.
    if let Err(e) = receipt.write_to(&app.layout().receipts(creditor), app.signer()) {
        tracing::error!(file_id, error = %e, "could not write receipt files; they are rewritten at start-up");
    }
    audit(app, sender, &receipt);
    let protocol = Protocol::from(sender.credential());
    app.metrics().upload_filed(protocol, receipt.status, receipt.bytes, &receipt.records);
    Ok(receipt)
}

/// Fills counts, warnings and errors of a kept file; returns its referentie-hash blob.
fn fill_accepted(
    app: &App,
    receipt: &mut Receipt,
    checked: Checked,
    creditor: &str,
    period: &str,
) -> Result<Vec<u8>, IntakeError> {
    let Checked { tally, errors, errors_not_listed, mut refs, objected_lines } = checked;
    receipt.records.accepted = tally.accepted;
    receipt.records.rejected = tally.rejected;
    receipt.records.not_forwarded = tally.not_forwarded;
    receipt.status =
        if tally.rejected > 0 { ReceiptStatus::AcceptedWithErrors } else { ReceiptStatus::Accepted };
    receipt.errors = errors.into_iter().map(ErrorEntry::from).collect();
    receipt.errors_not_listed = errors_not_listed;

    // Same referentie twice in this file: the later line wins.
    refs.sort_unstable();
    let max = app.config().intake.max_listed_errors;
    let mut distinct: Vec<u64> = Vec::with_capacity(refs.len());
    let mut repeats = 0u64;
    for pair in refs.windows(2) {
        if pair[0].0 == pair[1].0 {
            repeats += 1;
            if (repeats as usize) <= max {
                receipt.warnings.push(Warning {
                    line: Some(pair[1].1),
                    code: "referentie_duplicate".into(),
                    message: format!(
                        "line {} has the same referentie as line {}; the later line wins",
                        pair[1].1, pair[0].1
                    ),
                });
            }
        }
    }
    for &(h, _) in &refs {
        if distinct.last() != Some(&h) {
            distinct.push(h);
        }
    }
    drop(refs);

    // Same referentie in an earlier file of this period: a correction.
    let earlier = files::kept_refs(&app.state().lock(), creditor, period).map_err(storage)?;
    let mut replaced = vec![false; distinct.len()];
    for blob in earlier {
        let mut theirs = blob.chunks_exact(8).map(|c| u64::from_be_bytes(c.try_into().expect("8")));
        let mut t = theirs.next();
        for (i, h) in distinct.iter().enumerate() {
            while t.is_some_and(|x| x < *h) {
                t = theirs.next();
            }
            if t == Some(*h) {
                replaced[i] = true;
            }
        }
    }
    receipt.records.replaced = replaced.iter().filter(|r| **r).count() as u64;
    if receipt.records.replaced > 0 {
        receipt.warnings.push(Warning {
            line: None,
            code: "replaced".into(),
            message: format!(
                "{} records replace records with the same referentie from earlier files of period {period} (corrections)",
                receipt.records.replaced
            ),
        });
    }
    if tally.not_forwarded > 0 {
        let lines: Vec<String> = objected_lines.iter().map(u64::to_string).collect();
        let more = if tally.not_forwarded as usize > lines.len() { ", …" } else { "" };
        receipt.warnings.push(Warning {
            line: None,
            code: "not_forwarded".into(),
            message: format!(
                "{} records not forwarded: debtor objected (lines {}{more}); they are not stored",
                tally.not_forwarded,
                lines.join(", ")
            ),
        });
    }
    Ok(distinct.iter().flat_map(|h| h.to_be_bytes()).collect())
}

fn audit(app: &App, sender: &VerifiedSender, r: &Receipt) {
    let outcome = if r.status == ReceiptStatus::Rejected { AuditOutcome::Denied } else { AuditOutcome::Ok };
    let upload = Event::new(sender.actor(), "upload", outcome)
        .auth(sender.credential().audit_text())
        .origin(sender.origin())
        .object(json!({
            "creditor": sender.creditor().as_str(),
            "file_id": r.file_id,
            "sha256": r.sha256,
            "bytes": r.bytes,
            "period": r.period,
        }));
    let receipt = Event::new("system", "receipt", outcome).object(json!({
        "creditor": sender.creditor().as_str(),
        "file_id": r.file_id,
        "status": r.status.as_str(),
        "records": r.records,
        "errors": r.errors.len() as u64 + r.errors_not_listed,
        "codes": r.errors.iter().map(|e| e.code.as_str()).collect::<std::collections::BTreeSet<_>>(),
    }));
    for ev in [upload, receipt] {
        if let Err(e) = app.audit().emit_blocking(ev) {
            tracing::error!(error = %e, "could not write audit event");
        }
    }
}

fn storage(e: impl Into<StorageError>) -> IntakeError {
    IntakeError::Storage(e.into())
}
