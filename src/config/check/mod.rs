//! Turning configuration text into a [`Config`], collecting every problem.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use russh::keys::{Algorithm, PublicKey};
use toml::Spanned;

use super::file::{RawConfig, RawKindRules};
use super::{
    Agreements, BundleFormat, Config, Creditor, IntakeLimits, Municipality, Problem, Problems, SftpConfig,
};
use crate::domain::party::{CreditorId, MunicipalityCode};
use crate::domain::period::Cutoff;
use crate::domain::signal::{Cents, Kind};
use crate::intake::validate::{KindRules, Requirement, RuleSet};

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

    fn ssh_keys(
        &mut self,
        party: &str,
        lines: &[Spanned<String>],
        files: &[Spanned<String>],
    ) -> Vec<PublicKey> {
        let mut keys = Vec::new();
        for line in lines {
            match parse_key(line.get_ref()) {
                Ok(k) => keys.push(k),
                Err(e) => self.report(line, format!("SSH key of '{party}' is not usable: {e}"), KEY_FIX),
            }
        }
        for f in files {
            let path = self.resolve(f.get_ref());
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    for (n, l) in text.lines().enumerate() {
                        let l = l.trim();
                        if l.is_empty() || l.starts_with('#') {
                            continue;
                        }
                        match parse_key(l) {
                            Ok(k) => keys.push(k),
                            Err(e) => self.report(
                                f,
                                format!(
                                    "{}:{}: SSH key of '{party}' is not usable: {e}",
                                    path.display(),
                                    n + 1
                                ),
                                KEY_FIX,
                            ),
                        }
                    }
                }
                Err(e) => self.report(
                    f,
                    format!("cannot read SSH key file {}: {e}", path.display()),
                    "give the path of an authorized_keys file, relative to this configuration file",
                ),
            }
        }
        keys
    }
}

const KEY_FIX: &str = "write one authorized_keys line: 'ssh-ed25519 AAAA… comment' (ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa keys of at least 2048 bits)";

