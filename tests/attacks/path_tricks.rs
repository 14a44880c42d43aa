//! Path tricks against every folder both transports serve (GoAnywhere CVE-2024-0204 `/..;/`,
//! SFTPGo CVE-2025-24366/CVE-2026-30914 virtual-folder escapes): `..`, `%2e%2e`, `..%2f`,
//! `/..;/`, `\`, `//`, a trailing dot or space, names of 300 and 5000 bytes, Unicode
//! look-alikes of `.` and `/` (U+2024, U+FE52, U+FF0F, U+2215) and NUL, on inbox uploads,
//! pickup downloads, feedback uploads and receipts, over SFTP (paramiko, raw names) and HTTPS
//! (curl `--path-as-is`). Each is refused with a clear answer or taken as one literal name in
//! the party's own folder; a scan of the data folder shows nothing written anywhere else and
//! no other party's file served. (The basic escapes: `tests/sftp_openssh.rs`
//! `path_escapes_symlinks_and_other_operations_are_refused`, `tests/sftp_paramiko.rs`
//! `every_escape_is_answered_with_sftp_permission_denied`, `tests/https_curl.rs`
//! `path_tricks_are_refused_with_400_and_store_nothing`, `tests/pickup.rs`
//! `a_municipality_cannot_reach_another_ones_bundles_by_any_path`.)

use super::common::{self, Server, local_file};
use super::probe;

/// Names a client could give a file, each a trick.
fn tricky_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "..",
        "../x.csv",
        "..\\x.csv",
        "a\\..\\..\\x.csv",
        "%2e%2e",
        "%2e%2e%2fx.csv",
        "..;",
        "..;x.csv",
        "x.csv.",
        "x.csv ",
        "x.csv..",
        "\u{2024}\u{2024}",
        "\u{2024}\u{2024}\u{ff0f}x.csv",
        "\u{fe52}\u{fe52}\u{ff0f}\u{fe52}\u{fe52}\u{ff0f}x.csv",
        "a\u{2215}..\u{2215}x.csv",
        "x.csv\u{0}.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    names.push(format!("{}.csv", "a".repeat(296)));
    names.push(format!("{}.csv", "a".repeat(4996)));
    names
}

/// Whether an answer is a clear refusal of a name: it says which rule was broken.
fn clear(answer: &str) -> bool {
    let answer = answer.to_lowercase();
    [
        "not allowed",
        "no subfolders",
        "too long",
        "longer than",
        "single name",
        "empty or a dot",
        "control",
        "starts with '.'",
        "must end in",
        "no such file",
        "not_found",
        "bad_name",
    ]
    .iter()
    .any(|m| answer.contains(m))
}

/// Runs each `[op, path]` of `$TRIES` as `$WHO` (`put` writes `$FILE`, `get` reads); prints,
/// per try, `ok` (with the bytes read for a get) or the refusal.
const PY_TRIES: &str = r#"
who = os.environ["WHO"]
t = ssh(); t.auth_publickey(who, key(who))
sftp = paramiko.SFTPClient.from_transport(t)
data = open(os.environ["FILE"], "rb").read()
out = []
for op, path in json.loads(os.environ["TRIES"]):
    try:
        if op == "put":
            with sftp.open(path, "wb") as f:
                f.write(data)
            out.append("ok")
        elif op == "get":
            with sftp.open(path, "rb") as f:
                out.append("ok read %d" % len(f.read()))
    except (IOError, OSError) as e:
        out.append("refused: %s" % e)
t.close()
print(json.dumps(out))
"#;

/// Runs [`PY_TRIES`] as `who`; returns the outcomes, in order.
fn sftp_tries(s: &Server, who: &str, file: &std::path::Path, tries: &[(&str, String)]) -> Vec<String> {
    let env = [
        ("WHO", who.to_owned()),
        ("FILE", file.display().to_string()),
        ("TRIES", serde_json::to_string(tries).unwrap()),
    ];
    let out = probe::python_json(s, PY_TRIES, &env);
    out.as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_owned()).collect()
}

