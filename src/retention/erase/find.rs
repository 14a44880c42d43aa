//! Finding what an erasure removes from the vault: every sealed record about the subject, in
//! every period whose key is still there, and with it every other version of the same signal
//! in that period (the same creditor's `referentie`: a correction or an objection of it) —
//! otherwise removing a later correction would bring an earlier version back.

use std::collections::BTreeSet;

use crate::batch::signals::{ReadError, files_by_creditor, for_each_line, signal_id};
use crate::domain::period::Period;
use crate::retention::inzage::Selector;
use crate::state::State;
use crate::state::erasure::LineToErase;
use crate::vault::Vault;
use crate::vault::sealed_line::SealedLine;

/// What the search found.
#[derive(Debug, Default)]
pub struct Found {
    /// The sealed lines to remove.
    pub lines: Vec<LineToErase>,
    /// Records about the subject (matched by the selector).
    pub records: usize,
    /// Periods they are in.
    pub periods: BTreeSet<Period>,
}

/// Searches `periods` for records about `who`.
pub fn find(state: &State, vault: &Vault, periods: &[Period], who: &Selector) -> Result<Found, ReadError> {
    let mut found = Found::default();
    for &p in periods {
        for (_, files) in files_by_creditor(state, p)? {
            // Pass 1: the subject's own records, and their referenties.
            let mut referenties = BTreeSet::new();
            for file_id in &files {
                for_each_line(vault, p, file_id, |i, text| {
                    if let SealedLine::Record(_, r) = SealedLine::decode(i, text)?
                        && who.matches(&r)
                    {
                        found.records += 1;
                        referenties.insert(r.referentie);
                    }
                    Ok(())
                })?;
            }
            if referenties.is_empty() {
                continue;
            }
            found.periods.insert(p);
            // Pass 2: every line of this creditor carrying one of those referenties.
            for file_id in &files {
                for_each_line(vault, p, file_id, |i, text| {
                    let (line, referentie) = match SealedLine::decode(i, text)? {
                        SealedLine::Record(n, r) => (n, r.referentie),
                        SealedLine::Withdrawn(n, referentie) => (n, referentie),
                    };
                    if referenties.contains(&referentie) {
                        found.lines.push(LineToErase {
                            period: p.to_string(),
                            file_id: file_id.clone(),
                            line,
                            signal_id: signal_id(file_id, line),
                        });
                    }
                    Ok(())
                })?;
            }
        }
    }
    found.lines.sort();
    Ok(found)
}
