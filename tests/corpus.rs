//! The bad-input corpus (`tests/corpus/`, see its README): every malformed signal and feedback
//! file goes through the real daemon, and its receipt must equal the expected one beside it,
//! field for field, once the values that differ per run are replaced by fixed placeholders.
//! `UPDATE_CORPUS=1` writes the expected receipts instead of comparing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, bin, local_file, run_batch, text};
use serde_json::Value;

/// The receipt moment of the signal files sent with `meldpunt ingest` (numbers 40 and up).
const FIXED_RECEIVED_AT: &str = "2026-06-10T10:00:00+02:00";

/// The receipt moment of an ingested file whose name says `after_cutoff`: the day after the
/// cut-off day (the 25th) of the same month.
const AFTER_CUTOFF_RECEIVED_AT: &str = "2026-06-26T10:00:00+02:00";

/// Signal files numbered below this are uploaded live (odd: HTTPS, even: SFTP), received now.
const FIRST_INGESTED: u32 = 40;

/// Creditors of the demo installation; a signal file named `NN_<creditor>_…` is sent by that
/// creditor, any other by woonstad.
const CREDITORS: [&str; 4] = ["woonstad", "vitens", "zilveren-kruis", "eneco"];

/// The two creditors whose sample files are batched so that feedback has signals to name.
const FEEDBACK_SAMPLES: [(&str, &str, &str); 2] =
    [("woonstad", "FBW", "woninghuur"), ("vitens", "FBV", "drinkwater")];

#[test]
fn every_corpus_file_gets_exactly_its_expected_receipt() {
    let s = Server::start_logged(|c| {
        // Keep the fixed-date period and its rejected receipts for years; small enough limits
        // for a generated file to pass the size limit and a short error list to overflow.
        c.push_str(
            "\n[retention]\nmonths = 120\nrejected_days = 3000\n\
             \n[intake]\nmax_file_bytes = 4194304\nmax_listed_errors = 25\n",
        );
    });
    let update = std::env::var_os("UPDATE_CORPUS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut counts = BTreeMap::new();

    for file in inputs("signal") {
        let receipt = send_signal_file(&s, &file);
        *counts.entry("signal").or_insert(0) += 1;
        compare(&file, receipt, update, &mut failures);
    }

    let signals = deliver_feedback_samples(&s);
    for file in inputs("feedback") {
        let receipt = send_feedback_file(&s, &file, &signals);
        *counts.entry("feedback").or_insert(0) += 1;
        compare(&file, receipt, update, &mut failures);
    }

    assert!(counts["signal"] >= 38 && counts["feedback"] >= 14, "corpus too small: {counts:?}");
    assert!(
        failures.is_empty(),
        "{} receipt(s) differ from the expected ones (if the change is intended, run with \
         UPDATE_CORPUS=1 and review the diff):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The corpus inputs of `kind`, in name order (their order matters: later files may correct
/// or repeat earlier ones).
fn inputs(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.ends_with(".receipt.json") && name.as_bytes()[0].is_ascii_digit()
        })
        .collect();
    out.sort();
    out
}

fn name_of(file: &Path) -> String {
    file.file_name().unwrap().to_str().unwrap().to_owned()
}

/// `NN_<what>.ext` → `NN_<what>.receipt.json`.
fn expected_path(file: &Path) -> PathBuf {
    let name = name_of(file);
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    file.with_file_name(format!("{stem}.receipt.json"))
}

fn number(file: &Path) -> u32 {
    let name = name_of(file);
    name.split('_').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{name}: no NN_ prefix"))
}

/// Values the corpus files hold (names, addresses, amounts, dates, injection strings) that no
/// receipt message may repeat (docs/receipt.md "What a receipt may echo").
const NEVER_ECHOED: [&str; 12] = [
    "Jansen",
    "Voorstraat",
    "Dordrecht",
    "3311",
    "812,40",
    "1980-04-12",
    "rm -rf",
    "jndi",
    "7*7",
    "1=1",
    "DROP TABLE",
    "<script>",
];

/// Compares (or with `update` writes) the expected receipt of `file`.
fn compare(file: &Path, receipt: Value, update: bool, failures: &mut Vec<String>) {
    let path = expected_path(file);
    for e in ["errors", "warnings"].iter().filter_map(|k| receipt[k].as_array()).flatten() {
        let m = e["message"].as_str().unwrap_or_default();
        if let Some(v) = NEVER_ECHOED.iter().find(|v| m.contains(*v)) {
            failures.push(format!("{}: a message repeats {v:?} from the file: {m}", path.display()));
        }
    }
    let got = serde_json::to_string_pretty(&receipt).unwrap() + "\n";
    if update {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            failures.push(format!("{}: {e}; the receipt was:\n{got}", path.display()));
            return;
        }
    };
    let want: Value = serde_json::from_slice(&want).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if want != receipt {
        let mut lines = Vec::new();
        differences("", &want, &receipt, &mut lines);
        failures.push(format!("{}:\n  {}", path.display(), lines.join("\n  ")));
    }
}

