//! Injection strings (SQL, shell, template, JNDI, SSI, format, NUL, CR/LF) wherever a peer
//! can put text: SSH user names, upload names over SFTP and HTTPS, HTTP headers, client
//! certificate subjects and the fields of a signal file. None is evaluated (no marker file,
//! no `49` for `{{7*7}}`), none breaks a log line or the audit chain, and the state database
//! keeps working (MOVEit CVE-2023-34362, CrushFTP CVE-2024-4040, Wing FTP CVE-2025-47812).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{self, Server, local_file, text};
use super::probe;

/// The strings, each once; `{M}` is replaced by the marker path a shell would create.
const STRINGS: [&str; 14] = [
    "' OR '1'='1' --",
    "'; DROP TABLE files; --",
    "$(touch {M})",
    "`touch {M}`",
    ";touch {M}",
    "|touch {M}",
    "{{7*7}}",
    "${7*7}",
    "#{7*7}",
    "${jndi:ldap://127.0.0.1:1/x}",
    "<!--#include virtual=\"/etc/passwd\"--><INCLUDE>",
    "%s%n%x%d",
    "<%= 7*7 %>",
    "\\\"; id #",
];

/// The strings with `{M}` replaced by `marker`.
fn strings(marker: &Path) -> Vec<String> {
    STRINGS.iter().map(|s| s.replace("{M}", &marker.display().to_string())).collect()
}

/// No marker file was made, where the strings pointed or in the daemon's working folder.
fn assert_no_marker(marker: &Path) {
    assert!(!marker.exists(), "a string was evaluated by a shell: {}", marker.display());
    let here: Vec<PathBuf> = std::fs::read_dir(".")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("pwned")))
        .collect();
    assert!(here.is_empty(), "a string was evaluated by a shell: {here:?}");
}

/// Logs in as each name with woonstad's key (and as `mallory`, an ordinary unknown user);
/// prints each outcome: the exception's type and text.
const PY_USERS: &str = r#"
names = json.loads(os.environ["NAMES"]) + ["woonstad\x00", "woonstad\x00admin", "woonstad\r\nx", "mallory"]
out = {}
for n in names:
    t = ssh()
    try:
        t.auth_publickey(n, key("woonstad"))
        out[n] = "logged in"
    except Exception as e:
        out[n] = "%s: %s" % (type(e).__name__, e)
    t.close()
print(json.dumps(out))
"#;

/// Uploads the file `$FILE` under each name into `/inbox`; prints, per name, `ok` or the
/// refusal.
const PY_NAMES: &str = r#"
t = ssh(); t.auth_publickey("woonstad", key("woonstad"))
sftp = paramiko.SFTPClient.from_transport(t)
data = open(os.environ["FILE"], "rb").read()
out = {}
for n in json.loads(os.environ["NAMES"]):
    try:
        with sftp.open("/inbox/" + n, "wb") as f:
            f.write(data)
        out[n] = "ok"
    except IOError as e:
        out[n] = str(e)
t.close()
print(json.dumps(out))
"#;

