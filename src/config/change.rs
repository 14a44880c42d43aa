//! What a new configuration changes against the one in force (for a live reload): parties
//! and their keys added or removed, settings changed, and settings that only a restart can
//! apply. Pure: ids, fingerprints and setting names only, never personal data.

use std::collections::BTreeSet;

use russh::keys::HashAlg;
use serde::Serialize;

use super::{Config, TlsIdentity};

/// The differences between two configurations.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Parties (creditor ids, municipality codes) only the new one has.
    pub parties_added: Vec<String>,
    /// Parties only the old one has.
    pub parties_removed: Vec<String>,
    /// Parties in both whose other details (name, kinds, agreements, formats, …) differ.
    pub parties_changed: Vec<String>,
    /// Credentials only the new one has, as `party key` (`SHA256:…` for SSH keys, `tls:<hex>`
    /// for certificate fingerprints, `oin:<digits>`).
    pub keys_added: Vec<String>,
    /// Credentials only the old one has, written the same way.
    pub keys_removed: Vec<String>,
    /// Sections whose settings changed and apply from now on.
    pub settings: Vec<&'static str>,
    /// Settings that changed but need a restart (new listeners, host key, …); the running
    /// daemon keeps the old values.
    pub restart_needed: Vec<&'static str>,
}

impl Changes {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// Compares the configuration in force with a new one.
pub fn changes(old: &Config, new: &Config) -> Changes {
    let (old_parties, new_parties) = (parties(old), parties(new));
    let (old_keys, new_keys) = (credentials(old), credentials(new));
    let ids = |s: &BTreeSet<(String, String)>| s.iter().map(|(id, _)| id.clone()).collect::<BTreeSet<_>>();
    let (old_ids, new_ids) = (ids(&old_parties), ids(&new_parties));
    let changed_details = old_parties
        .symmetric_difference(&new_parties)
        .map(|(id, _)| id.clone())
        .filter(|id| old_ids.contains(id) && new_ids.contains(id))
        .collect::<BTreeSet<_>>();
    let same = |a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| format!("{a:?}") == format!("{b:?}");
    let mut settings = Vec::new();
    for (name, differs) in [
        ("intake", !same(&old.intake, &new.intake)),
        ("periods", !same(&old.cutoff, &new.cutoff)),
        ("batch", !same(&batch_live(old), &batch_live(new))),
        ("pickup", old.pickup_retention_days != new.pickup_retention_days),
        ("feedback", old.feedback_max_bytes != new.feedback_max_bytes),
        ("ddas", old.ddas_day != new.ddas_day),
        ("clients", old.clients_max_age_days != new.clients_max_age_days),
        ("retention", old.retention_months != new.retention_months || old.windows != new.windows),
        ("audit", !same(&audit_live(old), &audit_live(new))),
        ("rules", !same(&old.rules, &new.rules)),
    ] {
        if differs {
            settings.push(name);
        }
    }
    let mut restart_needed = Vec::new();
    for (name, differs) in [
        ("data_dir", old.data_dir != new.data_dir),
        ("sftp", !same(&old.sftp, &new.sftp)),
        ("https", !same(&old.https, &new.https)),
        ("admin", old.admin_listen != new.admin_listen),
        ("defender", !same(&old.defender, &new.defender)),
        ("batch.automatic", old.batch.automatic != new.batch.automatic),
        ("audit.checkpoint_interval_secs", old.audit.checkpoint_interval != new.audit.checkpoint_interval),
        ("audit.syslog", old.audit.syslog != new.audit.syslog),
    ] {
        if differs {
            restart_needed.push(name);
        }
    }
    Changes {
        parties_added: new_ids.difference(&old_ids).cloned().collect(),
        parties_removed: old_ids.difference(&new_ids).cloned().collect(),
        parties_changed: changed_details.into_iter().collect(),
        keys_added: new_keys.difference(&old_keys).cloned().collect(),
        keys_removed: old_keys.difference(&new_keys).cloned().collect(),
        settings,
        restart_needed,
    }
}

/// The new configuration as it can be put in force while running: what needs a restart
/// keeps the running value, and so do the values that are not settings of the file
/// (`receive_backdate`).
pub fn applicable(running: &Config, mut new: Config) -> Config {
    new.data_dir.clone_from(&running.data_dir);
    new.sftp.clone_from(&running.sftp);
    new.https.clone_from(&running.https);
    new.admin_listen = running.admin_listen;
    new.defender.clone_from(&running.defender);
    new.batch.automatic = running.batch.automatic;
    new.audit.checkpoint_interval = running.audit.checkpoint_interval;
    new.audit.syslog.clone_from(&running.audit.syslog);
    new.receive_backdate = running.receive_backdate;
    new
}

/// Each party's id with the Debug text of its details other than credentials.
fn parties(c: &Config) -> BTreeSet<(String, String)> {
    let creditors = c.creditors.iter().map(|x| {
        let details = format!("{:?}", (&x.name, &x.phone, &x.email, &x.kinds, &x.agreements));
        (x.id.to_string(), details)
    });
    let municipalities = c.municipalities.iter().map(|m| {
        let details = format!(
            "{:?}",
            (
                &m.name,
                &m.age_recipients,
                &m.drempelbedrag,
                &m.formats,
                m.leave_out_onder_drempel,
                &m.werkbakken,
                &m.werkbak_rules,
                &m.deliver_to
            )
        );
        (m.code.to_string(), details)
    });
    let executors = c
        .executors
        .iter()
        .map(|e| (e.id.to_string(), format!("{:?}", (&e.name, &e.age_recipients, &e.serves))));
    creditors.chain(municipalities).chain(executors).collect()
}

/// Every credential as `party key`.
fn credentials(c: &Config) -> BTreeSet<String> {
    let of = |party: &str, keys: &[russh::keys::PublicKey], tls: &TlsIdentity| {
        let ssh = keys.iter().map(move |k| format!("{party} {}", k.fingerprint(HashAlg::Sha256)));
        let tls: Vec<String> = match tls {
            TlsIdentity::None => Vec::new(),
            TlsIdentity::Fingerprints(fps) => {
                fps.iter().map(|f| format!("{party} tls:{}", hex::encode(f))).collect()
            }
            TlsIdentity::Oin(o) => vec![format!("{party} oin:{o}")],
        };
        ssh.chain(tls).collect::<Vec<_>>()
    };
    c.parties().flat_map(|(party, keys, tls)| of(party.as_str(), keys, tls)).collect()
}

/// `[batch]` without what needs a restart.
fn batch_live(c: &Config) -> impl std::fmt::Debug + '_ {
    (c.batch.day, c.batch.time, &c.batch.routing_table, c.batch.lookback_months)
}

