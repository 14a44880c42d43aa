//! Bundles for one municipality and period (docs/bundles.md): the CSV and JSON files encrypted with age
//! to the municipality's recipients, and a plaintext manifest without personal data.
//!
//! Files are written into a staging folder first (complete; made durable, all at once, before
//! delivery); `deliver` then renames them into the pickup folder, bundles first and the
//! manifest last: a manifest in the pickup folder means its bundle files are complete.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::classify::{Classified, Household};
use crate::config::{BundleFormat, Creditor, Executor, Municipality};
use crate::domain::party::{ExecutorId, MunicipalityCode};
use crate::domain::period::Period;
use crate::domain::signal::{Cents, Kind};

pub(crate) mod compact;
pub mod csv;
pub mod json;
mod per_creditor;

/// One signal as delivered, with what the row needs around it.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    /// Its household.
    pub household: &'a Household,
    /// The signal.
    pub signal: &'a Classified,
    /// Whether the household total is below the municipality's threshold.
    pub onder_drempel: bool,
    /// The creditor (name and contact are delivered).
    pub creditor: &'a Creditor,
    /// Respond-by date.
    pub reageer_voor: jiff::civil::Date,
    /// The period.
    pub period: Period,
    /// The municipality.
    pub municipality: &'a MunicipalityCode,
    /// The work queue its municipality's rules put it in, if any.
    pub werkbak: Option<&'a str>,
    /// Its person is on the municipality's known-client list (docs/known-clients.md).
    pub bekend: bool,
}

/// An amount shown as `1234,56` (Dutch decimal comma, as spreadsheets here expect).
pub struct Euros(pub Cents);

impl fmt::Display for Euros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{:02}", self.0.0 / 100, self.0.0 % 100)
    }
}

/// `ja` / `nee`.
pub fn yes_no(b: bool) -> &'static str {
    if b { "ja" } else { "nee" }
}

/// One written bundle file, as the manifest lists it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FileEntry {
    /// File name in the pickup folder.
    pub name: String,
    /// Size of the encrypted file.
    pub bytes: u64,
    /// SHA-256 of the encrypted file.
    pub sha256: String,
    /// Size of the plaintext.
    pub plaintext_bytes: u64,
    /// SHA-256 of the plaintext.
    pub plaintext_sha256: String,
}

/// Counts for the manifest and the summary table (no personal data).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Households.
    pub households: u64,
    /// Signals.
    pub signals: u64,
    /// Households that are enkelvoudig.
    pub enkelvoudig: u64,
    /// Households that are meervoudig.
    pub meervoudig: u64,
    /// Households that are opeenvolgend.
    pub opeenvolgend: u64,
    /// Signals that are herhaald.
    pub herhaald: u64,
    /// Households under the threshold.
    pub onder_drempel: u64,
    /// Signals with crisissignaal.
    pub crisissignaal: u64,
    /// Signals per kind.
    pub per_soort: BTreeMap<String, u64>,
    /// Signals per work queue (signals no rule sorted are not counted here).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub per_werkbak: BTreeMap<String, u64>,
}

impl Counts {
    /// Counts of these rows.
    pub fn of(rows: &[Row<'_>]) -> Counts {
        let mut c = Counts::default();
        let mut per_kind = [0u64; Kind::ALL.len()];
        let mut last: Option<*const Household> = None;
        for r in rows {
            if last != Some(r.household as *const _) {
                last = Some(r.household as *const _);
                c.households += 1;
                c.enkelvoudig += u64::from(r.household.enkelvoudig());
                c.meervoudig += u64::from(r.household.meervoudig);
                c.opeenvolgend += u64::from(r.household.opeenvolgend);
                c.onder_drempel += u64::from(r.onder_drempel);
            }
            c.signals += 1;
            c.herhaald += u64::from(r.signal.herhaald);
            c.crisissignaal += u64::from(r.signal.input.record.crisissignaal);
            if let Some(q) = r.werkbak {
                *c.per_werkbak.entry(q.to_owned()).or_default() += 1;
            }
            let kind = r.signal.input.record.soort;
            per_kind[Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0)] += 1;
        }
        for (kind, n) in Kind::ALL.into_iter().zip(per_kind).filter(|(_, n)| *n > 0) {
            c.per_soort.insert(kind.as_str().to_owned(), n);
        }
        c
    }
}

