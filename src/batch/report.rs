//! The creditor's batch report (`/receipts/batch_<period>.json`): per `referentie`, whether
//! the signal was delivered, to which municipality, and if not, why.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::domain::party::MunicipalityCode;
use crate::domain::period::Period;
use crate::durable;
use crate::layout::Layout;
use crate::signature::Signer;
use crate::state::exchange::Delivery;

mod pretty;

/// Why a signal was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotDelivered {
    /// No routing table entry for its postcode (and house number).
    Unroutable,
    /// Routed to a municipality meldpunt does not serve.
    MunicipalityNotConfigured,
    /// The creditor has no agreement with the municipality.
    NoAgreement,
    /// The household's total is below the municipality's threshold and it asked to leave such
    /// households out.
    BelowThreshold,
    /// A work-queue rule of the municipality leaves signals like this one out.
    LeftOut,
}

impl NotDelivered {
    /// Every reason.
    pub const ALL: [NotDelivered; 5] = [
        NotDelivered::Unroutable,
        NotDelivered::MunicipalityNotConfigured,
        NotDelivered::NoAgreement,
        NotDelivered::BelowThreshold,
        NotDelivered::LeftOut,
    ];

    /// The reason as the report shows it (`unroutable`, `no_agreement`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            NotDelivered::Unroutable => "unroutable",
            NotDelivered::MunicipalityNotConfigured => "municipality_not_configured",
            NotDelivered::NoAgreement => "no_agreement",
            NotDelivered::BelowThreshold => "below_threshold",
            NotDelivered::LeftOut => "left_out",
        }
    }

    /// What the creditor can do about it.
    pub fn explain(self) -> &'static str {
        match self {
            NotDelivered::Unroutable => {
                "the postcode (and house number) is not in the routing table; check the address"
            }
            NotDelivered::MunicipalityNotConfigured => {
                "the address lies in a municipality that does not receive signals through this meldpunt"
            }
            NotDelivered::NoAgreement => {
                "there is no signed agreement with this municipality; ask the operator to register it"
            }
            NotDelivered::BelowThreshold => {
                "the household's total arrears are below the municipality's threshold (drempelbedrag), and it does not take those"
            }
            NotDelivered::LeftOut => {
                "the municipality has chosen not to receive signals like this one (by its own criteria); nothing to do"
            }
        }
    }
}

/// One line of a report (its texts borrowed from the batch's households where it can).
#[derive(Clone, Debug, Serialize)]
pub struct Entry<'a> {
    /// The creditor's reference.
    pub referentie: Cow<'a, str>,
    /// The signal id (what feedback will refer to).
    pub signaal_id: Cow<'a, str>,
    /// Delivered or not.
    pub delivered: bool,
    /// The municipality it went (or would go) to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "gemeente")]
    pub municipality: Option<Cow<'a, str>>,
    /// The day it was delivered (Europe/Amsterdam, `YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_on: Option<Cow<'a, str>>,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<NotDelivered>,
    /// What to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

impl Entry<'static> {
    /// The entry of a signal that is not delivered, with the municipality it was routed to.
    pub fn not_delivered(
        referentie: &str,
        signaal_id: &str,
        municipality: Option<&MunicipalityCode>,
        reason: NotDelivered,
    ) -> Entry<'static> {
        Entry {
            referentie: Cow::Owned(referentie.to_owned()),
            signaal_id: Cow::Owned(signaal_id.to_owned()),
            delivered: false,
            municipality: municipality.map(|g| Cow::Owned(g.to_string())),
            delivered_on: None,
            reason: Some(reason),
            message: Some(reason.explain()),
        }
    }
}

impl<'a> Entry<'a> {
    /// The entry of a signal delivered to `municipality` on `on` (`YYYY-MM-DD`).
    pub fn delivered(
        referentie: &'a str,
        signaal_id: &'a str,
        municipality: &'a str,
        on: &'a str,
    ) -> Entry<'a> {
        Entry {
            referentie: Cow::Borrowed(referentie),
            signaal_id: Cow::Borrowed(signaal_id),
            delivered: true,
            municipality: Some(Cow::Borrowed(municipality)),
            delivered_on: Some(Cow::Borrowed(on)),
            reason: None,
            message: None,
        }
    }
}

/// The reports of one batch, per creditor: the signals not delivered are kept as they come;
/// the delivered ones are added from the delivered list when the reports are written.
#[derive(Default)]
pub struct Reports {
    by_creditor: BTreeMap<String, Vec<Entry<'static>>>,
}

