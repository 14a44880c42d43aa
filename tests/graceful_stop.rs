//! A graceful stop (docs/commands.md, `serve`): on SIGTERM no new upload starts, an upload in
//! flight is finished and receipted within `[intake] stop_grace_secs`, and then the daemon
//! exits cleanly with its `stop` event.

mod common;

use std::time::{Duration, Instant};

use common::{Server, local_file, sample_csv, text};

/// Writes the file in two halves with a pause between (the test stops the daemon in the pause),
/// closes it, and writes the receipt names it then sees to `$OUT`.
const SLOW_UPLOAD: &str = r#"
import time
data = open(os.environ["DATA"], "rb").read()
t, sftp = connect()
f = sftp.open("/inbox/slow.csv", "wb")
half = len(data) // 2
f.write(data[:half])
f.flush()
open(os.environ["FLAG"], "w").write("half")
time.sleep(3)
f.write(data[half:])
f.close()
open(os.environ["OUT"], "w").write("closed")
t.close()
"#;

#[test]
fn sigterm_during_an_upload_finishes_it_with_its_receipt_and_refuses_new_ones() {
    let mut s = Server::start();
    let data = local_file(&s, "slow.csv", &sample_csv("G", "woninghuur", 3000));
    let (flag, out) = (s.tmp.path().join("flag"), s.tmp.path().join("out"));
    let env = [
        ("DATA", data.display().to_string()),
        ("FLAG", flag.display().to_string()),
        ("OUT", out.display().to_string()),
    ];
    let mut client = s.paramiko_spawn("woonstad", &s.key("woonstad"), SLOW_UPLOAD, &env);
    let start = Instant::now();
    while !flag.exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "the upload never got half way");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));

    // While it stops, a new upload is refused.
    let other = local_file(&s, "new.csv", &sample_csv("N", "drinkwater", 3));
    let o = s.sftp("vitens", &s.key("vitens"), &format!("put {} /inbox/new.csv\n", other.display()));
    assert!(!o.status.success(), "an upload started during the stop was taken: {}", text(&o));

    // The upload in flight finishes, with its receipt, and then the daemon exits cleanly.
    assert!(client.wait().unwrap().success(), "the client's upload failed");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "closed");
    let exit = s.wait_exit();
    assert!(exit.success(), "{exit}");
    let receipts = s.receipts("woonstad");
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["records"]["accepted"], 3000, "{}", receipts[0]);
    assert!(s.receipts("vitens").is_empty());
    let audit = s.audit();
    let stop = audit.iter().rev().find(|r| r.action == "stop").expect("a stop event");
    assert_eq!(stop.object["uploads_discarded"], 0, "{:?}", stop.object);
}
