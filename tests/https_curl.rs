//! HTTPS intake with the real `curl` (and `openssl s_client` for protocol checks).

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Server, local_file, sample_csv};

#[test]
fn curl_upload_answers_201_with_the_receipt_and_it_can_be_read_back() {
    let s = Server::start();
    let f = local_file(&s, "e.csv", &sample_csv("E", "elektriciteit", 25));
    let (code, body) = s.curl("eneco", &["-T", f.to_str().unwrap()], "/v1/inbox/eneco_2026-11.csv");
    assert_eq!(code, 201, "{body}");
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["records"]["accepted"], 25);
    assert_eq!(r["file_name"], "eneco_2026-11.csv");
    let id = r["file_id"].as_str().unwrap();
    assert_eq!(s.receipts("eneco").len(), 1, "the receipt is also filed in the creditor's folder");
    assert_eq!(s.sealed_files().len(), 1);

    let (code, list) = s.curl("eneco", &[], "/v1/receipts");
    assert_eq!(code, 200, "{list}");
    let base = common::receipt_base(&r);
    assert!(
        list.contains(&format!("\"{base}.json\"")) && list.contains(&format!("\"{base}.txt\"")),
        "{list}"
    );
    let (code, again) = s.curl("eneco", &[], &format!("/v1/receipts/{id}"));
    assert_eq!(code, 200);
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again, r, "GET returns the receipt the PUT answered");
    let (code, txt) = s.curl("eneco", &[], &format!("/v1/receipts/{id}.receipt.txt"));
    assert_eq!(code, 200);
    assert!(txt.contains("accepted"), "{txt}");
    let (code, fb) = s.curl("eneco", &[], "/v1/feedback");
    assert_eq!(code, 200, "{fb}");
    assert!(fb.contains("\"files\":[]"), "{fb}");

    let audit = s.audit();
    assert!(audit.iter().any(|e| e.action == "login"
        && e.actor == "creditor:eneco"
        && e.outcome == meldpunt::audit::Outcome::Ok
        && e.auth.as_deref().is_some_and(|a| a.starts_with("x509:sha256:"))));
    assert!(audit.iter().any(|e| e.action == "upload" && e.actor == "creditor:eneco"));
}

#[test]
fn bad_lines_and_unreadable_files_get_the_same_receipts_as_over_sftp() {
    let s = Server::start();
    let mut data = sample_csv("B", "elektriciteit", 3);
    // A fourth record: a copy of the third with another referentie and a bad postcode (line 5).
    let text = String::from_utf8(data.clone()).unwrap();
    let last = text.lines().last().unwrap();
    let fields: Vec<&str> = last.split(';').collect();
    let mut bad: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    bad[0] = "B-9".into();
    bad[11] = "12345".into();
    data.extend_from_slice(format!("{}\n", bad.join(";")).as_bytes());
    let f = local_file(&s, "b.csv", &data);
    let (code, body) = s.curl("eneco", &["-T", f.to_str().unwrap()], "/v1/inbox/b.csv");
    assert_eq!(code, 201, "{body}");
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["status"], "accepted_with_errors", "{body}");
    assert_eq!(r["errors"][0]["line"], 5);
    assert_eq!(r["errors"][0]["field"], "postcode");

    // The bad byte in the header: a file whose header is whole but lacks columns says
    // columns_missing first, however it is chunked (found by fuzzing).
    let latin1 = b"referentie;soort;caf\xe9\nX;y;z\n".to_vec();
    let f = local_file(&s, "l.csv", &latin1);
    let (code, body) = s.curl("eneco", &["-T", f.to_str().unwrap()], "/v1/inbox/l.csv");
    assert_eq!(code, 201, "{body}");
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["errors"][0]["code"], "encoding_invalid");
}

