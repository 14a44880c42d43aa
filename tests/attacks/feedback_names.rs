//! A municipality's feedback upload may only take a terugmelding name (`.csv` or `.jsonl`):
//! renaming an unfinished `.part` to `f.exe` is refused and nothing is processed (issue 20).

use super::common::{Server, local_file, text};

/// Uploads `x.part`, renames it to `f.exe` (refused), opens `f.exe` (refused), then renames
/// `x.part` to `x.csv`; prints the outcome of each step.
const PY_RENAME: &str = r#"
import json
t, sftp = connect()
out = {}
f = sftp.open("/feedback/x.part", "wb"); f.write(os.environ["BODY"].encode()); f.close()
def step(name, fn):
    try:
        fn(); out[name] = "accepted"
    except IOError as e:
        out[name] = str(e)
step("rename_exe", lambda: sftp.rename("/feedback/x.part", "/feedback/f.exe"))
out["receipts_after_exe"] = sorted(sftp.listdir("/receipts"))
step("open_exe", lambda: sftp.open("/feedback/f.exe", "wb").close())
step("rename_csv", lambda: sftp.rename("/feedback/x.part", "/feedback/x.csv"))
t.close()
print(json.dumps(out))
"#;

#[test]
fn a_feedback_upload_renamed_to_a_non_terugmelding_name_is_refused_and_not_processed() {
    let s = Server::start();
    let body = "signaal_id;resultaat;datum\nS-00000000000000000000;quick_fix;2026-01-05\n";
    let o = s.paramiko_env("GM0505", &s.key("GM0505"), PY_RENAME, &[("BODY", body.to_owned())]);
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for step in ["rename_exe", "open_exe"] {
        let msg = out[step].as_str().unwrap();
        assert!(msg.contains("must end in .csv or .jsonl"), "{step}: {msg}");
    }
    assert_eq!(out["receipts_after_exe"], serde_json::json!([]), "nothing processed: {out}");
    // The refused rename left the upload waiting; a proper name still takes it.
    assert_eq!(out["rename_csv"], "accepted", "{out}");
    let feedback: Vec<_> = s.audit().into_iter().filter(|e| e.action == "feedback").collect();
    assert_eq!(feedback.len(), 1, "only x.csv was processed: {feedback:?}");
    let id = feedback[0].object["file_id"].as_str().unwrap();
    let (code, receipt) = s.curl("GM0505", &[], &format!("/v1/receipts/{id}"));
    assert_eq!(code, 200, "{receipt}");
    let receipt: serde_json::Value = serde_json::from_str(&receipt).unwrap();
    assert_eq!(receipt["file_name"], "x.csv", "{receipt}");

    // Over HTTPS the same name is refused before anything is read.
    let f = local_file(&s, "fb.bin", body.as_bytes());
    let (code, answer) =
        s.curl("GM0505", &["--data-binary", &format!("@{}", f.display())], "/v1/feedback?name=f.exe");
    assert_eq!(code, 400, "{answer}");
    assert!(answer.contains("bad_name") && answer.contains("must end in .csv or .jsonl"), "{answer}");
    assert_eq!(s.audit().into_iter().filter(|e| e.action == "feedback").count(), 1);
}
