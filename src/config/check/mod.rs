//! Turning configuration text into a [`Config`], collecting every problem.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::file::RawConfig;
use super::{Config, Problem, Problems};

mod batch;
mod executors;
mod keys;
mod limits;
mod listeners;
mod parties;
mod periods;
mod werkbak;

use batch::{batch, rules};
use parties::{creditors, municipalities};

/// Collects problems while checking one file.
pub(super) struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    base: PathBuf,
    problems: Vec<Problem>,
    /// TLS identities seen so far (`fp:<hex>` / `oin:<digits>` → party), to find clashes.
    pub tls_seen: HashMap<String, String>,
    /// The SSH key files named so far.
    pub ssh_key_files: Vec<PathBuf>,
}

impl<'a> Checker<'a> {
    /// A checker for `text`, read from `file`; relative paths are taken from `file`'s folder.
    fn new(file: &'a Path, text: &'a str) -> Self {
        let base = file.parent().map(Path::to_owned).unwrap_or_default();
        Checker {
            file,
            text,
            base,
            problems: Vec::new(),
            tls_seen: HashMap::new(),
            ssh_key_files: Vec::new(),
        }
    }

    /// The configuration `build` makes when no problem was found, else every problem.
    fn finish(mut self, build: impl FnOnce() -> Config) -> Result<Config, Problems> {
        if self.problems.is_empty() {
            Ok(build())
        } else {
            // In file order, whatever order the checks ran in.
            self.problems.sort_by_key(|p| (p.line, p.column));
            Err(Problems(self.problems))
        }
    }

    /// Records a problem at the place of `at`.
    pub fn report<T>(&mut self, at: &Spanned<T>, message: impl Into<String>, fix: impl Into<String>) {
        let p = if at.span().is_empty() && at.span().start == 0 {
            Problem::whole_file(self.file, message, fix)
        } else {
            Problem::at(self.file, self.text, at.span().start, message, fix)
        };
        self.problems.push(p);
    }

    /// A path from the configuration, relative to the configuration file.
    pub fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() { p.to_owned() } else { self.base.join(p) }
    }
}

/// The file as written, or its one TOML problem (syntax, an unknown or a missing key).
fn raw_config(file: &Path, text: &str) -> Result<RawConfig, Problems> {
    match toml::from_str(text) {
        Ok(r) => Ok(r),
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            let msg = e.message().to_owned();
            let fix = if msg.contains("unknown field") {
                "remove or rename the key; config/meldpunt.toml lists every key with its meaning"
            } else if msg.contains("missing field") {
                "add the key; config/meldpunt.toml shows an example of each"
            } else {
                "correct the TOML syntax at this place"
            };
            Err(Problems(vec![Problem::at(file, text, offset, msg, fix)]))
        }
    }
}

/// Parses and checks configuration text.
pub fn parse(file: &Path, text: &str) -> Result<Config, Problems> {
    let raw = raw_config(file, text)?;
    let mut c = Checker::new(file, text);
    let data_dir = c.resolve(raw.data_dir.get_ref());
    let sftp = listeners::sftp(&mut c, &raw.sftp, &data_dir);
    let https = raw.https.as_ref().and_then(|h| super::tls::https(&mut c, h));
    let admin_listen = listeners::admin(&mut c, &raw.admin);
    let defender = super::defender::check(&mut c, &raw.defender);
    let cutoff = periods::cutoff(&mut c, &raw.periods);
    let batch = batch(&mut c, &raw.batch, cutoff);
    let audit = super::audit::check(&mut c, &raw.audit);
    let intake = limits::intake(&mut c, &raw.intake);
    let rules = rules(&mut c, &raw.rules);
    let pickup_retention_days = limits::pickup_retention_days(&mut c, &raw.pickup);
    let feedback_max_bytes = limits::feedback_max_bytes(&mut c, &raw.feedback);
    let ddas_day = limits::ddas_day(&mut c, &raw.ddas);
    let clients_max_age_days = limits::clients_max_age_days(&mut c, &raw.clients);
    let retention_months = retention_months(&mut c, &raw.retention.months, batch.lookback_months);
    let windows = super::retention::windows(&mut c, &raw.retention, retention_months);
    let mut municipalities = municipalities(&mut c, &raw);
    let creditors = creditors(&mut c, &raw, &municipalities);
    let executors = executors::executors(&mut c, &raw, &municipalities);
    executors::destinations(&mut c, &raw, &mut municipalities, &executors);
    c.shared_ssh_keys(&creditors, &municipalities, &executors);
    let ssh_key_files = std::mem::take(&mut c.ssh_key_files);
    c.finish(|| Config {
        source: file.to_owned(),
        data_dir,
        sftp,
        https,
        admin_listen,
        defender,
        intake,
        receive_backdate: jiff::SignedDuration::ZERO,
        cutoff,
        batch,
        pickup_retention_days,
        feedback_max_bytes,
        ddas_day,
        clients_max_age_days,
        retention_months,
        windows,
        audit,
        rules,
        creditors,
        municipalities,
        executors,
        ssh_key_files,
    })
}

/// `[retention] months`: 1–120 and never shorter than the batch lookback, which reads that far
/// back (a shorter retention would shred history a batch still needs).
fn retention_months(c: &mut Checker<'_>, months: &toml::Spanned<i64>, lookback: u32) -> u32 {
    let Some(m) = in_range(c, months, 1..=120, "retention months", "write 1 to 120; the default is 6") else {
        return 6.max(lookback);
    };
    if m < i64::from(lookback) {
        c.report(
            months,
            format!("retention months {m} is shorter than [batch] lookback_months {lookback}: batches need that history"),
            format!("write at least {lookback}, or lower [batch] lookback_months"),
        );
        return lookback;
    }
    m as u32
}

/// The value if it lies in `range`, else a problem naming the setting and the fix.
fn in_range(
    c: &mut Checker<'_>,
    value: &toml::Spanned<i64>,
    range: std::ops::RangeInclusive<i64>,
    name: &str,
    fix: &str,
) -> Option<i64> {
    let v = *value.get_ref();
    if range.contains(&v) {
        Some(v)
    } else {
        c.report(value, format!("{name} {v} is out of range"), fix);
        None
    }
}

#[cfg(test)]
mod tests;
