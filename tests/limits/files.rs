//! How much one creditor may send: files per period and bytes per file.

use super::common::{Server, local_file, sample_csv};
use super::{attack, legit_upload, stop};

/// Uploads every file of `$DIR` in name order on one session; reports each outcome.
const UPLOAD_ALL: &str = r#"
t, sftp = connect()
outcomes = []
for name in sorted(os.listdir(os.environ["DIR"])):
    try:
        sftp.put(os.path.join(os.environ["DIR"], name), "/inbox/" + name)
        outcomes.append("ok")
    except Exception as e:
        outcomes.append(str(e))
done({"outcomes": outcomes})
"#;

fn attack_with_dir(s: &Server, files: &[(String, Vec<u8>)]) -> (std::process::Child, serde_json::Value) {
    let dir = s.tmp.path().join("attacker_files");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let script = UPLOAD_ALL.replace("os.environ[\"DIR\"]", &format!("{:?}", dir.display().to_string()));
    attack(s, "woonstad", &script)
}

#[test]
fn many_tiny_files_stop_at_the_files_per_period_limit() {
    let s = Server::start_with(|t| t.push_str("\n[intake]\nmax_files_per_period = 5\n"));
    let files: Vec<_> =
        (0..8).map(|i| (format!("tiny_{i}.csv"), sample_csv(&format!("T{i}"), "woninghuur", 1))).collect();
    let (attacker, out) = attack_with_dir(&s, &files);
    // The same creditor over HTTPS is refused as well, with its own answer.
    let f = local_file(&s, "tiny_https.csv", &sample_csv("TH", "woninghuur", 1));
    let (code, body) = s.curl("woonstad", &["-T", f.to_str().unwrap()], "/v1/inbox/tiny_https.csv");
    legit_upload(&s, "vitens_tiny.csv");
    stop(attacker);

    let outcomes: Vec<&str> =
        out["outcomes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(outcomes[..5], ["ok"; 5], "{outcomes:?}");
    for refused in &outcomes[5..] {
        assert!(
            refused.contains("the limit of 5 files per period is reached for period")
                && refused.contains("[intake] max_files_per_period"),
            "the refusal names the limit and the setting: {refused}"
        );
    }
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("too_many_files") && body.contains("limit of 5 files"), "{body}");
    let receipts = s.receipts("woonstad");
    assert_eq!(receipts.len(), 5, "nothing past the limit was kept");
    assert!(receipts.iter().all(|r| r["status"] == "accepted"), "{receipts:?}");
    let audit = s.audit();
    let sftp_refusals = audit
        .iter()
        .filter(|e| {
            e.action == "denied_path"
                && e.object["reason"] == "files_per_period"
                && e.actor == "creditor:woonstad"
        })
        .count();
    assert_eq!(sftp_refusals, 3);
    assert!(audit.iter().any(|e| e.action == "upload" && e.object["reason"] == "files_per_period"));
}

/// Writes `$FILE` to `/inbox/too_big.csv` in 32 KiB WRITEs on a raw SFTP channel, each
/// awaited (paramiko's `put` pipelines them and drops the answer to its close); reports the
/// first refusal, the offset it came at, and the answer to the CLOSE.
const TOO_BIG: &str = r#"
t, sftp = connect()
r = Raw(t)
data = open(os.environ["FILE"], "rb").read()
typ, p = r.req(3, s("/inbox/too_big.csv") + struct.pack(">II", 0x1a, 0))
h = r.handle(p)
refused, at = None, None
for off in range(0, len(data), 32768):
    typ, p = r.req(6, s(h) + struct.pack(">Q", off) + s(data[off:off + 32768]))
    code, msg = status(p)
    if code != 0:
        refused, at = msg, off
        break
typ, p = r.req(4, s(h))
done({"refused": refused, "at": at, "close": status(p)})
"#;

#[test]
fn an_upload_over_the_size_limit_is_refused_and_nothing_is_kept() {
    let s = Server::start_with(|t| t.push_str("\n[intake]\nmax_file_bytes = 100000\n"));
    let big = local_file(&s, "too_big.csv", &sample_csv("BIG", "woninghuur", 2000));
    assert!(std::fs::metadata(&big).unwrap().len() > 300_000);
    let script = TOO_BIG.replace("os.environ[\"FILE\"]", &format!("{:?}", big.display().to_string()));
    let (attacker, out) = attack(&s, "woonstad", &script);
    legit_upload(&s, "vitens_size.csv");
    stop(attacker);

    let refused = out["refused"].as_str().unwrap_or_default();
    assert!(refused.contains("larger than the limit of 100000 bytes"), "a clear answer: {out}");
    assert_eq!(out["at"], 98304, "the write that crosses the limit is refused: {out}");
    assert_eq!(out["close"][0], 4, "the close fails too (FAILURE): {out}");
    assert!(out["close"][1].as_str().unwrap().contains("limit of 100000 bytes"), "{out}");
    let receipts = s.receipts("woonstad");
    assert_eq!(receipts.len(), 1, "the creditor finds a receipt");
    assert_eq!(receipts[0]["status"], "rejected", "{}", receipts[0]);
    assert_eq!(receipts[0]["errors"][0]["code"], "file_too_large", "{}", receipts[0]);
    assert_eq!(receipts[0]["records"]["accepted"], 0);
    // Only vitens's upload is sealed; nothing of the refused file is in the vault.
    assert_eq!(s.sealed_files().len(), 1, "{:?}", s.sealed_files());
    let tmp = std::fs::read_dir(s.data().join("vault/tmp")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(tmp, 0);
}

#[test]
fn a_terugmelding_over_its_size_limit_is_refused_and_nothing_is_kept() {
    let s = Server::start_with(|t| t.push_str("\n[feedback]\nmax_file_bytes = 2048\n"));
    let big = local_file(&s, "tm_big.csv", &b"signaal_id;resultaat\n".repeat(4000));
    let script = TOO_BIG
        .replace("os.environ[\"FILE\"]", &format!("{:?}", big.display().to_string()))
        .replace("/inbox/too_big.csv", "/feedback/too_big.csv");
    let (attacker, out) = attack(&s, "GM0505", &script);
    legit_upload(&s, "vitens_feedback_size.csv");
    stop(attacker);

    let refused = out["refused"].as_str().unwrap_or_default();
    assert!(
        refused.contains("at most 2048 bytes") && refused.contains("nothing of this file is kept"),
        "{out}"
    );
    assert_eq!(out["at"], 0, "the first 32 KiB write passes 2048 bytes: {out}");
    assert_eq!(out["close"][0], 4, "{out}");
    let dir =
        |f: &str| std::fs::read_dir(s.data().join("parties/GM0505").join(f)).map(|d| d.count()).unwrap_or(0);
    assert_eq!((dir("receipts"), dir("feedback")), (0, 0), "nothing of the terugmelding is kept");
}
