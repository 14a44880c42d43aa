//! Delivering a staged batch version: its files renamed into the pickup folders (bundles
//! first, once they are durable; the manifests once those renames are durable), and what
//! feedback routing and the creditors' reports need to know of the delivered signals.

use std::cell::Cell;
use std::io;
use std::path::{Path, PathBuf};

use super::classify::{Classified, Household};
use super::sort::{Place, Sorter};
use crate::config::Municipality;
use crate::durable;
use crate::layout::Layout;
use crate::state::exchange::Delivery;

/// Each municipality of the run with the households it was routed.
pub type HouseholdsOf<'a> = [(&'a Municipality, Vec<Household>)];

/// Crash test hook: `MELDPUNT_TEST_ABORT_BATCH_AFTER=n` aborts the process (as a kill -9
/// would end it) right after the n-th file is renamed into a pickup folder. Read once per
/// run; unset in normal use.
fn abort_hook() -> Option<usize> {
    std::env::var("MELDPUNT_TEST_ABORT_BATCH_AFTER").ok()?.parse().ok()
}

/// Moving one run's staged files into the pickup folders, made durable all at once
/// ([`durable::Filesystem`]: the staging and pickup folders share a filesystem, as renames
/// between them need): the staged files, then every bundle file renamed into place, then the
/// manifests. A municipality whose manifest of this version is already there got its complete
/// bundle in an interrupted run and is left as it is.
pub struct Pickups<'a> {
    layout: &'a Layout,
    staging: &'a Path,
    filesystem: durable::Filesystem,
    abort_after: Option<usize>,
    moved: Cell<usize>,
}

impl<'a> Pickups<'a> {
    /// Delivery from `staging` to the pickup folders of `folders` (municipality codes and
    /// executor ids), which are made here if they are missing. Made before the files are staged, so that a failed write-back
    /// of any of them is reported.
    pub fn new<'m>(
        layout: &'a Layout,
        staging: &'a Path,
        folders: impl IntoIterator<Item = &'m str>,
    ) -> io::Result<Pickups<'a>> {
        for id in folders {
            durable::create_private_dir(&layout.pickup(id))?;
        }
        let filesystem = durable::Filesystem::of(staging)?;
        Ok(Pickups { layout, staging, filesystem, abort_after: abort_hook(), moved: Cell::new(0) })
    }

    fn rename(&self, name: &str, pickup: &Path) -> io::Result<()> {
        std::fs::rename(self.staging.join(name), pickup.join(name))?;
        self.moved.set(self.moved.get() + 1);
        if self.abort_after == Some(self.moved.get()) {
            std::process::abort();
        }
        Ok(())
    }

    /// The first step of delivering the staged files of each pickup folder (its id, its file
    /// names, the manifest last): makes all of them durable, renames the bundle files into the pickup
    /// folders and makes that durable. What is left are the manifests, which make the
    /// delivery count: [`Pickups::deliver_manifests`], once the run is recorded.
    pub fn deliver_bundles(&self, staged: Vec<(String, Vec<String>)>) -> io::Result<Manifests> {
        self.filesystem.sync()?;
        // Those whose manifest is not there yet.
        let mut open = Vec::with_capacity(staged.len());
        for (code, mut names) in staged {
            let Some(manifest) = names.pop() else { continue };
            let pickup = self.layout.pickup(&code);
            if !pickup.join(&manifest).exists() {
                for name in &names {
                    self.rename(name, &pickup)?;
                }
                open.push((pickup, manifest));
            }
        }
        self.filesystem.sync()?;
        Ok(Manifests(open))
    }

    /// The last step: renames the manifests of [`Pickups::deliver_bundles`] into place and
    /// makes that durable.
    pub fn deliver_manifests(&self, manifests: Manifests) -> io::Result<()> {
        for (pickup, manifest) in &manifests.0 {
            self.rename(manifest, pickup)?;
        }
        self.filesystem.sync()
    }
}

/// The manifests of a run whose bundle files are in place (and durable), still to be renamed
/// in: (pickup folder, file name).
#[must_use = "a delivery counts only once its manifests are in place"]
pub struct Manifests(Vec<(PathBuf, String)>);

/// Every delivered signal with its municipality, creditor and referentie (for feedback
/// routing and the creditors' reports), in signal-id order; borrowed, so a national month costs no copies.
pub fn delivered_signals<'h>(
    households_of: &'h HouseholdsOf<'_>,
    sorter: impl Fn(&'h Municipality) -> Sorter<'h>,
) -> Vec<Delivery<'h>> {
    let mut out: Vec<Delivery<'h>> = placed(households_of, sorter)
        .map(|(m, sig, _)| Delivery {
            signal_id: &sig.input.signal_id,
            municipality: m.code.as_str(),
            creditor: sig.input.creditor.as_str(),
            referentie: &sig.input.record.referentie,
        })
        .collect();
    // In key order: SQLite then walks its primary-key index once instead of reading a page
    // per signal (random ids into a table larger than its page cache).
    out.sort_unstable_by(|a, b| a.signal_id.cmp(b.signal_id));
    out
}

/// Every signal the run delivers, with its municipality and work queue, in household order.
pub fn placed<'h>(
    households_of: &'h HouseholdsOf<'_>,
    sorter: impl Fn(&'h Municipality) -> Sorter<'h>,
) -> impl Iterator<Item = (&'h Municipality, &'h Classified, Option<&'h str>)> {
    households_of.iter().flat_map(move |(m, households)| {
        let sorter = sorter(m);
        households.iter().flat_map(move |h| {
            h.signals.iter().filter_map(move |sig| match sorter.place(h, sig) {
                Place::Deliver(werkbak) => Some((*m, sig, werkbak)),
                Place::LeftOut(_) => None,
            })
        })
    })
}
