//! HTTPS client authentication with a Rust client (rustls) and an rcgen test PKI: OIN
//! mapping, revocation (also after a CRL update while the daemon runs, and when the client
//! offers session resumption), expiry, a foreign CA, unknown certificates; and proof that an
//! upload over HTTPS and over SFTP go through one intake path.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use common::{Server, local_file, sample_csv, text};
use meldpunt::audit::Outcome;
use meldpunt::demo::https_client::HttpsClient;
use meldpunt::demo::pki::{Ca, Issued};
use meldpunt::demo::setup::OIN_CREDITOR;

/// The installation's CA, to issue more certificates.
fn ca_of(s: &Server) -> Ca {
    let dir = s.inst.dir.join("pki");
    Ca::from_pem(
        &std::fs::read_to_string(dir.join("ca.crt")).unwrap(),
        &std::fs::read_to_string(dir.join("ca.key")).unwrap(),
    )
    .unwrap()
}

/// Writes an issued certificate to the scratch folder; returns a client for it.
fn client(s: &Server, name: &str, issued: &Issued) -> HttpsClient {
    let dir = s.tmp.path().join("certs");
    let (cert, key) = (dir.join(format!("{name}.crt")), dir.join(format!("{name}.key")));
    issued.write(&cert, &key).unwrap();
    HttpsClient::new(addr(s), &s.inst.ca_cert(), &cert, &key).unwrap()
}

