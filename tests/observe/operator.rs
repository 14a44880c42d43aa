//! The audit names the person behind an operator command run with `sudo`.

use std::process::Command;

use crate::common::{Server, bin, text};

#[test]
fn the_operator_under_sudo_is_named_in_the_audit() {
    let s = Server::start();
    let o = Command::new(bin())
        .args(["audit", "verify", "--config"])
        .arg(&s.inst.config)
        .env("MELDPUNT_LOG", "warn")
        .env("SUDO_USER", "alice")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new(bin())
        .args(["audit", "show", "--json", "--action", "audit_verify", "--config"])
        .arg(&s.inst.config)
        .env_remove("SUDO_USER")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let auth = lines[0]["auth"].as_str().unwrap();
    assert_eq!(lines[0]["actor"], "operator");
    assert!(auth.starts_with("uid:") && auth.contains(" sudo:alice"), "{auth}");
    let loginuid = std::fs::read_to_string("/proc/self/loginuid").unwrap_or_default();
    match loginuid.trim().parse::<u32>() {
        Ok(n) if n != u32::MAX => assert!(auth.ends_with(&format!(" login:{n}")), "{auth}"),
        _ => assert!(!auth.contains("login:"), "{auth}"),
    }
}
