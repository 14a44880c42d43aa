//! The dates and pairs in the HTTPS PKI (issue 21, item 6): `meldpunt check` names an expired
//! or soon-ending certificate, a server key that does not match its certificate and a stale
//! CRL; the daemon refuses handshakes while its CRL is past `nextUpdate` (fail closed), shows
//! it in `meldpunt_crl_stale`, and takes them again once a current CRL is in place.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use common::{Server, bin};
use meldpunt::demo::pki::Ca;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn ca_in(dir: &Path) -> Ca {
    let pki = dir.join("pki");
    Ca::from_pem(
        &std::fs::read_to_string(pki.join("ca.crt")).unwrap(),
        &std::fs::read_to_string(pki.join("ca.key")).unwrap(),
    )
    .unwrap()
}

/// `meldpunt check` on a configuration: (succeeded, stderr).
fn check(config: &Path) -> (bool, String) {
    let o = Command::new(bin()).args(["check", "--config"]).arg(config).output().unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Replaces `path` in one rename, as a CA's CRL distribution would.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

#[test]
fn check_names_an_expired_certificate_a_mismatched_key_and_a_stale_crl() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&tmp.path().join("inst")).unwrap();
    let (ok, err) = check(&inst.config);
    assert!(ok, "the demo installation should pass: {err}");
    let pki = inst.dir.join("pki");
    let ca = ca_in(&inst.dir);
    let now = SystemTime::now();

    // An expired server certificate, written with its own key: only the date is wrong.
    ca.server_valid(&["localhost"], now - 30 * DAY, now - DAY)
        .unwrap()
        .write(&pki.join("server.crt"), &pki.join("server.key"))
        .unwrap();
    // A stale CRL: nextUpdate a year ago.
    let stale = ca.crl_dated(&[], 2, now - 400 * DAY, now - 365 * DAY).unwrap();
    std::fs::write(pki.join("ca.crl"), stale).unwrap();
    let (ok, err) = check(&inst.config);
    assert!(!ok, "{err}");
    assert!(err.contains("server.crt: the server certificate") && err.contains("expired on"), "{err}");
    assert!(err.contains("ca.crl: this CRL is stale: its nextUpdate"), "{err}");
    assert!(err.contains("fix: put the current CRL from your CA in its place"), "{err}");

    // A valid certificate with the key of another one.
    let other = ca.server(&["localhost"]).unwrap();
    ca.server(&["localhost"])
        .unwrap()
        .write(&pki.join("server.crt"), &tmp.path().join("unused.key"))
        .unwrap();
    std::fs::write(pki.join("server.key"), &other.key_pem).unwrap();
    std::fs::write(pki.join("ca.crl"), ca.crl(&[], 3).unwrap()).unwrap();
    let (ok, err) = check(&inst.config);
    assert!(!ok, "{err}");
    assert!(err.contains("server.key: this key does not belong to the server certificate"), "{err}");
    assert!(!err.contains("expired") && !err.contains("stale"), "{err}");

    // A certificate that ends in 10 days: a warning, and the check passes.
    ca.server_valid(&["localhost"], now - DAY, now + 10 * DAY)
        .unwrap()
        .write(&pki.join("server.crt"), &pki.join("server.key"))
        .unwrap();
    let (ok, err) = check(&inst.config);
    assert!(ok, "{err}");
    assert!(err.contains("warning: ") && err.contains("within 30 days"), "{err}");
}

/// `GET /metrics` value of `meldpunt_crl_stale`.
fn crl_stale_metric(s: &Server) -> String {
    let o = Command::new("curl")
        .args(["-sS", &format!("http://127.0.0.1:{}/metrics", s.admin_port)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.lines().find_map(|l| l.strip_prefix("meldpunt_crl_stale ")).unwrap_or("missing").to_owned()
}

/// Waits up to 10 s for the listing of receipts to answer `want`.
fn wait_status(s: &Server, want: u16) -> (u16, String) {
    let start = Instant::now();
    loop {
        let got = s.curl("vitens", &[], "/v1/receipts");
        if got.0 == want || start.elapsed() > Duration::from_secs(10) {
            return got;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_daemon_refuses_handshakes_while_its_crl_is_stale() {
    let s = Server::start_with(|t| {
        *t = t.replace("crl = [\"pki/ca.crl\"]", "crl = [\"pki/ca.crl\"]\ncrl_check_secs = 1");
        t.push_str("\n[defender]\nallow = [\"127.0.0.0/8\"]\n");
    });
    assert_eq!(wait_status(&s, 200).0, 200);
    assert_eq!(crl_stale_metric(&s), "0");

    let ca = ca_in(&s.inst.dir);
    let crl = s.inst.dir.join("pki/ca.crl");
    let now = SystemTime::now();
    replace(&crl, &ca.crl_dated(&[], 2, now - 10 * DAY, now - DAY).unwrap());
    let (code, out) = wait_status(&s, 0);
    assert_eq!(code, 0, "a handshake under a stale CRL got through: {out}");
    assert_eq!(crl_stale_metric(&s), "1");
    let start = Instant::now();
    let audited = || {
        s.audit().iter().any(|e| {
            e.action == "login" && e.object.get("reason").and_then(|r| r.as_str()) == Some("crl_stale")
        })
    };
    while !audited() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(audited(), "no login refusal with reason crl_stale audited");

    replace(&crl, &ca.crl(&[], 3).unwrap());
    assert_eq!(wait_status(&s, 200).0, 200);
    assert_eq!(crl_stale_metric(&s), "0");
}
