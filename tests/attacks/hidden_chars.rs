//! Bidi overrides, zero-width and other invisible format characters (issue 20): refused in
//! upload names over HTTPS and SFTP, and in a record's text fields by the validator; none
//! reaches a receipt, a bundle or the audit log.

use std::process::Command;

use super::common::{self, Server, local_file, text};

/// The characters tried, by what they are.
const HIDDEN: [(&str, char); 6] = [
    ("right-to-left override", '\u{202e}'),
    ("zero-width space", '\u{200b}'),
    ("left-to-right isolate", '\u{2066}'),
    ("arabic letter mark", '\u{61c}'),
    ("byte order mark", '\u{feff}'),
    ("word joiner", '\u{2060}'),
];

/// Whether any of the tried characters is in `bytes` (a byte order mark that starts the file,
/// as the CSV bundle has for spreadsheets, is not one of them).
fn has_hidden(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    text.chars().any(|c| HIDDEN.iter().any(|(_, h)| *h == c))
}

/// Tries to open each name in `/inbox` for writing, then renames an unfinished upload to a
/// name with an isolate; prints, per name, `accepted` or the error text.
const PY_NAMES: &str = r#"
import json
t, sftp = connect()
out = {}
for name in json.loads(os.environ["NAMES"]):
    try:
        f = sftp.open("/inbox/" + name, "wb"); f.write(b"x"); f.close(); out[name] = "accepted"
    except IOError as e:
        out[name] = str(e)
f = sftp.open("/inbox/ok.csv.part", "wb"); f.write(b"referentie\n"); f.close()
try:
    sftp.rename("/inbox/ok.csv.part", "/inbox/\u2066ok\u2069.csv"); out["rename"] = "accepted"
except IOError as e:
    out["rename"] = str(e)
t.close()
print(json.dumps(out))
"#;

#[test]
fn upload_names_with_bidi_or_zero_width_characters_are_refused_over_https_and_sftp() {
    let s = Server::start();
    let csv = common::sample_csv("N", "woninghuur", 1);
    let f = local_file(&s, "ok.csv", &csv);
    let body = format!("@{}", f.display());
    for (what, c) in HIDDEN {
        let encoded: String = c.to_string().bytes().map(|b| format!("%{b:02X}")).collect();
        let (code, answer) = s.curl(
            "woonstad",
            &["-X", "PUT", "--data-binary", &body],
            &format!("/v1/inbox/{encoded}vsc.exe.csv"),
        );
        assert_eq!(code, 400, "{what}: {answer}");
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(v["error"]["code"], "bad_name", "{what}: {answer}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("invisible formatting character"),
            "{answer}"
        );
        assert!(!has_hidden(answer.as_bytes()), "{what}: the answer echoes the name: {answer:?}");
    }

    let names: Vec<String> = HIDDEN.iter().map(|(_, c)| format!("{c}vsc.exe.csv")).collect();
    let env = [("NAMES", serde_json::to_string(&names).unwrap())];
    let o = s.paramiko_env("woonstad", &s.key("woonstad"), PY_NAMES, &env);
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for name in names.iter().map(String::as_str).chain(["rename"]) {
        let msg = out[name].as_str().unwrap();
        assert!(msg.contains("invisible formatting character"), "{name:?}: {msg}");
    }
    assert!(s.receipts("woonstad").is_empty(), "nothing was received");
    assert!(s.sealed_files().is_empty(), "nothing was sealed");
    for e in s.audit() {
        assert!(!has_hidden(e.object.to_string().as_bytes()), "audit event {}: {}", e.action, e.object);
    }
}

/// A sample of three woninghuur records; the first two get a hidden character in a text field.
fn file_with_hidden_fields() -> Vec<u8> {
    let text = String::from_utf8(common::sample_csv("B", "woninghuur", 3)).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(';').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let mut out = format!("{}\n", header.join(";"));
    for (i, line) in text.lines().skip(1).enumerate() {
        let mut f: Vec<String> = line.split(';').map(str::to_owned).collect();
        match i {
            0 => f[col("achternaam")] = "Jan\u{202e}nesnaJ".into(),
            1 => f[col("straatnaam")] = "Dorps\u{200b}straat".into(),
            _ => {}
        }
        out.push_str(&f.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn text_fields_with_bidi_or_zero_width_characters_are_rejected_naming_line_and_field() {
    let s = Server::start();
    let f = local_file(&s, "hidden.csv", &file_with_hidden_fields());
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/hidden.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let receipt = &s.wait_receipts("woonstad", 1)[0];
    assert_eq!(receipt["records"]["accepted"], 1, "{receipt}");
    assert_eq!(receipt["records"]["rejected"], 2, "{receipt}");
    let errors = receipt["errors"].as_array().unwrap();
    for (line, field) in [(2, "achternaam"), (3, "straatnaam")] {
        let e = errors.iter().find(|e| e["line"] == line).unwrap_or_else(|| panic!("line {line}: {receipt}"));
        assert_eq!(e["field"], field, "{e}");
        assert_eq!(e["code"], format!("{field}_invalid"), "{e}");
        assert!(e["message"].as_str().unwrap().contains("invisible formatting characters"), "{e}");
    }
    let dir = s.data().join("parties").join("woonstad").join("receipts");
    for r in std::fs::read_dir(&dir).unwrap() {
        let p = r.unwrap().path();
        assert!(!has_hidden(&std::fs::read(&p).unwrap()), "{}", p.display());
    }

    common::run_batch(&s);
    let mut bundles = 0;
    for code in ["GM0505", "GM0642"] {
        let key = s.inst.dir.join("clients").join(code).join("age.key");
        let dir = s.data().join("parties").join(code).join("pickup");
        for p in std::fs::read_dir(&dir).into_iter().flatten().map(|e| e.unwrap().path()) {
            let o = if p.to_string_lossy().ends_with(".age") {
                Command::new("age").arg("-d").arg("-i").arg(&key).arg(&p).output().unwrap()
            } else {
                Command::new("cat").arg(&p).output().unwrap()
            };
            assert!(o.status.success(), "{}", text(&o));
            assert!(!has_hidden(&o.stdout), "{}", p.display());
            bundles += usize::from(p.to_string_lossy().ends_with(".age"));
        }
    }
    assert!(bundles >= 2, "the accepted record was delivered: {bundles} bundles");
    for e in s.audit() {
        assert!(!has_hidden(e.object.to_string().as_bytes()), "audit event {}: {}", e.action, e.object);
    }
}
