//! Delivering a staged batch version: its files renamed into the pickup folders (bundles
//! first, the manifests once those renames are durable), and what feedback routing and the
//! creditors' reports need to know of the delivered signals.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use super::bundle;
use super::classify::Household;
use super::report::Entry;
use crate::config::Municipality;
use crate::domain::party::MunicipalityCode;
use crate::layout::Layout;
use crate::state::exchange::Delivery;
use crate::vault::fsutil;

/// Each municipality of the run with the households it was routed.
pub type HouseholdsOf<'a> = [(&'a Municipality, Vec<Household>)];

/// Whether municipality `m` leaves household `h` out (its total is under the threshold and
/// it asked not to receive such households).
pub fn left_out(m: &Municipality, h: &Household) -> bool {
    m.leave_out_onder_drempel && m.drempelbedrag.is_some_and(|d| h.total < d)
}

/// Crash test hook: `MELDPUNT_TEST_ABORT_BATCH_AFTER=n` aborts the process (as a kill -9
/// would end it) right after the n-th file is renamed into a pickup folder. Read once per
/// run; unset in normal use.
fn abort_hook() -> Option<usize> {
    std::env::var("MELDPUNT_TEST_ABORT_BATCH_AFTER").ok()?.parse().ok()
}

/// Renames the staged files (durable already) of each municipality into its pickup folder:
/// every municipality's bundle files, then, once those renames are durable, the manifests
/// (always the last name of each list). A municipality whose manifest of this version is
/// already there got its complete bundle in an interrupted run and is left as it is.
pub fn into_pickups(
    layout: &Layout,
    staging: &Path,
    staged: &[(MunicipalityCode, Vec<String>)],
) -> io::Result<()> {
    let abort_after = abort_hook();
    let mut moved = 0usize;
    let mut rename = |from: &Path, to: &Path| -> io::Result<()> {
        std::fs::rename(from, to)?;
        moved += 1;
        if abort_after == Some(moved) {
            std::process::abort();
        }
        Ok(())
    };
    let mut todo = Vec::with_capacity(staged.len());
    for (code, names) in staged {
        let pickup = layout.pickup(code.as_str());
        fsutil::create_private_dir(&pickup)?;
        let Some((manifest, files)) = names.split_last() else { continue };
        if pickup.join(manifest).exists() {
            continue;
        }
        for name in files {
            rename(&staging.join(name), &pickup.join(name))?;
        }
        todo.push((pickup, manifest));
    }
    let folders: Vec<_> = todo.iter().map(|(pickup, _)| pickup.clone()).collect();
    bundle::sync_files(&folders)?;
    for (pickup, manifest) in &todo {
        rename(&staging.join(manifest), &pickup.join(manifest))?;
    }
    bundle::sync_files(&folders)
}

/// Every delivered signal with its municipality, creditor and referentie (for feedback
/// routing), in signal-id order; borrowed, so a national month costs no copies.
pub fn delivered_signals<'h>(households_of: &'h HouseholdsOf<'_>) -> Vec<Delivery<'h>> {
    let mut out = Vec::new();
    for (m, households) in households_of {
        for h in households.iter().filter(|h| !left_out(m, h)) {
            for sig in &h.signals {
                out.push(Delivery {
                    signal_id: &sig.input.signal_id,
                    municipality: m.code.as_str(),
                    creditor: sig.input.creditor.as_str(),
                    referentie: &sig.input.record.referentie,
                });
            }
        }
    }
    // In key order: SQLite then walks its primary-key index once instead of reading a page
    // per signal (random ids into a table larger than its page cache).
    out.sort_unstable_by(|a, b| a.signal_id.cmp(b.signal_id));
    out
}

/// The report entries of the delivered signals, per creditor.
pub fn delivered_entries<'h>(households_of: &'h HouseholdsOf<'_>) -> HashMap<&'h str, Vec<Entry<'h>>> {
    let mut by: HashMap<&str, Vec<Entry<'h>>> = HashMap::new();
    for (m, households) in households_of {
        for h in households.iter().filter(|h| !left_out(m, h)) {
            for sig in &h.signals {
                let input = &sig.input;
                by.entry(input.creditor.as_str()).or_default().push(Entry::delivered(
                    &input.record.referentie,
                    &input.signal_id,
                    m.code.as_str(),
                ));
            }
        }
    }
    by
}
