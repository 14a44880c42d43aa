//! `/healthz` (alive, with details) and `/readyz` (ready for traffic) with curl.

use std::process::Command;

use crate::common::Server;

/// GET of the admin listener's `path` with curl: (status, JSON body).
fn get(s: &Server, path: &str) -> (u16, serde_json::Value) {
    let url = format!("http://127.0.0.1:{}{path}", s.admin_port);
    let o = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-w", "\n%{http_code}", &url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.parse().unwrap(), serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}")))
}

#[test]
fn healthz_details_and_readyz_fails_without_a_writable_data_dir() {
    let s = Server::start();
    let (code, h) = get(&s, "/healthz");
    assert_eq!((code, h["status"].as_str()), (200, Some("ok")), "{h:#}");
    let c = &h["checks"];
    assert_eq!(
        (c["scheduler"]["enabled"].as_bool(), c["scheduler"]["alive"].as_bool()),
        (Some(true), Some(true)),
        "{h:#}"
    );
    assert!(c["disk"]["free_bytes"].as_u64().is_some_and(|n| n > 0), "{h:#}");
    for key in ["audit_key", "receipt_key", "ssh_host_key", "tls_key"] {
        assert_eq!(c["keys_readable"][key], true, "{key}: {h:#}");
    }
    let (code, r) = get(&s, "/readyz");
    assert_eq!((code, r["status"].as_str()), (200, Some("ok")), "{r:#}");
    assert_eq!(
        (r["checks"]["data_dir_writable"].as_bool(), r["checks"]["state_db"].as_bool()),
        (Some(true), Some(true))
    );

    // Not writable (root ignores modes, so the folder goes): not ready, still alive.
    let tmp = s.data().join("vault").join("tmp");
    let aside = s.data().join("vault").join("tmp.aside");
    std::fs::rename(&tmp, &aside).unwrap();
    let (code, r) = get(&s, "/readyz");
    assert_eq!((code, r["status"].as_str()), (503, Some("not_ready")), "{r:#}");
    assert_eq!(r["checks"]["data_dir_writable"], false, "{r:#}");
    assert_eq!(get(&s, "/healthz").0, 200);
    std::fs::rename(&aside, &tmp).unwrap();
    assert_eq!(get(&s, "/readyz").0, 200);

    // An unreadable key: alive no more, and the key is named.
    let key = s.data().join("keys").join("audit_ed25519");
    std::fs::rename(&key, key.with_extension("aside")).unwrap();
    let (code, h) = get(&s, "/healthz");
    assert_eq!((code, h["checks"]["keys_readable"]["audit_key"].as_bool()), (503, Some(false)), "{h:#}");
    std::fs::rename(key.with_extension("aside"), &key).unwrap();
}
