//! The action names the audit log records (docs/audit.md's table), so that a filter on a
//! misspelt action is refused instead of matching nothing.

/// Every action this version records, alphabetically.
pub const ACTIONS: &[&str] = &[
    "audit_export",
    "audit_purge",
    "audit_verify",
    "ban",
    "batch",
    "clients_expired",
    "clients_key_created",
    "clients_key_rotated",
    "clients_upload",
    "config_load",
    "config_reload",
    "crl_reload",
    "ddas_export",
    "denied_path",
    "erase",
    "feedback",
    "feedback_routed",
    "inzage",
    "login",
    "pickup",
    "pickup_ack",
    "pickup_expired",
    "receipt",
    "receipt_key_created",
    "receipt_key_rotated",
    "routing_import",
    "session_limit",
    "shred",
    "start",
    "stop",
    "tls_reload",
    "unban",
    "unclean_stop",
    "upload",
    "upload_discarded",
];

/// Whether `action` is one this version records.
pub fn is_known(action: &str) -> bool {
    ACTIONS.binary_search(&action).is_ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn sorted_and_as_documented() {
        assert!(ACTIONS.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/audit.md")).unwrap();
        let table = doc.split("| action |").nth(1).expect("the action table");
        let mut documented = BTreeSet::new();
        for line in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
            let first = line.split('|').nth(1).unwrap();
            documented.extend(first.split('`').skip(1).step_by(2));
        }
        assert_eq!(documented, ACTIONS.iter().copied().collect(), "docs/audit.md's action table");
        assert!(is_known("login") && !is_known("lgin"));
    }
}
