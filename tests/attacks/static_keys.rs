//! No static key to forge with (GoAnywhere CVE-2023-0669 and CVE-2025-10035, where one key
//! shipped in every installation let anyone forge what the server deserialised): every secret
//! of an installation is its own. Two fresh installations share no SSH host key (seen by
//! `ssh-keyscan`), audit key, receipt key, period age identity, TLS server key or CA key.
//! (meldpunt deserialises no client object at all: uploads are CSV/JSONL read into typed
//! fields, `tests/corpus.rs`; no session token or cookie exists, `forged_headers.rs`.)

use std::process::Command;

use super::common::Server;
use super::probe;

/// The host key a real client sees, as `ssh-keyscan` prints it (without the host part).
fn scanned_host_key(s: &Server) -> String {
    let o = Command::new("ssh-keyscan")
        .args(["-p", &s.port.to_string(), "-t", "ed25519", "127.0.0.1"])
        .output()
        .expect("ssh-keyscan (openssh-client)");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let line = out.lines().find(|l| l.contains("ssh-ed25519")).unwrap_or_else(|| panic!("{out}"));
    line.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
}

/// The secrets of an installation, by name.
fn secrets(s: &Server) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![("host key (scanned)".to_owned(), scanned_host_key(s).into_bytes())];
    for rel in [
        "data/host_ed25519",
        "data/keys/audit_ed25519",
        "data/keys/receipt_ed25519",
        "pki/server.key",
        "pki/ca.key",
    ] {
        out.push((
            rel.to_owned(),
            std::fs::read(s.inst.dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")),
        ));
    }
    for e in std::fs::read_dir(s.data().join("keys/periods")).unwrap().flatten() {
        out.push((
            format!("period key {}", e.file_name().to_string_lossy()),
            std::fs::read(e.path()).unwrap(),
        ));
    }
    out
}

#[test]
fn two_installations_share_no_key() {
    let (a, b) = (probe::hostile_server(), probe::hostile_server());
    // An upload makes this period's age identity.
    probe::assert_still_serving(&a, "a.csv");
    probe::assert_still_serving(&b, "b.csv");
    let (sa, sb) = (secrets(&a), secrets(&b));
    assert_eq!(sa.len(), sb.len(), "the same kinds of secret");
    assert!(
        sa.iter().any(|(n, _)| n.starts_with("period key")),
        "{:?}",
        sa.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in sa.iter().zip(&sb) {
        assert!(x.len() > 16, "{name} is a key");
        assert_ne!(x, y, "{name} is the same in two installations");
    }
}
