//! Attacks on the real daemon, one test file per class (issue 20), and where each class of
//! the issue is covered. 20 tests in this binary: the two below and 18 in 14 modules of
//! `attacks/` (`attacks/probe.rs` holds their shared helpers). The table maps the 11 breach
//! classes the issue names, and 10 more, to tests here and elsewhere. The tests built on
//! `probe.rs` end, where it applies, by checking that every line of the daemon's log is one
//! well-formed line, that `meldpunt audit verify` passes and that a legitimate upload still
//! works. Their daemon's defender bans are raised (`probe::hostile_server`) so that one
//! address can try everything; the bans themselves are tested in `tests/defender.rs`.
//!
//! | class (breach) | tests |
//! |---|---|
//! | pre-auth SQL injection through headers (MOVEit CVE-2023-34362) | `injection::injection_strings_in_user_names_upload_names_headers_and_certificate_subjects_are_inert`, `injection::injection_strings_in_record_fields_are_stored_sealed_and_delivered_literally` |
//! | SFTP authentication bypass through error handling (MOVEit CVE-2024-5806) | `key_blobs::malformed_keys_queries_and_forged_signatures_never_log_in`; `tests/sftp_openssh.rs` `wrong_key_unknown_user_and_password_are_refused_and_audited`; `tests/defender.rs` `none_authentication_probes_write_no_audit_row_each_and_get_the_address_banned` |
//! | deserialisation with a static or forged key (GoAnywhere CVE-2023-0669, CVE-2025-10035) | `static_keys::two_installations_share_no_key`; no client object is deserialised: `tests/corpus.rs` `every_corpus_file_gets_exactly_its_expected_receipt` |
//! | `/..;/` and other path tricks (GoAnywhere CVE-2024-0204) | `path_tricks::path_tricks_on_every_folder_are_refused_or_stay_one_literal_name_in_the_own_folder`; `tests/https_curl.rs` `path_tricks_are_refused_with_400_and_store_nothing`, `a_creditor_cannot_read_another_creditors_receipts`; `tests/pickup.rs` `a_municipality_cannot_reach_another_ones_bundles_by_any_path` |
//! | traversal into an auto-run folder (Cleo CVE-2024-50623, CVE-2024-55956) | `autorun::a_creditor_writes_only_into_its_inbox_never_a_folder_the_daemon_processes`, `autorun::a_link_planted_in_a_spool_folder_never_redirects_the_daemons_writes` (found a bug, fixed in `src/transport/spool.rs`) |
//! | template injection escaping the virtual file system (CrushFTP CVE-2024-4040) | `injection::*` (`{{7*7}}`, `${7*7}`, `<INCLUDE>`, `<%= %>`); `path_tricks::*` |
//! | header authentication bypass (CrushFTP CVE-2025-31161) | `forged_headers::forged_identity_headers_never_stand_in_for_the_client_certificate`; `tests/https_pki.rs` (OIN, expired, foreign CA, revoked, no clientAuth purpose) |
//! | a NUL byte cutting a user name (Wing FTP CVE-2025-47812) | `injection::injection_strings_in_user_names_upload_names_headers_and_certificate_subjects_are_inert` (`woonstad\0`, `woonstad\0admin`) |
//! | protocol messages accepted before login (Erlang/OTP SSH CVE-2025-32433) | `before_auth::ssh_connection_messages_before_authentication_get_no_channel_and_run_nothing` |
//! | argument injection and virtual-folder escapes (SFTPGo CVE-2025-24366, CVE-2026-30914) | `links_and_races::links_in_both_argument_orders_hard_links_and_renames_onto_links_are_refused`, `links_and_races::a_party_folder_swapped_for_a_link_is_never_read_or_listed_through` (found a bug, fixed in `src/transport/folders/`); `path_tricks::*`; `injection::*` (shell strings); `tests/sftp_openssh.rs` `path_escapes_symlinks_and_other_operations_are_refused`; `tests/sftp_paramiko.rs` `every_escape_is_answered_with_sftp_permission_denied`; `src/transport/folders/beneath.rs` unit tests |
//! | a signal-handler race at the login grace time (OpenSSH CVE-2024-6387) | `stale_login::stale_logins_are_cut_at_the_timeout_while_a_legitimate_upload_goes_through` (found a race between a login and the timeout, fixed in `src/transport/sftp/`) |
//! | request smuggling | `smuggling::ambiguous_request_framing_is_refused_or_read_as_one_request_and_nothing_is_smuggled` |
//! | truncated uploads and `Content-Length` lies | `truncated_and_lies::uploads_cut_short_or_lying_about_their_length_leave_nothing_and_the_name_stays_usable`; `tests/https_curl.rs` `curl_killed_mid_upload_leaves_nothing`, `a_body_shorter_than_its_content_length_is_not_processed`; `tests/sftp_paramiko.rs` `client_killed_mid_upload_leaves_nothing` |
//! | CSV formula injection into bundles | `a_formula_in_a_record_reaches_the_csv_bundle_neutralised` (below) |
//! | bundles readable by others | `no_file_in_a_pickup_folder_is_readable_by_others` (below) |
//! | bidi and zero-width characters | `hidden_chars::upload_names_with_bidi_or_zero_width_characters_are_refused_over_https_and_sftp`, `hidden_chars::text_fields_with_bidi_or_zero_width_characters_are_rejected_naming_line_and_field` |
//! | a feedback upload renamed to another kind of file | `feedback_names::a_feedback_upload_renamed_to_a_non_terugmelding_name_is_refused_and_not_processed` |
//! | floods, slow-loris, guessing, header floods | `reorder_memory::*` (out-of-order writes); `tests/defender.rs` (all six tests) |
//! | weak algorithms, downgrade, Terrapin | `tests/offer.rs` (all five tests); `tests/sftp_openssh.rs` `server_offers_strict_kex_against_terrapin`; `tests/https_curl.rs` `tls_1_1_and_cbc_suites_are_refused_good_suites_work` |
//! | oversized SFTP packets, huge READs, thousands of handles, many tiny files and other limits | `tests/limits.rs` |
//! | malformed signal and feedback files | `tests/corpus.rs` |