#[test]
fn a_creditor_cannot_read_another_creditors_receipts() {
    let s = Server::start();
    let f = local_file(&s, "w.csv", &sample_csv("W", "woninghuur", 3));
    let (code, body) = s.curl("woonstad", &["-T", f.to_str().unwrap()], "/v1/inbox/w.csv");
    assert_eq!(code, 201, "{body}");
    let id =
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["file_id"].as_str().unwrap().to_owned();
    let (code, body) = s.curl("eneco", &[], &format!("/v1/receipts/{id}"));
    assert_eq!(code, 404, "{body}");
    let (_, list) = s.curl("eneco", &[], "/v1/receipts");
    assert!(!list.contains(&id), "{list}");
    for trick in [
        format!("/v1/receipts/..%2F..%2Fwoonstad%2Freceipts%2F{id}.receipt.json"),
        format!("/v1/receipts/../../woonstad/receipts/{id}"),
        "/v1/receipts/..".to_owned(),
        "/v1/receipts/%2e%2e".to_owned(),
    ] {
        let (code, body) = s.curl("eneco", &[], &trick);
        assert!(code == 400 || code == 404, "{trick}: {code} {body}");
        assert!(!body.contains("\"sha256\""), "{trick} leaked a receipt: {body}");
    }
    // A municipality may not upload signals.
    let (code, body) = s.curl("GM0505", &["-T", f.to_str().unwrap()], "/v1/inbox/w.csv");
    assert_eq!(code, 403, "{body}");
}

#[test]
fn path_tricks_are_refused_with_400_and_store_nothing() {
    let s = Server::start();
    let f = local_file(&s, "p.csv", &sample_csv("P", "elektriciteit", 2));
    for path in [
        "/v1/inbox/..",
        "/v1/inbox/%2e%2e",
        "/v1/inbox/%2E%2E%2Fx.csv",
        "/v1/inbox/..%2f..%2fetc%2fx.csv",
        "/v1/inbox/..;/x.csv",
        "/v1/inbox/a/b.csv",
        "/v1/inbox/a%00.csv",
        "/v1/inbox/.hidden.csv",
        "/v1/inbox/a%5c..%5cb.csv",
        "/v1/inbox/x.csv.part",
    ] {
        // Not `-T`: curl would resolve `..` and append the file name itself.
        let data = format!("@{}", f.display());
        let (code, body) = s.curl("eneco", &["-X", "PUT", "--data-binary", &data], path);
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains("\"error\"") && body.contains("\"code\""), "{path}: JSON error: {body}");
    }
    assert!(s.receipts("eneco").is_empty());
    assert!(s.sealed_files().is_empty());
    let (code, body) = s.curl("eneco", &[], "/v1/nothing");
    assert_eq!(code, 404, "{body}");
    let (code, body) = s.curl("eneco", &["-X", "DELETE"], "/v1/inbox/x.csv");
    assert_eq!(code, 405, "{body}");
}

#[test]
fn oversize_body_is_413_with_the_limit_and_nothing_is_stored() {
    let s = Server::start_with(|t| t.push_str("\n[intake]\nmax_file_bytes = 2000\n"));
    let f = local_file(&s, "big.csv", &sample_csv("G", "elektriciteit", 40));
    assert!(std::fs::metadata(&f).unwrap().len() > 2000);
    // With Content-Length (refused before reading) and chunked (refused while reading).
    for extra in [&[][..], &["-H", "Transfer-Encoding: chunked"][..]] {
        let mut args = vec!["-T", f.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (code, body) = s.curl("eneco", &args, "/v1/inbox/big.csv");
        assert_eq!(code, 413, "{extra:?}: {body}");
        assert!(body.contains("2000"), "the limit is named: {body}");
    }
    assert!(s.receipts("eneco").is_empty());
    assert!(s.sealed_files().is_empty());
    assert!(s.audit().iter().any(|e| e.action == "upload" && e.outcome == meldpunt::audit::Outcome::Denied));
}

#[test]
fn curl_killed_mid_upload_leaves_nothing() {
    let s = Server::start();
    let f = local_file(&s, "slow.csv", &sample_csv("S", "elektriciteit", 3000));
    let (cert, key) = s.inst.tls_pair("eneco");
    let mut child = Command::new("curl")
        .args(["-sS", "--limit-rate", "50k", "--cacert"])
        .arg(s.inst.ca_cert())
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .arg("-T")
        .arg(&f)
        .arg(format!("https://localhost:{}/v1/inbox/slow.csv", s.https_port))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.receipts("eneco").is_empty(), "no receipt for a cut-off upload");
    assert!(s.sealed_files().is_empty(), "nothing sealed");
    let tmp = s.data().join("vault/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp).map(|r| r.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "temporary sealed file removed: {left:?}");
}

#[test]
fn a_body_shorter_than_its_content_length_is_not_processed() {
    let s = Server::start();
    let (cert, key) = s.inst.tls_pair("eneco");
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let body = sample_csv("L", "elektriciteit", 5);
    let script = format!(
        r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile="{ca}")
ctx.load_cert_chain("{cert}", "{key}")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", {port})), server_hostname="localhost")
body = open(sys.argv[1], "rb").read()
s.sendall(b"PUT /v1/inbox/short.csv HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % (len(body) + 1000))
s.sendall(body)
s.close()
print("sent")
"#,
        ca = s.inst.ca_cert().display(),
        cert = cert.display(),
        key = key.display(),
        port = s.https_port
    );
    let f = local_file(&s, "short.csv", &body);
    let o = Command::new(python).arg("-c").arg(script).arg(&f).output().unwrap();
    assert!(o.status.success(), "{}", common::text(&o));
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.receipts("eneco").is_empty());
    assert!(s.sealed_files().is_empty());
}

