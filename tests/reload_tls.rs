//! Live reload and HTTPS (issue 21): a creditor whose certificate fingerprint is removed loses
//! its open keep-alive connection at the reload; a server certificate and key renewed at the
//! same paths are served from the next handshake without a restart (audited `tls_reload`, and
//! named in `config_reload`'s `files_changed`); a changed SSH host key says it needs a restart.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;
use meldpunt::audit::{Outcome, Record};
use meldpunt::demo::pki::Ca;

/// Starts a Python script with `CA`, `HPORT` and the given environment (stdout piped).
fn python(s: &Server, script: &str, env: &[(&str, String)]) -> std::process::Child {
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    Command::new(python)
        .arg("-c")
        .arg(script)
        .env("CA", s.inst.ca_cert())
        .env("HPORT", s.https_port.to_string())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run python3")
}

/// Waits until the file at `path` reads `want`-prefixed text (20 s at most); its text.
fn wait_file(path: &Path, want: &str) -> String {
    let start = Instant::now();
    loop {
        let t = std::fs::read_to_string(path).unwrap_or_default();
        if t.starts_with(want) {
            return t;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{} never read {want:?}: {t:?}", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for an audit event that `pick` accepts.
fn wait_event(s: &Server, what: &str, pick: impl Fn(&Record) -> bool) -> Record {
    let start = Instant::now();
    loop {
        if let Some(r) = s.audit().into_iter().rev().find(|r| pick(r)) {
            return r;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no {what} event");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGHUP and waits for its reload: the daemon's reload task, and with it the file
/// watcher, is running (right after start-up it may not be yet).
fn watching(s: &Server) {
    let n = s.audit().iter().filter(|r| r.action == "config_reload").count();
    s.signal("HUP");
    let start = Instant::now();
    while s.audit().iter().filter(|r| r.action == "config_reload").count() <= n {
        assert!(start.elapsed() < Duration::from_secs(20), "no reload after SIGHUP");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `meldpunt_sessions{protocol="https"}` of `/metrics`.
fn https_sessions(s: &Server) -> String {
    let url = format!("http://127.0.0.1:{}/metrics", s.admin_port);
    let o = Command::new("curl").args(["-sS", &url]).output().unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    let line = text.lines().find_map(|l| l.strip_prefix(r#"meldpunt_sessions{protocol="https"} "#));
    line.unwrap_or_else(|| panic!("no https session gauge:\n{text}")).to_owned()
}

/// One keep-alive connection with the party's client certificate: a first request, `open
/// <status>` to `$FLAG`, then, once `$GO` exists, a second request on the same connection
/// (no reconnecting): `answered <status>` or `closed <error>` to `$FLAG`.
const KEEP_ALIVE: &str = r#"
import http.client, os, ssl, time
ctx = ssl.create_default_context(cafile=os.environ["CA"])
ctx.load_cert_chain(os.environ["CERT"], os.environ["KEY"])
c = http.client.HTTPSConnection("localhost", int(os.environ["HPORT"]), context=ctx)
c.request("GET", "/v1/receipts")
r = c.getresponse()
r.read()
open(os.environ["FLAG"], "w").write("open %d" % r.status)
c.auto_open = 0
end = time.time() + 30
while time.time() < end and not os.path.exists(os.environ["GO"]):
    time.sleep(0.05)
try:
    c.request("GET", "/v1/receipts")
    r = c.getresponse()
    r.read()
    state = "answered %d" % r.status
except Exception as e:
    state = "closed %s" % type(e).__name__
open(os.environ["FLAG"], "w").write(state)
"#;

#[test]
fn a_removed_certificate_loses_its_open_https_connection_at_the_reload() {
    let s = Server::start();
    // Only SIGHUP can make the daemon read the change.
    let real = s.config_behind_symlink();
    let reloads_before = s.audit().into_iter().filter(|r| r.action == "config_reload").count();
    let party = "vitens";
    assert_ne!(party, meldpunt::demo::setup::OIN_CREDITOR.0, "a party known by fingerprint");
    let (cert, key) = s.inst.tls_pair(party);
    let (flag, go) = (s.tmp.path().join("flag"), s.tmp.path().join("go"));
    let env = [
        ("CERT", cert.display().to_string()),
        ("KEY", key.display().to_string()),
        ("FLAG", flag.display().to_string()),
        ("GO", go.display().to_string()),
    ];
    let mut client = python(&s, KEEP_ALIVE, &env);
    assert_eq!(wait_file(&flag, "open"), "open 200", "the first request on the connection");
    assert_eq!(https_sessions(&s), "1", "the open connection is counted");

    // The operator takes the certificate's fingerprint out of vitens' block and reloads.
    let text = std::fs::read_to_string(&real).unwrap();
    let block = text.find(&format!("id = \"{party}\"")).unwrap();
    let line = block + text[block..].find("tls_fingerprints = [").unwrap();
    let end = line + text[line..].find('\n').unwrap() + 1;
    std::fs::write(&real, format!("{}{}", &text[..line], &text[end..])).unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let reloads = || s.audit().into_iter().filter(|r| r.action == "config_reload").count();
    assert_eq!(reloads(), reloads_before, "the change was read before the signal");
    s.signal("HUP");
    let ev = wait_event(&s, "config_reload removing the fingerprint", |r| {
        r.action == "config_reload" && r.object["keys_removed"].as_array().is_some_and(|k| !k.is_empty())
    });
    assert_eq!((ev.outcome, ev.object["trigger"].as_str()), (Outcome::Ok, Some("sighup")), "{}", ev.object);
    let removed = ev.object["keys_removed"][0].as_str().unwrap();
    assert!(removed.starts_with(&format!("{party} tls:")), "{}", ev.object);
    assert_eq!(ev.object["sessions_closed"][party], 1, "{}", ev.object);

    std::fs::write(&go, "").unwrap();
    assert!(client.wait().unwrap().success());
    let state = std::fs::read_to_string(&flag).unwrap();
    assert!(state.starts_with("closed"), "the connection was still served after the reload: {state}");
    let start = Instant::now();
    while https_sessions(&s) != "0" {
        assert!(start.elapsed() < Duration::from_secs(5), "the closed connection is still counted");
        std::thread::sleep(Duration::from_millis(50));
    }
    // And a new connection with that certificate is refused.
    let (code, body) = s.curl(party, &[], "/v1/receipts");
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("unknown_certificate"), "{body}");
}

/// Prints the serial number of the certificate the server presents (verified against the CA).
const SERVED_SERIAL: &str = r#"
import os, socket, ssl
ctx = ssl.create_default_context(cafile=os.environ["CA"])
ctx.load_cert_chain(os.environ["CERT"], os.environ["KEY"])
with socket.create_connection(("127.0.0.1", int(os.environ["HPORT"]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        print(tls.getpeercert()["serialNumber"])
"#;

fn served_serial(s: &Server) -> String {
    let (cert, key) = s.inst.tls_pair("vitens");
    let env = [("CERT", cert.display().to_string()), ("KEY", key.display().to_string())];
    let o = python(s, SERVED_SERIAL, &env).wait_with_output().unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap().trim().trim_start_matches('0').to_ascii_uppercase()
}

/// The serial number in a certificate file, as openssl prints it.
fn file_serial(path: &Path) -> String {
    let o = Command::new("openssl").args(["x509", "-noout", "-serial", "-in"]).arg(path).output().unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    out.trim().trim_start_matches("serial=").trim_start_matches('0').to_ascii_uppercase()
}

#[test]
fn a_renewed_server_certificate_is_served_without_a_restart() {
    let mut s = Server::start();
    let pki = s.inst.dir.join("pki");
    let (cert, key) = (pki.join("server.crt"), pki.join("server.key"));
    let old = file_serial(&cert);
    watching(&s);
    assert_eq!(served_serial(&s), old);
    let pid = s.pid();

    let ca = Ca::from_pem(
        &std::fs::read_to_string(pki.join("ca.crt")).unwrap(),
        &std::fs::read_to_string(pki.join("ca.key")).unwrap(),
    )
    .unwrap();
    ca.server(&["localhost", "127.0.0.1"]).unwrap().write(&cert, &key).unwrap();
    let new = file_serial(&cert);
    assert_ne!(new, old);
    let start = Instant::now();
    while served_serial(&s) != new {
        assert!(start.elapsed() < Duration::from_secs(20), "the renewed certificate is not served");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(s.running() && s.pid() == pid, "no restart");
    let ev = wait_event(&s, "tls_reload", |r| r.action == "tls_reload" && r.outcome == Outcome::Ok);
    let changed: Vec<&str> =
        ev.object["changed"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(changed.contains(&"cert") && changed.contains(&"key"), "{}", ev.object);
    let ev = wait_event(&s, "config_reload naming the certificate", |r| {
        r.action == "config_reload" && r.object["files_changed"].to_string().contains("server.crt")
    });
    assert_eq!(ev.outcome, Outcome::Ok, "{}", ev.object);
    // Uploads over HTTPS go on with the new certificate.
    let (code, body) = s.curl("vitens", &[], "/v1/receipts");
    assert_eq!(code, 200, "{body}");
}

#[test]
fn a_changed_ssh_host_key_is_named_as_needing_a_restart() {
    // Changed right after start-up, maybe before the watcher is up: still seen.
    let s = Server::start();
    let host_key = s.data().join("host_ed25519");
    let fresh = s.tmp.path().join("fresh_host_key");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&fresh)
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::copy(&fresh, &host_key).unwrap();
    let ev = wait_event(&s, "config_reload naming the host key", |r| {
        r.action == "config_reload" && r.object["restart_needed"].to_string().contains("sftp.host_key")
    });
    assert_eq!(ev.outcome, Outcome::Ok, "{}", ev.object);
}

#[test]
fn a_client_ca_added_to_its_file_is_trusted_without_a_restart() {
    let s = Server::start();
    watching(&s);
    let pki = s.inst.dir.join("pki");
    // A second CA and a client certificate of it for vitens, its CRL beside the first one.
    let ca2 = Ca::new("second CA").unwrap();
    let issued = ca2.client("vitens", None).unwrap();
    let (cert, key) = (s.tmp.path().join("ca2-client.crt"), s.tmp.path().join("ca2-client.key"));
    issued.write(&cert, &key).unwrap();
    let curl = || {
        let o = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(s.inst.ca_cert())
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg(format!("https://localhost:{}/v1/receipts", s.https_port))
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // The configuration admits its fingerprint for vitens, but the CA is not trusted yet.
    let text = std::fs::read_to_string(&s.inst.config).unwrap();
    let block = text.find("id = \"vitens\"").unwrap();
    let at = block + text[block..].find("tls_fingerprints = [").unwrap() + "tls_fingerprints = [".len();
    let text = format!("{}\"{}\", {}", &text[..at], issued.fingerprint(), &text[at..]);
    std::fs::write(&s.inst.config, text).unwrap();
    wait_event(&s, "config_reload adding the fingerprint", |r| {
        r.action == "config_reload" && r.object["keys_added"].to_string().contains("vitens tls:")
    });
    assert_eq!(curl(), "000", "a certificate of an untrusted CA got through the handshake");

    // The CA file (and the CRL file) now hold the second CA too: trusted from the next handshake.
    let mut bundle = std::fs::read_to_string(pki.join("ca.crt")).unwrap();
    bundle.push_str(&ca2.cert_pem());
    let mut crls = std::fs::read_to_string(pki.join("ca.crl")).unwrap();
    crls.push_str(&ca2.crl(&[], 1).unwrap());
    std::fs::write(pki.join("ca.crl"), crls).unwrap();
    std::fs::write(pki.join("ca.crt"), bundle).unwrap();
    let start = Instant::now();
    while curl() != "200" {
        assert!(start.elapsed() < Duration::from_secs(20), "the added CA is not trusted: {}", curl());
        std::thread::sleep(Duration::from_millis(200));
    }
    let ev = wait_event(&s, "tls_reload", |r| r.action == "tls_reload" && r.outcome == Outcome::Ok);
    assert!(ev.object["changed"].to_string().contains("client_ca"), "{}", ev.object);
}