impl Reports {
    /// Adds an entry for `creditor`.
    pub fn add(&mut self, creditor: &str, entry: Entry<'static>) {
        self.creditor(creditor).push(entry);
    }

    /// Makes sure `creditor` gets a report (it had signals in the period); its entries.
    pub fn creditor(&mut self, creditor: &str) -> &mut Vec<Entry<'static>> {
        if !self.by_creditor.contains_key(creditor) {
            self.by_creditor.insert(creditor.to_owned(), Vec::new());
        }
        self.by_creditor.get_mut(creditor).expect("inserted above")
    }

    /// Signals not delivered, in all.
    pub fn not_delivered(&self) -> usize {
        self.by_creditor.values().flatten().filter(|e| !e.delivered).count()
    }

    /// Signals not delivered per reason (`unroutable`, `left_out`, …), every reason listed.
    pub fn not_delivered_by_reason(&self) -> BTreeMap<&'static str, usize> {
        let mut by: BTreeMap<&'static str, usize> =
            NotDelivered::ALL.iter().map(|r| (r.as_str(), 0)).collect();
        for reason in self.by_creditor.values().flatten().filter_map(|e| e.reason) {
            *by.entry(reason.as_str()).or_default() += 1;
        }
        by
    }

    /// Writes each creditor's report, its entries completed with its signals in `delivered`
    /// (delivered on the day `on`), into `dir` (streamed, durable, not yet visible to anyone):
    /// built while the bundles are staged, published into the receipts folders after delivery
    /// ([`StagedReports::publish`]).
    pub fn stage(
        self,
        dir: &Path,
        period: Period,
        version: u32,
        delivered: &[Delivery<'_>],
        on: jiff::civil::Date,
    ) -> io::Result<StagedReports> {
        let on = on.to_string();
        durable::create_private_dir(dir)?;
        // The delivered signals by creditor and referentie: each creditor's are then one run,
        // in the order its report lists them.
        let mut order: Vec<u32> = (0..delivered.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            let (a, b) = (&delivered[a as usize], &delivered[b as usize]);
            (a.creditor, a.referentie).cmp(&(b.creditor, b.referentie))
        });
        let mut runs =
            order.chunk_by(|&a, &b| delivered[a as usize].creditor == delivered[b as usize].creditor);
        let mut run = runs.next();
        let period_text = period.to_string();
        let mut creditors = Vec::with_capacity(self.by_creditor.len());
        for (creditor, kept) in self.by_creditor {
            let mut entries: Vec<Entry<'_>> = kept;
            // Creditors are in the same order on both sides; one without delivered signals has
            // no run.
            while run.is_some_and(|r| delivered[r[0] as usize].creditor < creditor.as_str()) {
                run = runs.next();
            }
            if let Some(r) = run.filter(|r| delivered[r[0] as usize].creditor == creditor.as_str()) {
                entries.extend(r.iter().map(|&i| {
                    let d = &delivered[i as usize];
                    Entry::delivered(d.referentie, d.signal_id, d.municipality, &on)
                }));
                run = runs.next();
            }
            // A referentie is reported once per creditor (the latest signal of it counts), so
            // this order is total.
            entries.sort_by(|a, b| a.referentie.cmp(&b.referentie));
            let delivered = entries.iter().filter(|e| e.delivered).count();
            let head = pretty::Head {
                period: &period_text,
                version,
                delivered,
                not_delivered: entries.len() - delivered,
            };
            let mut file = File::options()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o640)
                .open(dir.join(format!("{creditor}.json")))?;
            pretty::write(&mut file, &head, &entries)?;
            // Durable on its own: the bundles' sync may have run before this was written.
            file.sync_all()?;
            creditors.push(creditor);
        }
        Ok(StagedReports { dir: dir.to_owned(), name: file_name(period, version), creditors })
    }
}

/// How many folder fsyncs publishing keeps in flight: one at a time, each waits out the disk's
/// latency.
const SYNCS_IN_FLIGHT: usize = 16;

/// The reports of one batch, written and durable in a staging folder.
pub struct StagedReports {
    dir: PathBuf,
    name: String,
    creditors: Vec<String>,
}