/// Every place where `got` differs from `want`, as `path: expected …, received …`.
fn differences(at: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let keys: BTreeSet<&String> = w.keys().chain(g.keys()).collect();
            for k in keys {
                let null = Value::Null;
                let (a, b) = (w.get(k).unwrap_or(&null), g.get(k).unwrap_or(&null));
                differences(&format!("{at}.{k}"), a, b, out);
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                differences(&format!("{at}[{i}]"), a, b, out);
            }
        }
        (a, b) if a != b => out.push(format!("{at}: expected {a}, received {b}")),
        _ => {}
    }
}

/// Expands the generators a corpus file may hold: `%{REPEAT n text}` is `text` `n` times
/// (`\n` in `text` is a line break), and `%{NAME}` is `vars[NAME]`. Anything else is bytes as
/// they are.
fn expand(bytes: &[u8], vars: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(2).position(|w| w == b"%{") {
        out.extend_from_slice(&rest[..at]);
        let end = rest[at..].iter().position(|&b| b == b'}').expect("an unclosed %{") + at;
        let inner = std::str::from_utf8(&rest[at + 2..end]).expect("a %{…} placeholder is UTF-8");
        if let Some(args) = inner.strip_prefix("REPEAT ") {
            let (n, piece) = args.split_once(' ').expect("%{REPEAT n text}");
            let piece = piece.replace("\\n", "\n");
            out.extend(piece.as_bytes().repeat(n.parse().expect("%{REPEAT n text}: n")));
        } else {
            let v = vars.get(inner).unwrap_or_else(|| panic!("unknown placeholder %{{{inner}}}"));
            out.extend_from_slice(v.as_bytes());
        }
        rest = &rest[end + 1..];
    }
    out.extend_from_slice(rest);
    out
}

/// The creditor a signal file is sent as (`NN_<creditor>_…`, else woonstad).
fn creditor_of(file: &Path) -> &'static str {
    let name = name_of(file);
    let what = name.split_once('_').map_or("", |(_, w)| w);
    CREDITORS.into_iter().find(|c| what.starts_with(&format!("{c}_"))).unwrap_or("woonstad")
}

/// Names of the JSON receipts now in a party's receipts folder.
fn receipt_names(s: &Server, party: &str) -> BTreeSet<String> {
    let dir = s.data().join("parties").join(party).join("receipts");
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".receipt.json"))
                .collect()
        })
        .unwrap_or_default()
}

/// The one receipt that appeared in `party`'s folder since `before`.
fn new_receipt(s: &Server, party: &str, before: &BTreeSet<String>, what: &str) -> Value {
    let now = receipt_names(s, party);
    let new: Vec<&String> = now.difference(before).collect();
    assert_eq!(new.len(), 1, "{what}: one new receipt, got {new:?}");
    let path = s.data().join("parties").join(party).join("receipts").join(new[0]);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Sends one signal file the way its number says and returns its normalised receipt.
fn send_signal_file(s: &Server, file: &Path) -> Value {
    let name = name_of(file);
    let creditor = creditor_of(file);
    let bytes = expand(&std::fs::read(file).unwrap(), &BTreeMap::new());
    let local = local_file(s, &name, &bytes);
    let before = receipt_names(s, creditor);
    let n = number(file);
    let live = n < FIRST_INGESTED;
    let mut receipt = if !live {
        let at = if name.contains("after_cutoff") { AFTER_CUTOFF_RECEIVED_AT } else { FIXED_RECEIVED_AT };
        let o = Command::new(bin())
            .args(["ingest", "--as", creditor, "--received-at", at, "--config"])
            .arg(&s.inst.config)
            .arg(&local)
            .env("MELDPUNT_LOG", "warn")
            .output()
            .unwrap();
        assert!(!text(&o).contains("Error:"), "{name}: {}", text(&o));
        new_receipt(s, creditor, &before, &name)
    } else if n % 2 == 1 {
        let (code, body) = s.curl(creditor, &["-T", local.to_str().unwrap()], &format!("/v1/inbox/{name}"));
        assert_eq!(code, 201, "{name}: {body}");
        let r: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body}"));
        assert_eq!(new_receipt(s, creditor, &before, &name), r, "{name}: the stored receipt is the answer");
        r
    } else {
        let o = s.sftp(creditor, &s.key(creditor), &format!("put {} /inbox/{name}\n", local.display()));
        assert!(o.status.success(), "{name}: {}", text(&o));
        new_receipt(s, creditor, &before, &name)
    };
    let obj = receipt.as_object_mut().unwrap();
    obj.insert("file_id".into(), "{FILE_ID}".into());
    obj.insert("received_at".into(), "{RECEIVED_AT}".into());
    if obj.contains_key("duplicate_of") {
        obj.insert("duplicate_of".into(), "{FILE_ID}".into());
    }
    if live {
        // Received now: the period and whether the cut-off has passed depend on the day.
        obj.insert("period".into(), "{PERIOD}".into());
        if let Some(w) = obj.get_mut("warnings").and_then(Value::as_array_mut) {
            w.retain(|w| w["code"] != "after_cutoff");
            if w.is_empty() {
                obj.remove("warnings");
            }
        }
    }
    receipt
}

