//! Feedback (docs/feedback.md): a municipality's terugmelding file in, a receipt back, and per
//! creditor a terugmelding file with what it may see.
//!
//! [`receive`] takes a whole file (SFTP `/feedback` and `POST /v1/feedback` buffer it; the
//! size is limited by `[feedback] max_file_bytes`): it reads it ([`parse`]), checks every line
//! against the delivered signals ([`check`]), stores the file, its good lines and the names of
//! the terugmelding files they go into in one transaction, then writes those files and the
//! receipt, and marks the file routed. A crash after the transaction is finished at the next
//! start by [`resume`] (the files are rebuilt from the stored lines, so they come out the same).
//! Nothing of a bad line is stored or routed.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::Timestamp;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::domain::party::Receiver;
use crate::domain::period::local_date;
use crate::intake::receipt::ReceiptStatus;
use crate::state::StateError;
use crate::state::exchange::{self, FeedbackFile, FeedbackLine};

pub mod case;
pub mod check;
pub mod parse;
pub mod receipt;
pub mod route;

pub use receipt::FeedbackReceipt;

/// One feedback file at a time (name allocation for terugmelding files).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A complete terugmelding file as it arrived.
#[derive(Clone, Debug)]
pub struct Incoming {
    /// The sending municipality or executor (authenticated).
    pub sender: Receiver,
    /// The name it was sent under (decides CSV or JSON Lines; else the content does).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Key or certificate fingerprint, for the audit.
    pub auth: String,
    /// Peer address, for the audit.
    pub origin: String,
    /// `sftp` or `https`.
    pub protocol: &'static str,
}

/// Why feedback could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// The state database.
    #[error(transparent)]
    State(#[from] StateError),
    /// Writing a file.
    #[error("writing feedback files: {0}")]
    Io(#[from] std::io::Error),
    /// The worker thread.
    #[error("feedback processing failed: {0}")]
    Worker(String),
}

/// Takes one terugmelding file: validates, stores, routes, writes the receipt; returns it.
pub async fn receive(app: &App, incoming: Incoming) -> Result<FeedbackReceipt, FeedbackError> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || process(&app, incoming))
        .await
        .map_err(|e| FeedbackError::Worker(e.to_string()))?
}