/// `[audit]` without what needs a restart.
fn audit_live(c: &Config) -> impl std::fmt::Debug {
    let a = &c.audit;
    (a.retention_months, a.failed_login_burst, a.failed_login_window_mins, a.unpicked_after_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG/5aJQjDD/drIkcQriT3bIhxqeZMW2DsAsaO/cxXKFB";
    const KEY_B: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICV7kt3DnYB5pZExzCid4z6QUKUM2oAGjCMjKaHJVWAB";

    fn config(creditors: &[(&str, &str)], listen: &str) -> Config {
        let mut t = format!("data_dir = \"d\"\n[sftp]\nlisten = \"{listen}\"\n");
        for (id, key) in creditors {
            t += &format!(
                "[[creditor]]\nid = \"{id}\"\nname = \"{id}\"\nkinds = [\"drinkwater\"]\nagreements = [\"*\"]\nssh_keys = [\"{key}\"]\n"
            );
        }
        Config::parse(std::path::Path::new("/etc/meldpunt/meldpunt.toml"), &t).expect("valid")
    }

    #[test]
    fn parties_keys_and_listeners() {
        let old = config(&[("vitens", KEY_A)], "127.0.0.1:2222");
        assert!(changes(&old, &old).is_empty());
        let new = config(&[("evides", KEY_B)], "127.0.0.1:2223");
        let ch = changes(&old, &new);
        assert_eq!(ch.parties_added, ["evides"]);
        assert_eq!(ch.parties_removed, ["vitens"]);
        assert_eq!(ch.keys_added.len(), 1);
        assert!(ch.keys_added[0].starts_with("evides SHA256:"), "{:?}", ch.keys_added);
        assert!(ch.keys_removed[0].starts_with("vitens SHA256:"));
        assert_eq!(ch.restart_needed, ["sftp"]);
        let applied = applicable(&old, new);
        assert_eq!(applied.sftp.unwrap().listen, old.sftp.unwrap().listen, "the running listener stays");
    }
}
