//! Turning configuration text into a [`Config`], collecting every problem.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use toml::Spanned;

use super::file::RawConfig;
use super::{Config, IntakeLimits, Problem, Problems, SftpConfig};
use crate::domain::period::Cutoff;

mod batch;
mod keys;
mod parties;

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
}

impl Checker<'_> {
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

/// Parses and checks configuration text.
pub fn parse(file: &Path, text: &str) -> Result<Config, Problems> {
    let raw: RawConfig = match toml::from_str(text) {
        Ok(r) => r,
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
            return Err(Problems(vec![Problem::at(file, text, offset, msg, fix)]));
        }
    };
    let base = file.parent().map(Path::to_owned).unwrap_or_default();
    let mut c = Checker { file, text, base, problems: Vec::new(), tls_seen: HashMap::new() };

    let data_dir = c.resolve(raw.data_dir.get_ref());
    let sftp = if raw.sftp.enabled {
        let listen = match SocketAddr::from_str(raw.sftp.listen.get_ref()) {
            Ok(a) => Some(a),
            Err(_) => {
                c.report(
                    &raw.sftp.listen,
                    format!("'{}' is not an address", raw.sftp.listen.get_ref()),
                    "write host:port, e.g. \"0.0.0.0:2222\"",
                );
                None
            }
        };
        let host_key = Path::new(&raw.sftp.host_key);
        let host_key = if host_key.is_absolute() { host_key.to_owned() } else { data_dir.join(host_key) };
        listen.map(|listen| SftpConfig {
            listen,
            host_key,
            max_sessions: raw.sftp.max_sessions.max(1),
            max_sessions_per_party: raw.sftp.max_sessions_per_party.max(1),
            max_open_files: raw.sftp.max_open_files.max(1),
            auth_timeout: Duration::from_secs(raw.sftp.auth_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(raw.sftp.idle_timeout_secs.max(1)),
            max_auth_attempts: raw.sftp.max_auth_attempts.max(1),
        })
    } else {
        None
    };
    let https = raw.https.as_ref().and_then(|h| super::tls::https(&mut c, h));
    let admin_listen = match SocketAddr::from_str(raw.admin.listen.get_ref()) {
        Ok(a) if a.ip().is_loopback() => a,
        Ok(_) => {
            c.report(
                &raw.admin.listen,
                "the admin listener must be on a loopback address",
                "write e.g. \"127.0.0.1:9090\"; put a reverse proxy in front if metrics must leave the host",
            );
            SocketAddr::from(([127, 0, 0, 1], 9090))
        }
        Err(_) => {
            c.report(&raw.admin.listen, "not an address", "write host:port, e.g. \"127.0.0.1:9090\"");
            SocketAddr::from(([127, 0, 0, 1], 9090))
        }
    };
    let day = *raw.periods.cutoff_day.get_ref();
    let cutoff = if (1..=27).contains(&day) {
        Cutoff { day: day as i8, ..Cutoff::default() }
    } else {
        c.report(
            &raw.periods.cutoff_day,
            format!("cutoff_day {day} is out of range"),
            "write a day from 1 to 27 (the batch runs the day after); the default is 25",
        );
        Cutoff::default()
    };
    let batch = batch(&mut c, &raw.batch, cutoff);
    let audit = super::audit::check(&mut c, &raw.audit);
    let intake = IntakeLimits {
        max_file_bytes: raw.intake.max_file_bytes.max(1),
        max_listed_errors: raw.intake.max_listed_errors,
        reorder_window_bytes: raw.intake.reorder_window_bytes.max(1 << 20),
    };
    let rules = rules(&mut c, &raw.rules);
    let pickup_retention_days = in_range(
        &mut c,
        &raw.pickup.retention_days,
        1..=365,
        "retention_days",
        "write 1 to 365 days; the default is 14",
    )
    .unwrap_or(14) as u32;
    let feedback_max_bytes = in_range(
        &mut c,
        &raw.feedback.max_file_bytes,
        1024..=(256 << 20),
        "max_file_bytes",
        "write 1024 to 268435456 bytes; the default is 16777216 (16 MiB)",
    )
    .unwrap_or(16 << 20) as u64;
    let retention_months = retention_months(&mut c, &raw.retention.months, batch.lookback_months);
    let windows = super::retention::windows(&mut c, &raw.retention, retention_months);

    let municipalities = municipalities(&mut c, &raw);
    let creditors = creditors(&mut c, &raw, &municipalities);

    let mut owners: HashMap<Vec<u8>, String> = HashMap::new();
    for (id, keys) in creditors
        .iter()
        .map(|x| (x.id.to_string(), &x.ssh_keys))
        .chain(municipalities.iter().map(|m| (m.code.to_string(), &m.ssh_keys)))
    {
        for k in keys {
            let blob = k.to_bytes().unwrap_or_default();
            if let Some(other) = owners.insert(blob, id.clone())
                && other != id
            {
                c.problems.push(Problem::whole_file(
                    file,
                    format!(
                        "the SSH key {} is configured for both '{other}' and '{id}'",
                        k.fingerprint(Default::default())
                    ),
                    "give every party its own key pair",
                ));
            }
        }
    }

    if c.problems.is_empty() {
        Ok(Config {
            source: file.to_owned(),
            data_dir,
            sftp,
            https,
            admin_listen,
            intake,
            cutoff,
            batch,
            pickup_retention_days,
            feedback_max_bytes,
            retention_months,
            windows,
            audit,
            rules,
            creditors,
            municipalities,
        })
    } else {
        // In file order, whatever order the checks ran in.
        c.problems.sort_by_key(|p| (p.line, p.column));
        Err(Problems(c.problems))
    }
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