/// The blocking work of [`receive`].
pub fn process(app: &App, inc: Incoming) -> Result<FeedbackReceipt, FeedbackError> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let now = Timestamp::now();
    let today = local_date(now);
    // The sender's id: its receipts folder, and what the signals must have reached.
    let municipality = inc.sender.as_str().to_owned();
    let mut lines = receipt::LineCounts::default();
    let (good, mut errors) = match parse::parse(&inc.bytes, parse::format_of(&inc.name, &inc.bytes)) {
        Err(file_error) => (Vec::new(), vec![file_error]),
        Ok(parsed) => {
            let state = app.state();
            let config = app.config();
            let mut lookup = |named: check::Named<'_>| match named {
                check::Named::Id(id) => exchange::delivered(&state.lock(), id).ok().flatten(),
                check::Named::Reference { partner, referentie } => {
                    let creditor = config.creditor_named(partner)?;
                    exchange::delivered_by_reference(
                        &state.lock(),
                        &municipality,
                        creditor.id.as_str(),
                        referentie,
                    )
                    .ok()
                    .flatten()
                }
            };
            let (good, mut errors) = check::check(parsed.lines, &municipality, today, &mut lookup);
            errors.extend(parsed.errors);
            errors.sort_by_key(|e| e.line);
            lines.rejected =
                errors.iter().filter_map(|e| e.line).collect::<std::collections::BTreeSet<_>>().len() as u64;
            (good, errors)
        }
    };
    lines.total = good.len() as u64 + lines.rejected;
    lines.accepted = good.len() as u64;

    // Lines that repeat the result already reported are not routed again.
    let mut routed: BTreeMap<String, Vec<FeedbackLine>> = BTreeMap::new();
    {
        let conn = app.state().lock();
        for g in &good {
            let line = FeedbackLine {
                line: g.line,
                signal_id: g.signal.signal_id.clone(),
                resultaat: g.resultaat.as_str().to_owned(),
                datum: g.datum.to_string(),
                datum_opgepakt: g.datum_opgepakt.map(|d| d.to_string()),
                contactpogingen: (!g.contactpogingen.is_empty())
                    .then(|| serde_json::to_string(&g.contactpogingen).expect("in memory")),
            };
            let previous = exchange::latest_feedback(&conn, &g.signal.signal_id)?;
            if previous.as_ref().is_some_and(|p| p.same_report(&line)) {
                lines.unchanged += 1;
                continue;
            }
            routed.entry(g.signal.creditor.clone()).or_default().push(line);
        }
    }
    let status = if errors.is_empty() {
        ReceiptStatus::Accepted
    } else if lines.accepted > 0 {
        ReceiptStatus::AcceptedWithErrors
    } else {
        ReceiptStatus::Rejected
    };
    let limit = app.config().intake.max_listed_errors;
    let errors_not_listed = errors.len().saturating_sub(limit) as u64;
    errors.truncate(limit);

    let layout = app.layout();
    let mut names = Vec::new();
    {
        let conn = app.state().lock();
        for (creditor, ls) in &routed {
            let dir = layout.feedback(creditor);
            let mut n = 1;
            let name = loop {
                let name = route::file_name(today, n);
                if !exchange::creditor_feedback_taken(&conn, creditor, &name)? && !dir.join(&name).exists() {
                    break name;
                }
                n += 1;
            };
            names.push((creditor.clone(), name, ls.len() as u64));
        }
    }
    let receipt = FeedbackReceipt {
        file_id: ulid::Ulid::new().to_string(),
        file_name: inc.name.clone(),
        municipality: municipality.clone(),
        sha256: hex::encode(Sha256::digest(&inc.bytes)),
        bytes: inc.bytes.len() as u64,
        received_at: now.round(jiff::Unit::Millisecond).unwrap_or(now).to_string(),
        status,
        lines,
        routed_to_creditors: names.len() as u64,
        errors,
        errors_not_listed,
    };
    let file = FeedbackFile {
        file_id: &receipt.file_id,
        municipality: &municipality,
        name: &receipt.file_name,
        sha256: &receipt.sha256,
        bytes: receipt.bytes,
        received_at: &receipt.received_at,
        status: status.as_str(),
        receipt: &serde_json::to_string(&receipt).expect("in memory"),
    };
    let all: Vec<FeedbackLine> = routed.into_values().flatten().collect();
    exchange::record_feedback(&mut app.state().lock(), &file, &all, &names)?;
    let outcome = if status == ReceiptStatus::Rejected { Outcome::Denied } else { Outcome::Ok };
    let ev =
        Event::new(inc.sender.actor(), "feedback", outcome).auth(inc.auth).origin(inc.origin).object(json!({
            "protocol": inc.protocol,
            "file_id": receipt.file_id,
            "sha256": receipt.sha256,
            "bytes": receipt.bytes,
            "status": status.as_str(),
            "lines": receipt.lines,
            "creditors": receipt.routed_to_creditors,
        }));
    emit(app, ev);
    tracing::info!(
        gemeente = %municipality,
        file_id = %receipt.file_id,
        status = status.as_str(),
        accepted = receipt.lines.accepted,
        rejected = receipt.lines.rejected,
        "feedback received"
    );
    // Crash test hook: end the process (as a kill -9 would) between storing and routing.
    if std::env::var_os("MELDPUNT_TEST_ABORT_FEEDBACK_STORED").is_some() {
        std::process::abort();
    }
    route_file(app, &receipt.file_id, &municipality)?;
    Ok(receipt)
}

fn emit(app: &App, ev: Event) {
    if let Err(e) = app.audit().emit_blocking(ev) {
        tracing::error!(error = %e, "could not write audit event");
    }
}

/// Writes the terugmelding files and the receipt of a stored feedback file; marks it routed.
fn route_file(app: &App, file_id: &str, municipality: &str) -> Result<(), FeedbackError> {
    let layout = app.layout();
    let (targets, receipt) = {
        let conn = app.state().lock();
        (exchange::creditor_feedback_of(&conn, file_id)?, exchange::feedback_receipt(&conn, file_id)?)
    };
    for (creditor, name) in targets {
        let lines = exchange::lines_for(&app.state().lock(), file_id, &creditor)?;
        route::write(&layout.feedback(&creditor), &name, &lines)?;
        emit(
            app,
            Event::new("system", "feedback_routed", Outcome::Ok).object(json!({
                "file_id": file_id,
                "creditor": creditor,
                "file": name,
                "lines": lines.len(),
            })),
        );
    }
    if let Some(r) = receipt.and_then(|r| serde_json::from_str::<FeedbackReceipt>(&r).ok()) {
        r.write_to(&layout.receipts(municipality), app.signer())?;
    }
    exchange::mark_routed(&app.state().lock(), file_id)?;
    Ok(())
}

/// Finishes feedback files stored but not routed when the daemon stopped; returns how many.
pub fn resume(app: &App) -> Result<usize, FeedbackError> {
    let pending = exchange::unrouted(&app.state().lock())?;
    for (file_id, municipality) in &pending {
        route_file(app, file_id, municipality)?;
    }
    Ok(pending.len())
}