/// Percent-encodes every byte of `s` that is not unreserved in a URL path.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The receipts of `creditor` by file name.
fn receipt_names(s: &Server, creditor: &str) -> Vec<String> {
    s.receipts(creditor).iter().map(|r| r["file_name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn injection_strings_in_user_names_upload_names_headers_and_certificate_subjects_are_inert() {
    let s = probe::hostile_server();
    let marker = s.tmp.path().join("pwned");
    let tries = strings(&marker);

    // SSH user names: each refused exactly as an unknown user is.
    let env = [("NAMES", serde_json::to_string(&tries).unwrap())];
    let users = probe::python_json(&s, PY_USERS, &env);
    let unknown = users["mallory"].as_str().unwrap().to_owned();
    assert!(unknown.starts_with("AuthenticationException"), "{users}");
    for (name, outcome) in users.as_object().unwrap() {
        assert_eq!(outcome.as_str(), Some(unknown.as_str()), "user {name:?}: {users}");
    }
    assert!(!s.audit().iter().any(|e| e.action == "login" && e.outcome == meldpunt::audit::Outcome::Ok));

    // Upload names over SFTP (a shell would need no '/': `pwned` in its working folder).
    let names: Vec<String> = STRINGS
        .iter()
        .map(|t| format!("{}.csv", t.replace("{M}", "pwned").replace(['/', '\\'], "_")))
        .collect();
    let file = local_file(&s, "inj.csv", &common::sample_csv("S", "woninghuur", 2));
    let env = [("NAMES", serde_json::to_string(&names).unwrap()), ("FILE", file.display().to_string())];
    let sftp = probe::python_json(&s, PY_NAMES, &env);
    for name in &names {
        assert_eq!(sftp[name], "ok", "a harmless single name is taken literally: {name:?} {sftp}");
    }
    let got = receipt_names(&s, "woonstad");
    for name in &names {
        assert_eq!(got.iter().filter(|g| *g == name).count(), 1, "{name:?} receipted by its name: {got:?}");
    }

    // Upload names over HTTPS, with the strings in the headers too.
    let csv = common::sample_csv("H", "elektriciteit", 2);
    let body = format!("@{}", local_file(&s, "h.csv", &csv).display());
    for (i, t) in tries.iter().enumerate() {
        let ua = format!("User-Agent: {t}");
        let custom = format!("X-Meldpunt-Test: {t}");
        let name = format!("{}{i}.csv", names[i].trim_end_matches(".csv"));
        let args = ["-X", "PUT", "--data-binary", &body, "-H", &ua, "-H", &custom];
        let (code, answer) = s.curl("eneco", &args, &format!("/v1/inbox/{}", encode(&name)));
        assert_eq!(code, 201, "{name:?}: {answer}");
        let r: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(r["file_name"], name.as_str(), "{answer}");
    }
    for host in ["{{7*7}}", "localhost'--", "${jndi:ldap://127.0.0.1:1/x}"] {
        let (code, answer) = s.curl("eneco", &["-H", &format!("Host: {host}")], "/v1/receipts");
        assert!(code == 200 || code == 400, "Host: {host}: {code} {answer}");
    }
    // NUL and CR/LF in a name: refused with the rule, never echoed.
    for name in ["a%00b.csv", "a%0D%0AINFO%20forged.csv", "a%0Ab.csv"] {
        let (code, answer) =
            s.curl("eneco", &["-X", "PUT", "--data-binary", &body], &format!("/v1/inbox/{name}"));
        assert_eq!(code, 400, "{name}: {answer}");
        assert!(answer.contains("bad_name") && !answer.contains("forged"), "{name}: {answer}");
    }

    // Certificate subjects: a CN full of strings, with the OIN of a party (known) and without.
    let ca = meldpunt::demo::pki::Ca::from_pem(
        &std::fs::read_to_string(s.inst.dir.join("pki/ca.crt")).unwrap(),
        &std::fs::read_to_string(s.inst.dir.join("pki/ca.key")).unwrap(),
    )
    .unwrap();
    let (party, oin) = meldpunt::demo::setup::OIN_CREDITOR;
    let cn = format!("{} {} {}\r\nINFO forged", tries[0], tries[2], tries[6]);
    let dir = s.tmp.path().join("certs");
    for (label, known) in [("known", Some(oin)), ("unknown", None)] {
        let (cert, key) = (dir.join(format!("{label}.crt")), dir.join(format!("{label}.key")));
        ca.client(&cn, known).unwrap().write(&cert, &key).unwrap();
        let zk = format!(
            "@{}",
            local_file(&s, "zk.csv", &common::sample_csv("Z", "zorgverzekering", 2)).display()
        );
        let (code, answer) =
            s.curl_cert(&cert, &key, &["-X", "PUT", "--data-binary", &zk], &format!("/v1/inbox/{label}.csv"));
        match known {
            Some(_) => assert_eq!(code, 201, "{answer}"),
            None => assert!(code == 403 && answer.contains("unknown_certificate"), "{answer}"),
        }
        assert!(!answer.contains("forged"), "{answer}");
    }
    assert_eq!(receipt_names(&s, party), ["known.csv"], "the known subject filed as {party}");

    assert_no_marker(&marker);
    let all = s.receipts("woonstad").into_iter().chain(s.receipts("eneco"));
    for r in all {
        assert!(!r["file_name"].as_str().unwrap().contains("49"), "evaluated: {r}");
    }
    let forbidden = ["forged", "DROP TABLE", "jndi", "7*7", "INCLUDE", "mallory"];
    probe::assert_log_well_formed(&s, &forbidden);
    probe::assert_audit_clean(&s, &forbidden);
    probe::assert_still_serving(&s, "after_names.csv");
}

/// Three woninghuur records per string: the string is the achternaam of the first, the
/// straatnaam of the second and the plaatsnaam of the third.
fn file_with_strings(tries: &[String]) -> Vec<u8> {
    let fields = ["achternaam", "straatnaam", "plaatsnaam"];
    let edits: Vec<(usize, &str, String)> =
        (0..3 * tries.len()).map(|i| (i, fields[i % 3], tries[i / 3].clone())).collect();
    probe::sample_with("I", "woninghuur", 3 * tries.len() as u64, &edits)
}

/// Decrypts every bundle of both demo municipalities with `age`; returns the plaintexts.
fn bundles(s: &Server) -> Vec<String> {
    let mut out = Vec::new();
    for code in ["GM0505", "GM0642"] {
        let key = s.inst.dir.join("clients").join(code).join("age.key");
        let dir = s.data().join("parties").join(code).join("pickup");
        for p in std::fs::read_dir(&dir).into_iter().flatten().map(|e| e.unwrap().path()) {
            if p.to_string_lossy().ends_with(".json.age") {
                let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(&p).output().unwrap();
                assert!(o.status.success(), "{}", text(&o));
                out.push(String::from_utf8(o.stdout).unwrap());
            }
        }
    }
    out
}

#[test]
fn injection_strings_in_record_fields_are_stored_sealed_and_delivered_literally() {
    let s = probe::hostile_server();
    let marker = s.tmp.path().join("pwned");
    let tries = strings(&marker);
    let f = local_file(&s, "fields.csv", &file_with_strings(&tries));
    let (code, answer) = s.curl("woonstad", &["-T", f.to_str().unwrap()], "/v1/inbox/fields.csv");
    assert_eq!(code, 201, "{answer}");
    let r: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(r["records"]["accepted"], 3 * tries.len(), "every string is data: {r}");

    // Controls in a field are refused by the validator, naming line and field only.
    let edits = [
        (0, "achternaam", "Jan\r\nINFO forged".to_owned()),
        (1, "straatnaam", "Dorps\u{0}straat".to_owned()),
    ];
    let f = local_file(&s, "controls.csv", &probe::sample_with("C", "woninghuur", 3, &edits));
    let (code, answer) = s.curl("woonstad", &["-T", f.to_str().unwrap()], "/v1/inbox/controls.csv");
    assert_eq!(code, 201, "{answer}");
    let r: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        (r["records"]["accepted"].as_u64(), r["records"]["rejected"].as_u64()),
        (Some(1), Some(2)),
        "{r}"
    );
    // A quoted line break makes the second record start on line 4: named by referentie too.
    for (referentie, field) in [("C-00000000", "achternaam"), ("C-00000001", "straatnaam")] {
        let e = r["errors"].as_array().unwrap().iter().find(|e| e["referentie"] == referentie);
        assert_eq!(e.map(|e| e["field"].clone()), Some(field.into()), "{r}");
    }
    assert!(!answer.contains("forged") && !answer.contains("\\u0000"), "not echoed: {answer}");

    common::run_batch(&s);
    let plain = bundles(&s).concat();
    for t in &tries {
        let literal = serde_json::to_string(t).unwrap();
        assert!(plain.contains(&literal), "{literal} delivered as sent");
    }
    assert_no_marker(&marker);
    let forbidden = ["forged", "DROP TABLE", "jndi", "7*7", "INCLUDE"];
    probe::assert_log_well_formed(&s, &forbidden);
    probe::assert_audit_clean(&s, &forbidden);
    probe::assert_still_serving(&s, "after_fields.csv");
}