/// Uploads a sample file per creditor in [`FEEDBACK_SAMPLES`], runs the current period's batch
/// and returns the placeholders feedback files may use, for the signals delivered to each
/// municipality `M` in (creditor, referentie) order: `%{M_n}` (the signal id), `%{REF M_n}`
/// (its referentie) and `%{PARTNER M_n}` (its creditor), n from 1.
fn deliver_feedback_samples(s: &Server) -> BTreeMap<String, String> {
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    for (i, (party, prefix, kind)) in FEEDBACK_SAMPLES.into_iter().enumerate() {
        let mut csv = Vec::new();
        meldpunt::demo::sample::write_csv(
            &mut csv,
            prefix,
            kind.parse().unwrap(),
            20,
            10,
            70 + i as u64,
            today,
        )
        .unwrap();
        let f = local_file(s, &format!("{prefix}.csv"), &csv);
        let o = s.sftp(party, &s.key(party), &format!("put {} /inbox/{prefix}.csv\n", f.display()));
        assert!(o.status.success(), "{}", text(&o));
    }
    let p = run_batch(s);
    let mut per_municipality: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for (party, prefix, _) in FEEDBACK_SAMPLES {
        let report = s.data().join("parties").join(party).join("receipts").join(format!("batch_{p}.json"));
        let doc: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        for e in doc["signals"].as_array().unwrap() {
            let referentie = e["referentie"].as_str().unwrap();
            if e["delivered"] == true && referentie.starts_with(prefix) {
                per_municipality.entry(e["gemeente"].as_str().unwrap().to_owned()).or_default().push((
                    party.to_owned(),
                    referentie.to_owned(),
                    e["signaal_id"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    let mut vars = BTreeMap::new();
    for (m, mut signals) in per_municipality {
        signals.sort();
        for (i, (party, referentie, id)) in signals.into_iter().enumerate() {
            let key = format!("{m}_{}", i + 1);
            vars.insert(format!("PARTNER {key}"), party);
            vars.insert(format!("REF {key}"), referentie);
            vars.insert(key, id);
        }
    }
    for needed in ["GM0505_6", "GM0642_1"] {
        assert!(vars.contains_key(needed), "the samples deliver {needed}: {:?}", vars.keys());
    }
    vars
}

/// Posts one feedback file as GM0505 over HTTPS and returns its normalised receipt.
fn send_feedback_file(s: &Server, file: &Path, vars: &BTreeMap<String, String>) -> Value {
    let name = name_of(file);
    let bytes = expand(&std::fs::read(file).unwrap(), vars);
    let local = local_file(s, &name, &bytes);
    let (code, body) = s.curl(
        "GM0505",
        &["--data-binary", &format!("@{}", local.display())],
        &format!("/v1/feedback?name={name}"),
    );
    assert_eq!(code, 201, "{name}: {body}");
    // Signal ids and today's date differ per run: put the placeholders back.
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now()).to_string();
    let mut body = body.replace(&today, "{TODAY}");
    for (k, v) in vars.iter().filter(|(k, _)| !k.contains(' ')) {
        body = body.replace(v.as_str(), &format!("%{{{k}}}"));
    }
    let mut receipt: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{name}: {e}: {body}"));
    let obj = receipt.as_object_mut().unwrap();
    for (k, v) in [("file_id", "{FILE_ID}"), ("received_at", "{RECEIVED_AT}"), ("sha256", "{SHA256}")] {
        obj.insert(k.into(), v.into());
    }
    receipt
}
