//! Delivering a staged batch version: its files renamed into the pickup folders (bundles
//! first, the manifests once those renames are durable), and what feedback routing and the
//! creditors' reports need to know of the delivered signals.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::classify::Household;
use super::{bundle, parallel};
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

/// Moving one run's staged files (durable already) into the pickup folders: each
/// municipality's bundle files as soon as they are durable ([`Pickups::bundles`], from any
/// thread), then, once all those renames are durable, the manifests ([`Pickups::manifests`]).
/// A municipality whose manifest of this version is already there got its complete bundle
/// in an interrupted run and is left as it is.
pub struct Pickups<'a> {
    layout: &'a Layout,
    staging: &'a Path,
    abort_after: Option<usize>,
    moved: AtomicUsize,
}

impl<'a> Pickups<'a> {
    /// Delivery from `staging` to the pickup folders of `municipalities`, which are made
    /// here if they are missing.
    pub fn new<'m>(
        layout: &'a Layout,
        staging: &'a Path,
        municipalities: impl IntoIterator<Item = &'m MunicipalityCode>,
    ) -> io::Result<Pickups<'a>> {
        for code in municipalities {
            fsutil::create_private_dir(&layout.pickup(code.as_str()))?;
        }
        Ok(Pickups { layout, staging, abort_after: abort_hook(), moved: AtomicUsize::new(0) })
    }

    fn rename(&self, name: &str, pickup: &Path) -> io::Result<()> {
        std::fs::rename(self.staging.join(name), pickup.join(name))?;
        let moved = self.moved.fetch_add(1, Ordering::SeqCst) + 1;
        if self.abort_after == Some(moved) {
            std::process::abort();
        }
        Ok(())
    }

    /// Renames the staged bundle files of `code` (all of `names` but the last, its manifest)
    /// into its pickup folder and makes the renames durable.
    pub fn bundles(&self, code: &MunicipalityCode, names: &[String]) -> io::Result<()> {
        let Some((manifest, files)) = names.split_last() else { return Ok(()) };
        if files.is_empty() {
            return Ok(());
        }
        let pickup = self.layout.pickup(code.as_str());
        if pickup.join(manifest).exists() {
            return Ok(());
        }
        for name in files {
            self.rename(name, &pickup)?;
        }
        fsutil::sync_dir(&pickup)
    }

    /// Renames each municipality's staged manifest (the last of its names) into its pickup
    /// folder, unless one is there, and makes the renames durable. Call it only once every
    /// municipality's [`Pickups::bundles`] has returned.
    pub fn manifests(&self, staged: &[(MunicipalityCode, Vec<String>)]) -> io::Result<()> {
        let mut folders = Vec::with_capacity(staged.len());
        for (code, names) in staged {
            let pickup = self.layout.pickup(code.as_str());
            let Some(manifest) = names.last() else { continue };
            if pickup.join(manifest).exists() {
                continue;
            }
            self.rename(manifest, &pickup)?;
            folders.push(pickup);
        }
        // Many at a time: one at a time, each waits out the disk's latency.
        let synced = parallel::map_on(bundle::SYNCS_IN_FLIGHT, &folders, |dir| fsutil::sync_dir(dir));
        synced.into_iter().collect()
    }
}

/// Every delivered signal with its municipality, creditor and referentie (for feedback
/// routing and the creditors' reports), in signal-id order; borrowed, so a national month costs no copies.
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