mod common;

#[path = "attacks/autorun.rs"]
mod autorun;
#[path = "attacks/before_auth.rs"]
mod before_auth;
#[path = "attacks/feedback_names.rs"]
mod feedback_names;
#[path = "attacks/forged_headers.rs"]
mod forged_headers;
#[path = "attacks/hidden_chars.rs"]
mod hidden_chars;
#[path = "attacks/injection.rs"]
mod injection;
#[path = "attacks/key_blobs.rs"]
mod key_blobs;
#[path = "attacks/links_and_races.rs"]
mod links_and_races;
#[path = "attacks/path_tricks.rs"]
mod path_tricks;
#[path = "attacks/probe.rs"]
mod probe;
#[path = "attacks/reorder_memory.rs"]
mod reorder_memory;
#[path = "attacks/smuggling.rs"]
mod smuggling;
#[path = "attacks/stale_login.rs"]
mod stale_login;
#[path = "attacks/static_keys.rs"]
mod static_keys;
#[path = "attacks/truncated_and_lies.rs"]
mod truncated_and_lies;

use std::process::Command;

use common::{Server, local_file, text};

/// The formula-like values, by column of the signal file, and what the CSV bundle must hold.
/// `voorvoegsel` starts with a space that validation trims, which used to make it live.
const FORMULAS: [(&str, &str, &str); 8] = [
    ("voorletters", "-2+3", "'-2+3"),
    ("voorvoegsel", " =1+1", "'=1+1"),
    ("achternaam", "@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("straatnaam", "=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("huisnummertoevoeging", "=1", "'=1"),
    ("plaatsnaam", "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("telefoonnummer", "+31 6 1234 5678", "'+31 6 1234 5678"),
    ("email", "=a@b.nl", "'=a@b.nl"),
];

/// Reads the CSV bundle: every cell's first character, and the row of referentie `R`.
const PY_CHECK: &str = r#"
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline=""), delimiter=";"))
header, body = rows[0], rows[1:]
live = [(i, header[j], c) for i, r in enumerate(body) for j, c in enumerate(r) if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
print(json.dumps({"live": live, "rows": len(body), "header": header, "cells": body}))
"#;

/// One valid woninghuur record of the demo's samples, with the formula values put in.
fn formula_file() -> Vec<u8> {
    let csv = common::sample_csv("F", "woninghuur", 1);
    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let mut record: Vec<String> = lines.next().unwrap().split(';').map(str::to_owned).collect();
    for (column, value, _) in FORMULAS {
        let i = header.iter().position(|h| *h == column).unwrap();
        record[i] = format!("\"{}\"", value.replace('"', "\"\""));
    }
    format!("{}\n{}\n", header.join(";"), record.join(";")).into_bytes()
}

#[test]
fn a_formula_in_a_record_reaches_the_csv_bundle_neutralised() {
    let s = Server::start();
    let f = local_file(&s, "formula.csv", &formula_file());
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/formula.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let receipt = &s.wait_receipts("woonstad", 1)[0];
    assert_eq!(receipt["records"]["accepted"], 1, "{receipt}");
    common::run_batch(&s);

    let bundles: Vec<_> = ["GM0505", "GM0642"]
        .iter()
        .flat_map(|code| {
            let dir = s.data().join("parties").join(code).join("pickup");
            std::fs::read_dir(&dir).into_iter().flatten().map(move |e| (*code, e.unwrap().path()))
        })
        .filter(|(_, p)| p.to_string_lossy().ends_with("_signalen.csv.age"))
        .collect();
    assert_eq!(bundles.len(), 1, "the one signal is in one municipality's bundle: {bundles:?}");
    let (code, bundle) = &bundles[0];
    let key = s.inst.dir.join("clients").join(code).join("age.key");
    let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(bundle).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let plain = s.tmp.path().join("bundle.csv");
    std::fs::write(&plain, &o.stdout).unwrap();

    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(python).arg("-c").arg(PY_CHECK).arg(&plain).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let read: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(read["rows"], 1, "{read}");
    assert_eq!(read["live"], serde_json::json!([]), "cells a spreadsheet would evaluate: {read}");
    let header: Vec<&str> = read["header"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    let row = &read["cells"][0];
    for (column, _, expected) in FORMULAS {
        let i = header.iter().position(|h| *h == column).unwrap_or_else(|| panic!("no column {column}"));
        assert_eq!(row[i], expected, "{column}");
    }

    // The JSON bundle keeps the values as they are (trimmed by validation, not neutralised).
    let json_bundle = bundle.with_file_name(
        bundle.file_name().unwrap().to_string_lossy().replace("_signalen.csv.age", "_signalen.json.age"),
    );
    let o = Command::new("age").arg("-d").arg("-i").arg(&key).arg(&json_bundle).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let json = String::from_utf8(o.stdout).unwrap();
    for (column, value, _) in FORMULAS {
        let quoted = serde_json::to_string(value.trim_start()).unwrap();
        assert!(json.contains(&quoted), "{column}: {quoted} in the JSON bundle");
    }
}

#[test]
fn no_file_in_a_pickup_folder_is_readable_by_others() {
    let (s, _) = common::delivered();
    let mut seen = 0;
    for code in ["GM0505", "GM0642"] {
        let dir = s.data().join("parties").join(code).join("pickup");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let mode =
                std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
            assert_eq!(mode & 0o777, 0o640, "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 4, "manifests and bundles of both municipalities: {seen}");
}
