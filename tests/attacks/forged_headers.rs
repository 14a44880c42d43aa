//! Headers that some gateways trust in place of the TLS client certificate (CrushFTP
//! CVE-2025-31161, GoAnywhere CVE-2024-0204 through a proxy): `X-Forwarded-*`, `X-Real-IP`,
//! `X-Client-Cert`, `X-SSL-Client-*`, `Authorization` and cookies. Without a certificate
//! nothing is served; with creditor A's certificate and headers naming B, everything acts as
//! A; the admin surface is not on the public port whatever the headers say.

use super::common::{self, local_file};
use super::probe;

/// Headers that name `who` (a party) in every way a proxy or a session might.
fn forged(s: &super::common::Server, who: &str) -> Vec<String> {
    let pem = std::fs::read_to_string(s.inst.tls_pair(who).0).unwrap();
    let one_line: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    vec![
        "X-Forwarded-For: 127.0.0.1, 203.0.113.7".into(),
        "X-Forwarded-Proto: https".into(),
        "X-Forwarded-Host: admin.localhost".into(),
        "X-Forwarded-User: ".to_owned() + who,
        "X-Real-IP: 203.0.113.7".into(),
        format!("X-Client-Cert: {one_line}"),
        format!("X-SSL-Client-Cert: {one_line}"),
        format!("X-SSL-Client-S-DN: CN={who}"),
        "X-SSL-Client-Verify: SUCCESS".into(),
        format!("X-Remote-User: {who}"),
        // `woonstad:x`; with another name it is merely some other credential.
        "Authorization: Basic d29vbnN0YWQ6eA==".into(),
        format!("Authorization: Bearer {who}"),
        format!("Cookie: party={who}; session=00000000; CrushAuth={who}"),
    ]
}

/// Sends each raw request on a TLS connection with `$PARTY`'s certificate (none when empty);
/// prints, per request, the status lines it got (none when the handshake or the first read is
/// refused).
const PY_RAW: &str = r#"
out = {}
for i, raw in enumerate(json.loads(os.environ["REQUESTS"])):
    try:
        got = statuses(http(tls(os.environ["PARTY"] or None), raw.encode()))
    except (ssl.SSLError, OSError) as e:
        got = []
    out[str(i)] = got
print(json.dumps(out))
"#;

#[test]
fn forged_identity_headers_never_stand_in_for_the_client_certificate() {
    let s = probe::hostile_server();
    // woonstad's receipt, which eneco will try to read while naming woonstad.
    let w = local_file(&s, "w.csv", &common::sample_csv("W", "woninghuur", 2));
    let (code, answer) = s.curl("woonstad", &["-T", w.to_str().unwrap()], "/v1/inbox/w.csv");
    assert_eq!(code, 201, "{answer}");
    let theirs =
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()["file_id"].as_str().unwrap().to_owned();

    // No certificate, every header: refused at the handshake, nothing served.
    let headers = forged(&s, "woonstad").join("\r\n");
    let requests: Vec<String> = ["GET /v1/receipts", "GET /v1/receipts/x", "PUT /v1/inbox/n.csv"]
        .iter()
        .map(|r| format!("{r} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\nContent-Length: 0\r\n\r\n"))
        .collect();
    let env = [("REQUESTS", serde_json::to_string(&requests).unwrap()), ("PARTY", String::new())];
    let out = probe::python_json(&s, PY_RAW, &env);
    for (i, got) in out.as_object().unwrap() {
        assert_eq!(got, &serde_json::json!([]), "request {i} without a certificate was answered: {out}");
    }
    // The same bytes with a certificate are answered (the requests themselves are fine).
    let env = [("REQUESTS", serde_json::to_string(&requests[..1]).unwrap()), ("PARTY", "vitens".into())];
    assert_eq!(probe::python_json(&s, PY_RAW, &env)["0"], serde_json::json!([200]));

    // eneco's certificate, headers naming woonstad: everything acts as eneco.
    let mut args: Vec<String> = Vec::new();
    for h in forged(&s, "woonstad") {
        args.extend(["-H".into(), h]);
    }
    let with = |extra: &[&str]| -> Vec<String> {
        extra.iter().map(|e| e.to_string()).chain(args.iter().cloned()).collect()
    };
    let e = local_file(&s, "e.csv", &common::sample_csv("E", "elektriciteit", 2));
    let put = with(&["-T", e.to_str().unwrap()]);
    let put: Vec<&str> = put.iter().map(String::as_str).collect();
    let (code, answer) = s.curl("eneco", &put, "/v1/inbox/forged.csv");
    assert_eq!(code, 201, "{answer}");
    assert_eq!(s.receipts("eneco").len(), 1, "filed as eneco");
    assert_eq!(s.receipts("woonstad").len(), 1, "nothing filed as woonstad");
    let get = with(&[]);
    let get: Vec<&str> = get.iter().map(String::as_str).collect();
    let (code, answer) = s.curl("eneco", &get, &format!("/v1/receipts/{theirs}"));
    assert_eq!(code, 404, "{answer}");
    let (code, answer) = s.curl("eneco", &get, "/v1/receipts");
    assert!(code == 200 && !answer.contains(&theirs), "{answer}");
    // A municipality naming a creditor may still not upload signals.
    let (code, answer) = s.curl("GM0505", &put, "/v1/inbox/gm.csv");
    assert_eq!(code, 403, "{answer}");

    // The admin surface is not on the public port, with or without the headers.
    for path in ["/metrics", "/healthz", "/readyz", "/admin", "/admin/", "/debug", "/v1/admin"] {
        for a in [&get[..], &[][..]] {
            let (code, answer) = s.curl("eneco", a, path);
            assert!(code == 404 || code == 405, "{path}: {code} {answer}");
            assert!(!answer.contains("meldpunt_") && !answer.contains("# TYPE"), "{path}: {answer}");
        }
    }

    // The audit names the real peer and the certificate's party, never a header's.
    let audit = s.audit();
    for e in &audit {
        let line = serde_json::to_string(e).unwrap();
        assert!(!line.contains("203.0.113.7"), "a forwarded address in the audit: {line}");
    }
    let upload = audit.iter().rfind(|e| e.action == "upload").unwrap();
    assert_eq!(upload.actor, "creditor:eneco");
    probe::assert_log_well_formed(&s, &["203.0.113.7"]);
    probe::assert_audit_clean(&s, &[]);
}