fn parse_key(line: &str) -> Result<PublicKey, String> {
    let key = PublicKey::from_openssh(line.trim()).map_err(|_| {
        "it is not a valid authorized_keys line (type, base64 key, optional comment)".to_owned()
    })?;
    match key.algorithm() {
        Algorithm::Ed25519 | Algorithm::Ecdsa { .. } => Ok(key),
        Algorithm::Rsa { .. } => {
            let bits = key
                .key_data()
                .rsa()
                .map(|r| r.n().as_positive_bytes().map_or(0, |b| b.len() * 8))
                .unwrap_or(0);
            if bits >= 2048 { Ok(key) } else { Err(format!("RSA key of {bits} bits is too short")) }
        }
        other => Err(format!("key type {other} is not accepted")),
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

fn batch(c: &mut Checker<'_>, raw: &super::file::RawBatch, cutoff: Cutoff) -> super::BatchConfig {
    let mut day = *raw.day.get_ref();
    if !(1..=28).contains(&day) || day <= i64::from(cutoff.day) {
        c.report(
            &raw.day,
            format!("batch day {day} must come after the cutoff day {} and be at most 28", cutoff.day),
            "write a day after [periods] cutoff_day, e.g. 26 (the default)",
        );
        day = i64::from(cutoff.day) + 1;
    }
    let time = match jiff::civil::Time::strptime("%H:%M", raw.time.get_ref()) {
        Ok(t) => t,
        Err(_) => {
            c.report(
                &raw.time,
                format!("'{}' is not a time of day", raw.time.get_ref()),
                "write HH:MM, e.g. \"02:00\"",
            );
            jiff::civil::Time::constant(2, 0, 0, 0)
        }
    };
    let lookback = *raw.lookback_months.get_ref();
    let lookback_months = if (0..=24).contains(&lookback) {
        lookback as u32
    } else {
        c.report(&raw.lookback_months, "lookback_months is out of range", "write 0 to 24; the default is 6");
        6
    };
    super::BatchConfig {
        automatic: raw.automatic,
        day: day as i8,
        time,
        routing_table: c.resolve(raw.routing_table.get_ref()),
        lookback_months,
    }
}

fn rules(c: &mut Checker<'_>, raw: &std::collections::BTreeMap<Spanned<String>, RawKindRules>) -> RuleSet {
    let mut set = RuleSet::default();
    for (name, r) in raw {
        let Ok(kind) = Kind::from_str(name.get_ref()) else {
            c.report(name, format!("'{}' is not a kind", name.get_ref()), kinds_fix());
            continue;
        };
        let mut k: KindRules = set.for_kind(kind).clone();
        if let Some(d) = r.min_days {
            k.min_days = d;
        }
        if let Some(d) = r.max_days {
            k.max_days = (d > 0).then_some(d);
        }
        if let Some(req) = &r.requires {
            k.requires.clear();
            for q in req {
                match q.get_ref().as_str() {
                    "contactpoging" => k.requires.push(Requirement::Contactpoging),
                    "herinneringsdatum" => k.requires.push(Requirement::Herinneringsdatum),
                    "schuldhulp_gewezen" => k.requires.push(Requirement::SchuldhulpGewezen),
                    other => c.report(
                        q,
                        format!("'{other}' is not a field a kind can require"),
                        "write herinneringsdatum, contactpoging or schuldhulp_gewezen",
                    ),
                }
            }
        }
        if let Some(max) = k.max_days
            && max < k.min_days
        {
            c.report(
                name,
                format!("max_days {max} is below min_days {}", k.min_days),
                "make max_days at least min_days, or 0 for no maximum",
            );
        }
        set = set.with(kind, k);
    }
    set
}

fn kinds_fix() -> String {
    let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    format!("write one of: {}", all.join(", "))
}

fn municipalities(c: &mut Checker<'_>, raw: &RawConfig) -> Vec<Municipality> {
    let mut out: Vec<Municipality> = Vec::new();
    for m in &raw.municipalities {
        let code = match MunicipalityCode::parse(m.code.get_ref()) {
            Ok(code) => code,
            Err(e) => {
                c.report(&m.code, e.to_string(), "write the CBS code, e.g. \"GM0505\" for Dordrecht");
                continue;
            }
        };
        if out.iter().any(|o| o.code == code) {
            c.report(
                &m.code,
                format!("municipality {code} is configured twice"),
                "keep one [[municipality]] block per code",
            );
        }
        let mut age_recipients = Vec::new();
        for r in &m.age_recipients {
            match age::x25519::Recipient::from_str(r.get_ref()) {
                Ok(_) => age_recipients.push(r.get_ref().clone()),
                Err(_) => c.report(
                    r,
                    format!("age recipient of {code} is not an X25519 recipient"),
                    "write the municipality's public key as printed by age-keygen: \"age1…\"",
                ),
            }
        }
        if m.age_recipients.is_empty() {
            c.report(
                &m.code,
                format!("municipality {code} has no age recipients"),
                "add age_recipients = [\"age1…\"] so its bundles can be encrypted",
            );
        }
        let drempelbedrag = m.drempelbedrag.as_ref().and_then(|d| {
            let v = *d.get_ref();
            if (0.0..=1_000_000.0).contains(&v) {
                Some(Cents((v * 100.0).round() as u64))
            } else {
                c.report(d, "drempelbedrag is out of range", "write an amount in euros from 0 to 1000000");
                None
            }
        });
        let mut formats = Vec::new();
        for f in &m.formats {
            match f.get_ref().as_str() {
                "csv" => formats.push(BundleFormat::Csv),
                "json" => formats.push(BundleFormat::Json),
                other => {
                    c.report(f, format!("'{other}' is not a bundle format"), "write \"csv\" or \"json\"")
                }
            }
        }
        let ssh_keys = c.ssh_keys(code.as_str(), &m.ssh_keys, &m.ssh_key_files);
        let tls = super::tls::identity(c, code.as_str(), &m.tls_fingerprints, m.oin.as_ref());
        out.push(Municipality {
            code,
            name: m.name.clone(),
            age_recipients,
            drempelbedrag,
            formats,
            leave_out_onder_drempel: m.leave_out_onder_drempel,
            ssh_keys,
            tls,
        });
    }
    out
}

fn creditors(c: &mut Checker<'_>, raw: &RawConfig, municipalities: &[Municipality]) -> Vec<Creditor> {
    let mut out: Vec<Creditor> = Vec::new();
    for r in &raw.creditors {
        // An invalid id is reported, and the rest of the block is still checked.
        let (id, id_ok) = match CreditorId::parse(r.id.get_ref()) {
            Ok(id) => (id, true),
            Err(e) => {
                c.report(&r.id, e.to_string(), format!("write e.g. \"{}\"", slug(r.id.get_ref())));
                (CreditorId::parse("invalid").expect("valid placeholder"), false)
            }
        };
        if out.iter().any(|o| o.id == id) {
            c.report(
                &r.id,
                format!("creditor '{id}' is configured twice"),
                "keep one [[creditor]] block per id",
            );
        }
        if MunicipalityCode::parse(&id.as_str().to_ascii_uppercase()).is_ok() {
            c.report(
                &r.id,
                "a creditor id may not look like a municipality code",
                "choose a slug such as the company name",
            );
        }
        let mut kinds = Vec::new();
        for k in &r.kinds {
            match Kind::from_str(k.get_ref()) {
                Ok(kind) => kinds.push(kind),
                Err(_) => c.report(k, format!("'{}' is not a kind", k.get_ref()), kinds_fix()),
            }
        }
        if r.kinds.is_empty() {
            c.report(&r.id, format!("creditor '{id}' may send no kind"), kinds_fix());
        }
        let agreements = if r.agreements.iter().any(|a| a.get_ref() == "*") {
            Agreements::All
        } else {
            let mut list = Vec::new();
            for a in &r.agreements {
                match MunicipalityCode::parse(a.get_ref()) {
                    Ok(code) if municipalities.iter().any(|m| m.code == code) => list.push(code),
                    Ok(code) => c.report(
                        a,
                        format!("agreement with {code}, which is not a configured municipality"),
                        "add a [[municipality]] block for it, or remove the agreement",
                    ),
                    Err(e) => c.report(
                        a,
                        e.to_string(),
                        "write a CBS code such as \"GM0505\", or \"*\" for all municipalities",
                    ),
                }
            }
            Agreements::Only(list)
        };
        let ssh_keys = c.ssh_keys(id.as_str(), &r.ssh_keys, &r.ssh_key_files);
        let tls = super::tls::identity(c, id.as_str(), &r.tls_fingerprints, r.oin.as_ref());
        if !id_ok {
            continue;
        }
        out.push(Creditor {
            id,
            name: r.name.clone(),
            phone: r.phone.clone(),
            email: r.email.clone(),
            kinds,
            agreements,
            ssh_keys,
            tls,
        });
    }
    out
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.trim().chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests;