/// The version of a municipality's bundle being staged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    /// Its number.
    pub number: u32,
    /// The earlier version of the same municipality it replaces, if any.
    pub supersedes: Option<u32>,
}

/// The plaintext manifest.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// The period.
    pub period: String,
    /// The municipality.
    pub municipality: String,
    /// The executor (uitvoerder) this bundle is for, when it is not the municipality's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executor: Option<String>,
    /// In the municipality's own manifest: how many of its signals its executor received this
    /// version (in the executor's bundle; with `beide` also in this one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_executor: Option<ToExecutor>,
    /// Bundle version (`v1`, then `v2` after a forced re-run).
    pub version: u32,
    /// The earlier version of this municipality's bundle that this one replaces (a re-run or
    /// an erasure's re-issue); absent for the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<u32>,
    /// When it was made.
    pub created_at: String,
    /// Respond-by date of the signals.
    pub reageer_voor: String,
    /// Counts.
    pub counts: Counts,
    /// The bundle files.
    pub files: Vec<FileEntry>,
}

/// What a municipality's executor received of its signals (counts only).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ToExecutor {
    /// The executor's id.
    pub executor: String,
    /// Signals in the executor's bundle of this municipality.
    pub signals: u64,
}

/// Whose bundle is staged: a municipality's own, or the one an executor receives for a
/// municipality it serves (docs/bundles.md).
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The municipality whose signals it holds.
    pub municipality: &'a MunicipalityCode,
    /// The executor that receives it; `None` for the municipality's own bundle.
    pub executor: Option<&'a ExecutorId>,
    /// The bundle files it gets (the municipality's `formats`).
    pub formats: &'a [BundleFormat],
    /// The age recipients the files are encrypted to (only the receiver's own).
    pub recipients: &'a [String],
    /// For the municipality's own bundle: what its executor received, for the manifest.
    pub to_executor: Option<(&'a ExecutorId, u64)>,
}

impl<'a> Target<'a> {
    /// The municipality's own bundle.
    pub fn municipality(m: &'a Municipality) -> Target<'a> {
        Target {
            municipality: &m.code,
            executor: None,
            formats: &m.formats,
            recipients: &m.age_recipients,
            to_executor: None,
        }
    }

    /// The bundle executor `e` receives for `m`.
    pub fn executor(m: &'a Municipality, e: &'a Executor) -> Target<'a> {
        Target {
            municipality: &m.code,
            executor: Some(&e.id),
            formats: &m.formats,
            recipients: &e.age_recipients,
            to_executor: None,
        }
    }

    /// The id of the pickup folder it goes into: the municipality's code or the executor's id.
    pub fn folder(&self) -> &'a str {
        self.executor.map_or(self.municipality.as_str(), ExecutorId::as_str)
    }

    /// The base name of its files for a period and version: `<GM>_<period>_v<n>`, and for an
    /// executor `<GM>_<period>_v<n>_<executor>`, so the executor's case system tells the
    /// municipalities apart and nobody mistakes it for the municipality's own bundle.
    pub fn base_name(&self, period: Period, version: u32) -> String {
        let own = base_name(self.municipality, period, version);
        match self.executor {
            None => own,
            Some(e) => format!("{own}_{e}"),
        }
    }
}

/// The base name of a municipality's bundle files for a period and version.
pub fn base_name(m: &MunicipalityCode, period: Period, version: u32) -> String {
    format!("{m}_{period}_v{version}")
}

/// What [`stage`] wrote for one municipality.
pub struct Staged {
    /// The file names, the manifest last.
    pub names: Vec<String>,
    /// The manifest.
    pub manifest: Manifest,
}