/// Percent-encodes the bytes of `s` that curl would not send as they are; keeps `%` so that
/// names like `%2e%2e` go out encoded once, as written.
fn url(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' | b'%' | b';' | b'\\' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn path_tricks_on_every_folder_are_refused_or_stay_one_literal_name_in_the_own_folder() {
    let s = probe::hostile_server();
    let w = local_file(&s, "w.csv", &common::sample_csv("P", "woninghuur", 40));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/w.csv\n", w.display()));
    assert!(o.status.success(), "{}", common::text(&o));
    common::run_batch(&s);
    let victim = std::fs::read_dir(s.data().join("parties/GM0642/pickup"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".age"))
        .expect("GM0642 has a bundle");
    let before = probe::data_files(&s);
    let names = tricky_names();

    // Inbox uploads over SFTP.
    let puts: Vec<(&str, String)> = names.iter().map(|n| ("put", format!("/inbox/{n}"))).collect();
    let got = sftp_tries(&s, "woonstad", &w, &puts);
    let mut literal = Vec::new();
    for ((_, path), outcome) in puts.iter().zip(&got) {
        if outcome == "ok" {
            literal.push(path.trim_start_matches("/inbox/").to_owned());
        } else {
            assert!(clear(outcome), "{path:?}: {outcome}");
        }
    }
    let receipted: Vec<_> = s.receipts("woonstad").into_iter().map(|r| r["file_name"].clone()).collect();
    for name in &literal {
        assert!(receipted.contains(&serde_json::json!(name)), "{name:?} receipted literally: {receipted:?}");
    }
    // Inbox uploads over HTTPS.
    let body =
        format!("@{}", local_file(&s, "e.csv", &common::sample_csv("Q", "elektriciteit", 2)).display());
    for n in &names {
        let (code, answer) =
            s.curl("eneco", &["-X", "PUT", "--data-binary", &body], &format!("/v1/inbox/{}", url(n)));
        match code {
            201 => {
                let r: serde_json::Value = serde_json::from_str(&answer).unwrap();
                assert_eq!(r["file_name"].as_str(), Some(n.as_str()), "taken, then literally: {answer}");
            }
            _ => assert!((400..500).contains(&code) && clear(&answer), "{n:?}: {code} {answer}"),
        }
    }
    for path in ["/v1//inbox/x.csv", "/v1/inbox//x.csv", "/v1/..;/inbox/x.csv", "/v1/inbox/..;/..;/x.csv"] {
        let (code, answer) = s.curl("eneco", &["-X", "PUT", "--data-binary", &body], path);
        assert!((400..500).contains(&code), "{path}: {code} {answer}");
    }

    // Pickup downloads and listings, feedback uploads, receipts: nothing of another party.
    let mut tricks: Vec<String> = names.clone();
    tricks.extend([
        format!("../GM0642/pickup/{victim}"),
        format!("..\\GM0642\\pickup\\{victim}"),
        format!("\u{2024}\u{2024}\u{ff0f}GM0642\u{ff0f}pickup\u{ff0f}{victim}"),
        format!("..;/GM0642/pickup/{victim}"),
        format!("/../../GM0642/pickup/{victim}"),
        format!("{victim}."),
        format!("{victim} "),
    ]);
    let gets: Vec<(&str, String)> = tricks
        .iter()
        .flat_map(|t| [("get", format!("/pickup/{t}")), ("get", format!("/receipts/{t}"))])
        .chain(tricks.iter().map(|t| ("put", format!("/feedback/{t}"))))
        .collect();
    let got = sftp_tries(&s, "GM0505", &w, &gets);
    for ((op, path), outcome) in gets.iter().zip(&got) {
        if op == &"put" && outcome == "ok" {
            continue; // a literal feedback name: checked by the scan below
        }
        assert!(outcome.starts_with("refused") && clear(outcome), "{op} {path:?}: {outcome}");
    }
    for t in &tricks {
        for path in [format!("/v1/pickup/{}", url(t)), format!("/v1/receipts/{}", url(t))] {
            let (code, answer) = s.curl("GM0505", &[], &path);
            assert!((400..500).contains(&code) && clear(&answer), "{path}: {code} {answer}");
        }
        let (code, answer) =
            s.curl("GM0505", &["--data-binary", &body], &format!("/v1/feedback?name={}", url(t)));
        assert!(
            code == 201 || ((400..500).contains(&code) && clear(&answer)),
            "feedback {t:?}: {code} {answer}"
        );
    }

    // Everything new is in the uploaders' own folders (or sealed in the vault).
    let after = probe::data_files(&s);
    let own =
        ["parties/woonstad/", "parties/eneco/", "parties/GM0505/", "vault/", "state.db", "keys/periods/"];
    for f in after.difference(&before) {
        assert!(own.iter().any(|o| f.starts_with(o)), "written outside the own folders: {f}");
    }
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(gone.is_empty(), "files vanished: {gone:?}");
    assert!(after.contains(&format!("parties/GM0642/pickup/{victim}")), "the victim's bundle is untouched");
    assert!(!literal.is_empty(), "some tricky names are plain names and were taken");
    probe::assert_log_well_formed(&s, &[]);
    probe::assert_audit_clean(&s, &[]);
    probe::assert_still_serving(&s, "after_paths.csv");
}
