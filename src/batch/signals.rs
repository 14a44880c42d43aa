//! Reading a period's signals back out of the vault: every kept file in the order received,
//! a later record with the same `referentie` (same creditor) replacing an earlier one, and an
//! objection (tombstone) withdrawing it.

use std::collections::BTreeMap;
use std::io::BufRead;

use sha2::{Digest, Sha256};

use super::classify::{Earlier, Input};
use crate::domain::household::HouseholdKey;
use crate::domain::party::CreditorId;
use crate::domain::period::Period;
use crate::domain::signal::SignalRecord;
use crate::state::State;
use crate::vault::sealed_line::{SealedLine, is_header};
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
    format!("S-{}", &hex::encode(h.finalize())[..20])
}

/// The signals of `period` as they stand after corrections and objections.
pub fn period_signals(state: &State, vault: &Vault, period: Period) -> Result<Vec<Input>, ReadError> {
    let files = crate::state::batches::kept_files(&state.lock(), &period.to_string())?;
    // (creditor, referentie) → latest signal; BTreeMap keeps the output order deterministic.
    let mut current: BTreeMap<(String, String), Input> = BTreeMap::new();
    for (file_id, creditor) in files {
        let Ok(creditor_id) = CreditorId::parse(&creditor) else { continue };
        for_each_line(vault, period, &file_id, |line| match line {
            SealedLine::Record(n, record) => {
                let key = (creditor.clone(), record.referentie.clone());
                let input =
                    Input { signal_id: signal_id(&file_id, n), creditor: creditor_id.clone(), record };
                current.insert(key, input);
            }
            SealedLine::Withdrawn(_, referentie) => {
                current.remove(&(creditor.clone(), referentie));
            }
        })?;
    }
    Ok(current.into_values().collect())
}

/// What classification needs from the `months` periods before `period`, keeping only entries
/// `relevant` to the period being batched (its households and its creditors' referenties), so
/// memory follows the period, not its history. A period whose key has been shredded has
/// nothing to give. History is read one month at a time.
pub fn history(
    state: &State,
    vault: &Vault,
    period: Period,
    months: u32,
    relevant: &dyn Fn(&HouseholdKey, &CreditorId, &str) -> bool,
) -> Result<Vec<Earlier>, ReadError> {
    let mut out = Vec::new();
    let mut p = period;
    for _ in 0..months {
        p = p.prev();
        let signals = match period_signals(state, vault, p) {
            Ok(s) => s,
            Err(ReadError::Vault(VaultError::Shredded(_))) => continue,
            Err(e) => return Err(e),
        };
        for s in signals {
            let household = HouseholdKey::of(&s.record);
            if relevant(&household, &s.creditor, &s.record.referentie) {
                out.push(Earlier {
                    period: p,
                    household,
                    referentie: s.record.referentie,
                    bedrag: s.record.bedrag,
                    creditor: s.creditor,
                });
            }
        }
    }
    Ok(out)
}

fn for_each_line(
    vault: &Vault,
    period: Period,
    file_id: &str,
    mut f: impl FnMut(SealedLine),
) -> Result<(), ReadError> {
    let reader = vault.open_sealed(period, file_id)?;
    let damaged = |message: String| ReadError::Damaged { period, file_id: file_id.to_owned(), message };
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| damaged(e.to_string()))?;
        if i == 0 && is_header(&line) {
            continue;
        }
        let parsed = SealedLine::decode(i as u64 + 1, &line).map_err(|e| damaged(e.to_string()))?;
        f(parsed);
    }
    Ok(())
}

/// Days in arrears on the signal date (the same count the validator checks).
pub fn days_in_arrears(record: &SignalRecord) -> i64 {
    crate::domain::period::days_between(record.ontstaansdatum, record.signaaldatum)
}
