//! Reading a period's signals back out of the vault: every kept file in the order received,
//! a later record with the same `referentie` (same creditor) replacing an earlier one, and an
//! objection (tombstone) withdrawing it.

use std::collections::BTreeMap;
use std::io::BufRead;

use sha2::{Digest, Sha256};

use super::classify::Input;
use super::history::{add_to, keep};
use super::parallel;
use crate::domain::household::HouseholdKey;
use crate::domain::party::CreditorId;
use crate::domain::period::Period;
use crate::domain::signal::SignalRecord;
use crate::state::State;
use crate::vault::key_index::{IndexBuilder, KeyLine};
use crate::vault::sealed_line::{SealedLine, SealedLineError, is_header};
use crate::vault::{Vault, VaultError};

/// Why a period could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The state database.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A sealed file could not be opened.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A sealed file is damaged.
    #[error("sealed file {file_id} of {period}: {message}")]
    Damaged {
        /// The period.
        period: Period,
        /// The file.
        file_id: String,
        /// What is wrong.
        message: String,
    },
}

/// The opaque id of a signal: derived from the file id and line only (never from personal
/// data), so a re-run gives the same id and feedback can refer to it.
pub fn signal_id(file_id: &str, line: u64) -> String {
    let mut h = Sha256::new();
    h.update(b"meldpunt-signal\0");
    h.update(file_id.as_bytes());
    h.update(b"\0");
    h.update(line.to_be_bytes());
    let digest = h.finalize();
    let mut id = String::with_capacity(22);
    id.push_str("S-");
    id.push_str(&hex::encode(&digest[..10]));
    id
}

/// The signals of `period` as they stand after corrections and objections, ordered by
/// (creditor, referentie). Corrections only replace a creditor's own records, so each
/// creditor's files are read in the order received, and creditors side by side.
///
/// With `keep_index`, a file without a key index gets one (see [`crate::vault::key_index`]):
/// the batches of the following months read this period as history through it.
pub fn period_signals(
    state: &State,
    vault: &Vault,
    period: Period,
    keep_index: bool,
) -> Result<Vec<Input>, ReadError> {
    let creditors = files_by_creditor(state, period)?;
    let read = parallel::map(&creditors, |(creditor, files)| {
        // referentie → latest signal; sorted by referentie at the end (deterministic output).
        let mut current: foldhash::HashMap<String, Input> = foldhash::HashMap::default();
        let mut household = String::new();
        for file_id in files {
            let mut index =
                (keep_index && !vault.index_path(period, file_id).exists()).then(IndexBuilder::new);
            for_each_line(vault, period, file_id, |n, line| {
                match SealedLine::decode(n, line)? {
                    SealedLine::Record(n, record) => {
                        if index.is_some() {
                            HouseholdKey::record_text_into(&mut household, &record);
                            let key = KeyLine::Record {
                                referentie: &record.referentie,
                                household: &household,
                                bedrag: record.bedrag,
                            };
                            add_to(&mut index, key);
                        }
                        let input = Input {
                            signal_id: signal_id(file_id, n),
                            creditor: creditor.clone(),
                            record: Box::new(record),
                        };
                        current.insert(input.record.referentie.clone(), input);
                    }
                    SealedLine::Withdrawn(_, referentie) => {
                        add_to(&mut index, KeyLine::Withdrawn(&referentie));
                        current.remove(&referentie);
                    }
                }
                Ok(())
            })?;
            if let Some(index) = index {
                keep(vault, period, file_id, index);
            }
        }
        let mut signals: Vec<Input> = current.into_values().collect();
        signals.sort_unstable_by(|a, b| a.record.referentie.cmp(&b.record.referentie));
        Ok::<_, ReadError>(signals)
    });
    let mut out = Vec::with_capacity(read.iter().map(|r| r.as_ref().map_or(0, Vec::len)).sum());
    for signals in read {
        out.extend(signals?);
    }
    Ok(out)
}

/// The kept files of `period` per creditor (ordered by creditor id), each creditor's in the
/// order received. Files of a creditor id that does not parse are left out.
pub fn files_by_creditor(state: &State, period: Period) -> Result<Vec<(CreditorId, Vec<String>)>, ReadError> {
    let files = crate::state::batches::kept_files(&state.lock(), &period.to_string())?;
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file_id, creditor) in files {
        by.entry(creditor).or_default().push(file_id);
    }
    Ok(by.into_iter().filter_map(|(c, files)| Some((CreditorId::parse(&c).ok()?, files))).collect())
}

/// Calls `f` with (1-based line index, text without the newline) for each line of a sealed
/// file after its header. Lines are handed out where they lie in the reader's buffer (copied
/// only when one spans two reads), and not checked for UTF-8 here: the decoders do that for
/// the fields they use.
pub fn for_each_line(
    vault: &Vault,
    period: Period,
    file_id: &str,
    mut f: impl FnMut(u64, &[u8]) -> Result<(), SealedLineError>,
) -> Result<(), ReadError> {
    let mut reader = vault.open_sealed(period, file_id)?;
    let damaged = |message: String| ReadError::Damaged { period, file_id: file_id.to_owned(), message };
    let mut i = 0u64;
    let mut line = |text: &[u8]| {
        i += 1;
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if i == 1 && is_header(text) {
            return Ok(());
        }
        f(i, text).map_err(|e| damaged(e.to_string()))
    };
    // A line begun in an earlier read.
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let buf = reader.fill_buf().map_err(|e| damaged(e.to_string()))?;
        if buf.is_empty() {
            break;
        }
        let mut rest = buf;
        while let Some(n) = memchr::memchr(b'\n', rest) {
            if carry.is_empty() {
                line(&rest[..n])?;
            } else {
                carry.extend_from_slice(&rest[..n]);
                line(&carry)?;
                carry.clear();
            }
            rest = &rest[n + 1..];
        }
        carry.extend_from_slice(rest);
        let used = buf.len();
        reader.consume(used);
    }
    if !carry.is_empty() {
        line(&carry)?;
    }
    Ok(())
}

/// Days in arrears on the signal date (the same count the validator checks).
pub fn days_in_arrears(record: &SignalRecord) -> i64 {
    crate::domain::period::days_between(record.ontstaansdatum, record.signaaldatum)
}