/// Writes the bundle files and the manifest of `target` into `staging` (nothing is delivered
/// yet, nor durable: [`crate::batch::publish::Pickups::deliver_bundles`] makes all of a run's
/// files durable at once).
pub fn stage(
    staging: &Path,
    target: Target<'_>,
    period: Period,
    version: Version,
    rows: &[Row<'_>],
    reageer_voor: jiff::civil::Date,
    now: &str,
) -> io::Result<Staged> {
    let Version { number: version, supersedes } = version;
    let base = target.base_name(period, version);
    let mut files = Vec::new();
    let mut names = Vec::new();
    let counts = Counts::of(rows);
    if !rows.is_empty() {
        for format in target.formats {
            let suffix = match format {
                BundleFormat::Csv => "signalen.csv",
                BundleFormat::Json => "signalen.json",
            };
            let name = format!("{base}_{suffix}.age");
            let entry = encrypt_to(&staging.join(&name), &name, target.recipients, |out| match format {
                BundleFormat::Csv => csv::write(out, rows),
                BundleFormat::Json => {
                    let head =
                        json::Head { period, municipality: target.municipality, version, reageer_voor };
                    json::write(out, rows, &head)
                }
            })?;
            files.push(entry);
            names.push(name);
        }
    }
    let manifest = Manifest {
        period: period.to_string(),
        municipality: target.municipality.to_string(),
        executor: target.executor.map(ToString::to_string),
        to_executor: target.to_executor.map(|(e, signals)| ToExecutor { executor: e.to_string(), signals }),
        version,
        supersedes,
        created_at: now.to_owned(),
        reageer_voor: reageer_voor.to_string(),
        counts,
        files,
    };
    let name = format!("{base}_manifest.json");
    let mut text = serde_json::to_vec_pretty(&manifest).expect("in memory");
    text.push(b'\n');
    // Staging is private and emptied by the next run after a crash, so no temporary name is
    // needed here; the data is made durable before delivery renames it into pickup.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o640)
        .open(staging.join(&name))?
        .write_all(&text)?;
    names.push(name);
    Ok(Staged { names, manifest })
}

/// An age encryptor to all of a municipality's `age_recipients`.
pub fn encryptor(recipients: &[String]) -> io::Result<age::Encryptor> {
    let parsed: Vec<age::x25519::Recipient> = recipients
        .iter()
        .map(|r| age::x25519::Recipient::from_str(r).map_err(|e| io::Error::other(e.to_string())))
        .collect::<Result<_, _>>()?;
    age::Encryptor::with_recipients(parsed.iter().map(|r| r as &dyn age::Recipient))
        .map_err(|e| io::Error::other(e.to_string()))
}

/// Encrypts what `write` writes to the recipients into `path` (streamed: the plaintext is
/// never whole in memory; not fsynced) and describes it.
fn encrypt_to(
    path: &Path,
    name: &str,
    recipients: &[String],
    write: impl FnOnce(&mut PlainWriter<'_>) -> io::Result<()>,
) -> io::Result<FileEntry> {
    let enc = encryptor(recipients)?;
    // Readable by the service's group (like the manifest), never by others.
    let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o640).open(path)?;
    let mut cipher = HashingWriter::new(io::BufWriter::with_capacity(1 << 16, file));
    let age_writer = enc.wrap_output(&mut cipher)?;
    let mut plain = io::BufWriter::with_capacity(1 << 16, HashingWriter::new(age_writer));
    write(&mut plain)?;
    let plain = plain.into_inner().map_err(io::IntoInnerError::into_error)?;
    let (plaintext_bytes, plaintext_sha256) = (plain.bytes, hex::encode(plain.hasher.finalize()));
    plain.inner.finish()?;
    let HashingWriter { inner, hasher, bytes } = cipher;
    inner.into_inner().map_err(io::IntoInnerError::into_error)?;
    Ok(FileEntry {
        name: name.to_owned(),
        bytes,
        sha256: hex::encode(hasher.finalize()),
        plaintext_bytes,
        plaintext_sha256,
    })
}

/// Where a bundle's plaintext goes: buffered, hashed, encrypted, hashed again (ciphertext),
/// buffered, the file. A concrete type, so the CSV and JSON writers are compiled for it.
type PlainWriter<'a> = io::BufWriter<
    HashingWriter<age::stream::StreamWriter<&'a mut HashingWriter<io::BufWriter<std::fs::File>>>>,
>;

/// Hashes and counts what passes through.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), bytes: 0 }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
