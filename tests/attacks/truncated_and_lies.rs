//! Uploads that end early or lie about their length: a `Content-Length` larger than the body
//! then a close, a chunked body cut mid-chunk, a chunk that is shorter than its size line, a
//! chunk size that is not hex, and an SFTP upload whose connection goes without closing the
//! handle. None gets a receipt, nothing partial stays in the vault, and a good upload of the
//! same name is accepted afterwards. A `Content-Length` smaller than the body files exactly
//! the declared bytes and the rest is refused as a request of its own.
//! (Killed clients mid-upload: `tests/https_curl.rs` `curl_killed_mid_upload_leaves_nothing`
//! and `tests/sftp_paramiko.rs` `client_killed_mid_upload_leaves_nothing`.)

use std::time::Duration;

use super::common::{self, local_file};
use super::probe;

/// Sends each cut-off upload of `$CSV` as `same.csv`, closing the connection after it; then
/// the short-length one as `short.csv`; then half of `$CSVW` over SFTP, dropping the
/// connection with the handle open. Prints the statuses each got.
const PY_CUT: &str = r#"
csv = open(os.environ["CSV"], "rb").read()
put = b"PUT /v1/inbox/same.csv HTTP/1.1\r\nHost: localhost\r\n"
half = len(csv) // 2
cuts = {
    "length_larger_than_body": put + b"Content-Length: %d\r\n\r\n" % (len(csv) + 1000) + csv,
    "cut_mid_chunk": put + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(csv) + csv[:half],
    "chunk_shorter_than_its_size": put + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % (len(csv) + 64) + csv + b"\r\n0\r\n\r\n",
    "chunk_size_not_hex": put + b"Transfer-Encoding: chunked\r\n\r\n" + b"zz\r\n" + csv + b"\r\n0\r\n\r\n",
}
out = {}
for name, raw in cuts.items():
    s = tls("eneco")
    s.sendall(raw)
    s.settimeout(1.0)
    try:
        got = s.recv(4096).decode("latin-1")
    except (socket.timeout, ssl.SSLError, OSError):
        got = ""
    s.close()
    out[name] = statuses(got)
short = b"PUT /v1/inbox/short.csv HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % half + csv
out["length_smaller_than_body"] = statuses(http(tls("eneco"), short))
out["half"] = half
t = ssh(); t.auth_publickey("woonstad", key("woonstad"))
sftp = paramiko.SFTPClient.from_transport(t)
w = open(os.environ["CSVW"], "rb").read()
f = sftp.open("/inbox/same.csv", "wb"); f.write(w[:len(w) // 2]); f.flush()
t.close()
print(json.dumps(out))
"#;

#[test]
fn uploads_cut_short_or_lying_about_their_length_leave_nothing_and_the_name_stays_usable() {
    let s = probe::hostile_server();
    let e = common::sample_csv("T", "elektriciteit", 200);
    let csv = local_file(&s, "cut.csv", &e);
    let csvw = local_file(&s, "cutw.csv", &common::sample_csv("T", "woninghuur", 200));
    let env = [("CSV", csv.display().to_string()), ("CSVW", csvw.display().to_string())];
    let out = probe::python_json(&s, PY_CUT, &env);
    for cut in ["length_larger_than_body", "cut_mid_chunk", "chunk_shorter_than_its_size"] {
        let got = out[cut].as_array().unwrap();
        assert!(got.iter().all(|c| c.as_u64().unwrap() >= 400), "{cut} answered as a success: {out}");
    }
    assert_eq!(out["chunk_size_not_hex"], serde_json::json!([400]), "{out}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(s.receipts("woonstad").is_empty(), "no receipt for the SFTP upload left open");
    let eneco = s.receipts("eneco");
    assert!(eneco.iter().all(|r| r["file_name"] != "same.csv"), "a cut upload was receipted: {eneco:?}");

    // The shorter length: exactly the declared bytes are the file; the rest is no request.
    assert_eq!(out["length_smaller_than_body"], serde_json::json!([201, 400]), "{out}");
    assert_eq!(eneco.len(), 1, "{eneco:?}");
    assert_eq!(
        (eneco[0]["file_name"].as_str(), eneco[0]["bytes"].as_u64()),
        (Some("short.csv"), out["half"].as_u64())
    );
    assert_eq!(s.sealed_files().len(), 1, "only short.csv is sealed: {:?}", s.sealed_files());
    let tmp = s.data().join("vault/tmp");
    let left: Vec<_> =
        std::fs::read_dir(&tmp).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "partial uploads left in the vault: {left:?}");

    // The same name, uploaded properly, is taken.
    let (code, answer) = s.curl("eneco", &["-T", csv.to_str().unwrap()], "/v1/inbox/same.csv");
    assert_eq!(code, 201, "{answer}");
    let r: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(r["status"], "accepted", "{r}");
    assert_eq!(r["bytes"].as_u64(), Some(e.len() as u64));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/same.csv\n", csvw.display()));
    assert!(o.status.success(), "{}", common::text(&o));
    assert_eq!(s.wait_receipts("woonstad", 1)[0]["status"], "accepted");
    probe::assert_log_well_formed(&s, &[]);
    probe::assert_audit_clean(&s, &[]);
}
