//! `[[municipality]]` and `[[creditor]]` blocks.

use std::str::FromStr;

use super::Checker;
use super::batch::kinds_fix;
use super::werkbak::{euros, werkbakken};
use crate::config::file::RawConfig;
use crate::config::{Agreements, BundleFormat, Creditor, Municipality};
use crate::domain::party::{CreditorId, MunicipalityCode};
use crate::domain::signal::Kind;

/// The municipalities, each checked; a block with an unusable code is left out.
pub(super) fn municipalities(c: &mut Checker<'_>, raw: &RawConfig) -> Vec<Municipality> {
    let mut out: Vec<Municipality> = Vec::new();
    let creditor_ids: Vec<&str> = raw.creditors.iter().map(|c| c.id.get_ref().as_str()).collect();
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
        let age_recipients = age_recipients(c, "municipality", &m.code, &m.age_recipients);
        let drempelbedrag = m.drempelbedrag.as_ref().and_then(|d| euros(c, d, "drempelbedrag"));
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
        let tls = crate::config::tls::identity(c, code.as_str(), &m.tls_fingerprints, m.oin.as_ref());
        let (werkbakken, werkbak_rules) = werkbakken(c, code.as_str(), m, &creditor_ids);
        out.push(Municipality {
            code,
            name: m.name.clone(),
            age_recipients,
            drempelbedrag,
            formats,
            leave_out_onder_drempel: m.leave_out_onder_drempel,
            ssh_keys,
            tls,
            werkbakken,
            werkbak_rules,
            // Filled in by `executors::destinations`, once the executors are known.
            deliver_to: Default::default(),
        });
    }
    out
}

/// The usable age recipients of the party whose id is `id` (`kind`: `municipality`,
/// `executor`); each unusable one, and an empty list, is reported.
pub(super) fn age_recipients(
    c: &mut Checker<'_>,
    kind: &str,
    id: &toml::Spanned<String>,
    recipients: &[toml::Spanned<String>],
) -> Vec<String> {
    let mut out = Vec::new();
    for r in recipients {
        match age::x25519::Recipient::from_str(r.get_ref()) {
            Ok(_) => out.push(r.get_ref().clone()),
            Err(_) => c.report(
                r,
                format!("age recipient of {} is not an X25519 recipient", id.get_ref()),
                format!("write the {kind}'s public key as printed by age-keygen: \"age1…\""),
            ),
        }
    }
    if recipients.is_empty() {
        c.report(
            id,
            format!("{kind} {} has no age recipients", id.get_ref()),
            "add age_recipients = [\"age1…\"] so its bundles can be encrypted",
        );
    }
    out
}

/// The creditors, each checked against the municipalities; a block with an invalid id is
/// left out.
pub(super) fn creditors(
    c: &mut Checker<'_>,
    raw: &RawConfig,
    municipalities: &[Municipality],
) -> Vec<Creditor> {
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
        let tls = crate::config::tls::identity(c, id.as_str(), &r.tls_fingerprints, r.oin.as_ref());
        let spool_dir = r.spool_dir.as_ref().and_then(|d| {
            let path = c.resolve(d.get_ref());
            if path.is_dir() {
                Some(path)
            } else {
                c.report(
                    d,
                    format!("spool_dir of {id} is not a folder"),
                    "create the folder, or remove spool_dir",
                );
                None
            }
        });
        if !id_ok {
            continue;
        }
        out.push(Creditor {
            spool_dir,
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