/// `openssl s_client` with the given options; true if the handshake completed.
fn handshake(s: &Server, opts: &[&str]) -> (bool, String) {
    let (cert, key) = s.inst.tls_pair("eneco");
    let o = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{}", s.https_port), "-CAfile"])
        .arg(s.inst.ca_cert())
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .args(opts)
        .stdin(Stdio::null())
        .output()
        .expect("openssl (scripts/test installs it)");
    let out = common::text(&o);
    let ok = out.contains("Verify return code: 0") && !out.contains("alert") && o.status.success();
    (ok, out)
}

#[test]
fn tls_1_1_and_cbc_suites_are_refused_good_suites_work() {
    let s = Server::start();
    let (ok, out) = handshake(&s, &["-tls1_3"]);
    assert!(ok, "TLS 1.3 works: {out}");
    let (ok, out) = handshake(&s, &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]);
    assert!(ok, "TLS 1.2 with ECDHE + AES-GCM works: {out}");
    let (ok, out) =
        handshake(&s, &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:AES128-SHA"]);
    assert!(!ok, "CBC suites are refused: {out}");
    let (ok, out) = handshake(&s, &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]);
    assert!(!ok, "TLS 1.1 is refused: {out}");
}

#[test]
fn admin_listener_counts_per_protocol_and_nothing_of_it_is_public() {
    let s = Server::start();
    assert_ne!(s.admin_port, 0, "the readiness line names the admin address");
    let f = local_file(&s, "m.csv", &sample_csv("M", "elektriciteit", 7));
    let (code, body) = s.curl("eneco", &["-T", f.to_str().unwrap()], "/v1/inbox/m.csv");
    assert_eq!(code, 201, "{body}");
    let o = s.sftp("woonstad", &s.key("woonstad"), "ls /receipts\n");
    assert!(o.status.success());
    let admin = |path: &str| {
        let o = Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}"])
            .arg(format!("http://127.0.0.1:{}{path}", s.admin_port))
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let health = admin("/healthz");
    assert!(health.ends_with("200") && health.contains("\"ok\""), "{health}");
    let metrics = admin("/metrics");
    for line in [
        "meldpunt_uploads_total{protocol=\"https\",status=\"accepted\"} 1",
        "meldpunt_records_total{outcome=\"accepted\"} 7",
        "meldpunt_logins_total{protocol=\"https\",outcome=\"ok\"} 1",
        "meldpunt_logins_total{protocol=\"sftp\",outcome=\"ok\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    assert!(admin("/v1/receipts").ends_with("404"), "no API on the admin port");
    // And no admin surface on the public port.
    for path in ["/metrics", "/healthz"] {
        let (code, _) = s.curl("eneco", &[], path);
        assert_eq!(code, 404, "{path} on the HTTPS port");
    }
}