fn addr(s: &Server) -> std::net::SocketAddr {
    format!("127.0.0.1:{}", s.https_port).parse().unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A server whose CRL is checked every second.
fn server() -> Server {
    Server::start_with(|t| {
        *t = t.replace("crl = [\"pki/ca.crl\"]", "crl = [\"pki/ca.crl\"]\ncrl_check_secs = 1")
    })
}

fn denied_reasons(s: &Server) -> Vec<String> {
    s.audit()
        .into_iter()
        .filter(|e| e.action == "login" && e.outcome == Outcome::Denied)
        .filter_map(|e| e.object.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .collect()
}

/// Whether a denied login with `reason` gets audited (the server audits after the client
/// has already seen the refusal, so this waits a little).
fn audited_denial(s: &Server, reason: &str) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if denied_reasons(s).iter().any(|r| r == reason) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn oin_maps_to_the_party_and_unknown_or_oin_less_certificates_are_refused() {
    let s = server();
    let ca = ca_of(&s);
    let rt = rt();
    let (party, oin) = OIN_CREDITOR;
    // A fresh certificate that only shares the OIN: recognised as that party.
    let c = client(&s, "oin", &ca.client("any name", Some(oin)).unwrap());
    let data = sample_csv("Z", "zorgverzekering", 4);
    let a = rt.block_on(c.request("PUT", "/v1/inbox/zk.csv", &data)).unwrap();
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    assert_eq!(a.json().unwrap()["records"]["accepted"], 4);
    assert_eq!(s.receipts(party).len(), 1, "filed under {party}");
    let ok = s.audit().into_iter().find(|e| e.action == "login" && e.outcome == Outcome::Ok).unwrap();
    assert_eq!(ok.actor, format!("creditor:{party}"));
    assert_eq!(ok.object["by"], "oin");

    // The same CA, no OIN and a fingerprint nobody has: refused on every request.
    let c = client(&s, "nobody", &ca.client("nobody", None).unwrap());
    let a = rt.block_on(c.request("GET", "/v1/receipts", b"")).unwrap();
    assert_eq!(a.status, 403);
    assert_eq!(a.json().unwrap()["error"]["code"], "unknown_certificate");
    // Another OIN.
    let c = client(&s, "other-oin", &ca.client("x", Some("00000009999999999000")).unwrap());
    let a = rt.block_on(c.request("PUT", "/v1/inbox/x.csv", &data)).unwrap();
    assert_eq!(a.status, 403);
    assert_eq!(s.receipts(party).len(), 1, "nothing filed for refused certificates");
    assert!(audited_denial(&s, "unknown_certificate"));
    assert_eq!(denied_reasons(&s).iter().filter(|r| *r == "unknown_certificate").count(), 2);
}

#[test]
fn expired_and_foreign_ca_certificates_are_refused_at_the_handshake() {
    let s = server();
    let ca = ca_of(&s);
    let rt = rt();
    let day = Duration::from_secs(86_400);
    let expired = ca
        .client_valid("old", Some(OIN_CREDITOR.1), SystemTime::now() - 30 * day, SystemTime::now() - day)
        .unwrap();
    let c = client(&s, "expired", &expired);
    assert!(rt.block_on(c.request("GET", "/v1/receipts", b"")).is_err(), "expired certificate refused");
    let other = Ca::new("another CA").unwrap();
    let c = client(&s, "foreign", &other.client("x", Some(OIN_CREDITOR.1)).unwrap());
    assert!(rt.block_on(c.request("GET", "/v1/receipts", b"")).is_err(), "foreign CA refused");
    assert!(audited_denial(&s, "expired"), "{:?}", denied_reasons(&s));
    assert!(audited_denial(&s, "unknown_ca"), "{:?}", denied_reasons(&s));
}

#[test]
fn a_certificate_revoked_while_the_daemon_runs_is_refused_even_when_resumption_is_offered() {
    let s = server();
    let ca = ca_of(&s);
    let rt = rt();
    let issued = ca.client("soon revoked", Some(OIN_CREDITOR.1)).unwrap();
    let c = client(&s, "revoked", &issued);
    // Two requests on two connections with one client config: the second offers resumption.
    let a = rt.block_on(c.request("GET", "/v1/receipts", b"")).unwrap();
    assert_eq!(a.status, 200);
    let b = rt.block_on(c.request("GET", "/v1/receipts", b"")).unwrap();
    assert_eq!(b.status, 200);
    assert!(!a.resumed && !b.resumed, "the server never resumes a session");

    // Revoke it: the CRL file is replaced while the daemon runs.
    let crl = ca.crl(&[issued.serial.as_slice()], 2).unwrap();
    let crl_path: PathBuf = s.inst.dir.join("pki/ca.crl");
    std::fs::write(crl_path.with_extension("new"), crl).unwrap();
    std::fs::rename(crl_path.with_extension("new"), &crl_path).unwrap();
    let start = Instant::now();
    let refused = loop {
        match rt.block_on(c.request("GET", "/v1/receipts", b"")) {
            Err(_) => break true,
            Ok(a) if a.status == 403 => break true,
            Ok(a) => {
                assert!(!a.resumed, "no resumption");
                if start.elapsed() > Duration::from_secs(10) {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    assert!(refused, "the revoked certificate is refused after the CRL reload");
    // And it stays refused.
    assert!(
        rt.block_on(c.request("PUT", "/v1/inbox/r.csv", &sample_csv("R", "zorgverzekering", 2))).is_err()
    );
    assert!(s.receipts(OIN_CREDITOR.0).is_empty());
    assert!(audited_denial(&s, "revoked"), "{:?}", denied_reasons(&s));
    assert!(s.audit().iter().any(|e| e.action == "crl_reload" && e.outcome == Outcome::Ok));
    // A certificate not on the CRL still works.
    let fresh = client(&s, "fresh", &ca.client("fresh", Some(OIN_CREDITOR.1)).unwrap());
    assert_eq!(rt.block_on(fresh.request("GET", "/v1/receipts", b"")).unwrap().status, 200);
}

/// Decrypts every sealed file of a server with the `age` CLI.
fn sealed_plaintext(s: &Server) -> Vec<String> {
    s.sealed_files()
        .iter()
        .map(|f| {
            let period = f.parent().unwrap().file_name().unwrap().to_owned();
            let key = s.data().join("keys/periods").join(period);
            let o = Command::new("age").arg("-d").arg("-i").arg(key).arg(f).output().unwrap();
            assert!(o.status.success(), "{}", text(&o));
            String::from_utf8(o.stdout).unwrap()
        })
        .collect()
}

#[test]
fn the_same_file_over_sftp_and_https_gives_the_same_sealed_content_and_receipt() {
    let mut data = sample_csv("Q", "woninghuur", 30);
    // A bad line and an objection, so more than the happy path is compared.
    let text_data = String::from_utf8(data.clone()).unwrap();
    let mut fields: Vec<String> = text_data.lines().last().unwrap().split(';').map(str::to_owned).collect();
    fields[0] = "Q-bad".into();
    fields[11] = "0000XX".into();
    data.extend_from_slice(format!("{}\n", fields.join(";")).as_bytes());
    fields[0] = "Q-bezwaar".into();
    fields[11] = "3311AB".into();
    fields[21] = "ja".into();
    data.extend_from_slice(format!("{}\n", fields.join(";")).as_bytes());

    let over_sftp = Server::start();
    let f = local_file(&over_sftp, "same.csv", &data);
    let o = over_sftp.sftp(
        "woonstad",
        &over_sftp.key("woonstad"),
        &format!("put {} /inbox/same.csv\n", f.display()),
    );
    assert!(o.status.success(), "{}", text(&o));
    let by_sftp = over_sftp.wait_receipts("woonstad", 1).remove(0);

    let over_https = Server::start();
    let (cert, key) = over_https.inst.tls_pair("woonstad");
    let c = HttpsClient::new(addr(&over_https), &over_https.inst.ca_cert(), &cert, &key).unwrap();
    let a = rt().block_on(c.request("PUT", "/v1/inbox/same.csv", &data)).unwrap();
    assert_eq!(a.status, 201);
    let by_https = a.json().unwrap();
    assert_eq!(by_https, over_https.receipts("woonstad")[0], "the 201 body is the filed receipt");

    let strip = |mut r: serde_json::Value| {
        let o = r.as_object_mut().unwrap();
        o.remove("file_id");
        o.remove("received_at");
        r
    };
    assert_eq!(by_sftp["status"], "accepted_with_errors");
    assert_eq!(strip(by_sftp), strip(by_https), "same receipt apart from id and time");
    let (p1, p2) = (sealed_plaintext(&over_sftp), sealed_plaintext(&over_https));
    assert_eq!(p1.len(), 1);
    assert_eq!(p1, p2, "byte-identical sealed plaintext");
    assert!(p1[0].contains("\"withdrawn\":\"Q-bezwaar\"") && !p1[0].contains("Q-bad"));
}

#[test]
fn a_revocation_reaches_a_keep_alive_connection_opened_before_it() {
    let s = server();
    let ca = ca_of(&s);
    let issued = ca.client("keep-alive", Some(OIN_CREDITOR.1)).unwrap();
    let dir = s.tmp.path().join("certs");
    let (cert, key) = (dir.join("ka.crt"), dir.join("ka.key"));
    issued.write(&cert, &key).unwrap();
    let crl = ca.crl(&[issued.serial.as_slice()], 2).unwrap();
    let crl_new = s.tmp.path().join("revoking.crl");
    std::fs::write(&crl_new, crl).unwrap();
    // One connection: a request, then the CRL is replaced, then a request on the same connection.
    let script = format!(
        r#"
import http.client, os, ssl, sys, time
ctx = ssl.create_default_context(cafile="{ca}")
ctx.load_cert_chain("{cert}", "{key}")
c = http.client.HTTPSConnection("localhost", {port}, context=ctx)
c.request("GET", "/v1/receipts")
r = c.getresponse(); r.read()
print("first", r.status, r.getheader("Connection"))
os.replace("{crl_new}", "{crl}")
time.sleep(3)
c.request("GET", "/v1/receipts")
r = c.getresponse(); body = r.read().decode()
print("second", r.status, body)
"#,
        ca = s.inst.ca_cert().display(),
        cert = cert.display(),
        key = key.display(),
        port = s.https_port,
        crl_new = crl_new.display(),
        crl = s.inst.dir.join("pki/ca.crl").display(),
    );
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(python).arg("-c").arg(script).output().unwrap();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("first 200"), "{out}");
    assert!(
        out.contains("second 403") && out.contains("certificate_refused") && out.contains("revoked"),
        "{out}"
    );
    assert!(audited_denial(&s, "revoked"));
}

#[test]
fn a_certificate_without_the_client_auth_purpose_is_refused_at_the_handshake() {
    use rcgen::ExtendedKeyUsagePurpose as Eku;
    let s = server();
    let ca = ca_of(&s);
    let rt = rt();
    let oin = Some(OIN_CREDITOR.1);
    for (name, purposes) in [("no-eku", vec![]), ("server-only", vec![Eku::ServerAuth])] {
        let c = client(&s, name, &ca.client_with_purposes(name, oin, purposes).unwrap());
        let r = rt.block_on(c.request("GET", "/v1/receipts", b""));
        assert!(r.is_err(), "{name}: accepted with status {:?}", r.map(|a| a.status));
    }
    let refused = || denied_reasons(&s).iter().filter(|r| *r == "not_a_client_certificate").count();
    let start = Instant::now();
    while refused() < 2 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(refused(), 2, "both audited with their reason: {:?}", denied_reasons(&s));
    // The same CA's certificate with clientAuth still works.
    let c = client(&s, "good", &ca.client("good", oin).unwrap());
    let a = rt.block_on(c.request("GET", "/v1/receipts", b"")).unwrap();
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
}