impl StagedReports {
    /// Moves each creditor's report into its receipts folder, its signature
    /// (`<report>.sig`, docs/receipt.md) written there first (durably; all creditors at once,
    /// since each waits for its folder's fsync); how many.
    pub fn publish(&self, layout: &Layout, signer: &Signer) -> io::Result<usize> {
        let published = super::parallel::map_on(SYNCS_IN_FLIGHT, &self.creditors, |creditor| {
            let receipts = layout.receipts(creditor);
            durable::create_private_dir(&receipts)?;
            let staged = self.dir.join(format!("{creditor}.json"));
            let report = receipts.join(&self.name);
            signer.sign_file(&staged, &crate::signature::sig_path(&report))?;
            std::fs::rename(staged, report)?;
            durable::sync_dir(&receipts)
        });
        published.into_iter().collect::<io::Result<()>>()?;
        Ok(self.creditors.len())
    }
}

/// The name of a creditor's report of `version` of `period`'s batch: `batch_<period>.json`
/// for version 1, `batch_<period>_v<n>.json` after it.
pub fn file_name(period: Period, version: u32) -> String {
    if version == 1 { format!("batch_{period}.json") } else { format!("batch_{period}_v{version}.json") }
}

/// The period and version of a report name (the inverse of [`file_name`]).
pub fn parse_name(name: &str) -> Option<(Period, u32)> {
    let rest = name.strip_prefix("batch_")?.strip_suffix(".json")?;
    let (period, version) = match rest.split_once("_v") {
        Some((p, v)) => (p, v.parse().ok().filter(|v| *v >= 2)?),
        None => (rest, 1),
    };
    Some((period.parse().ok()?, version))
}

/// A report as read back (for an erasure), in the order it was written.
#[derive(serde::Deserialize, Serialize)]
struct StoredDoc {
    period: String,
    version: u32,
    delivered: usize,
    not_delivered: usize,
    signals: Vec<StoredEntry>,
}

/// An entry as read back.
#[derive(serde::Deserialize, Serialize)]
struct StoredEntry {
    referentie: String,
    signaal_id: String,
    delivered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(rename = "gemeente")]
    municipality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Rewrites the report at `path` (atomically) without the signals `gone` says are gone;
/// returns how many entries it removed (0: the file is left as it is).
pub fn remove_signals(path: &std::path::Path, gone: impl Fn(&str) -> bool) -> io::Result<usize> {
    let text = std::fs::read(path)?;
    let mut doc: StoredDoc = serde_json::from_slice(&text).map_err(io::Error::other)?;
    let before = doc.signals.len();
    doc.signals.retain(|e| !gone(&e.signaal_id));
    let removed = before - doc.signals.len();
    if removed > 0 {
        doc.delivered = doc.signals.iter().filter(|e| e.delivered).count();
        doc.not_delivered = doc.signals.len() - doc.delivered;
        let mut text = serde_json::to_vec_pretty(&doc).expect("in memory");
        text.push(b'\n');
        durable::write_atomic(path, &text, false)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_signals_keeps_the_rest_and_the_layout() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let (signer, _) = Signer::open(&layout).unwrap();
        let mut r = Reports::default();
        r.add("C1", Entry::not_delivered("R-2", "S-2", None, NotDelivered::Unroutable));
        let delivered = |referentie: &'static str, signal_id: &'static str| Delivery {
            signal_id,
            municipality: "GM0363",
            creditor: "C1",
            referentie,
        };
        r.stage(
            &dir.path().join("staging"),
            "2026-10".parse().unwrap(),
            1,
            &[delivered("R-3", "S-3"), delivered("R-1", "S-1")],
            jiff::civil::Date::constant(2026, 10, 26),
        )
        .unwrap()
        .publish(&layout, &signer)
        .unwrap();
        let path = layout.receipts("C1").join("batch_2026-10.json");
        let mut expected = Reports::default();
        expected.add("C1", Entry::not_delivered("R-2", "S-2", None, NotDelivered::Unroutable));
        let other = tempfile::tempdir().unwrap();
        let other_layout = Layout::new(other.path());
        expected
            .stage(
                &other.path().join("staging"),
                "2026-10".parse().unwrap(),
                1,
                &[delivered("R-3", "S-3")],
                jiff::civil::Date::constant(2026, 10, 26),
            )
            .unwrap()
            .publish(&other_layout, &signer)
            .unwrap();
        assert_eq!(remove_signals(&path, |id| id == "S-1").unwrap(), 1);
        // Byte for byte what a run without that signal would have written.
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            std::fs::read_to_string(other_layout.receipts("C1").join("batch_2026-10.json")).unwrap()
        );
        assert_eq!(remove_signals(&path, |id| id == "S-1").unwrap(), 0, "a second run finds nothing");
    }
}
