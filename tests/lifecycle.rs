//! How the daemon lives and ends (issues 20 and 21): signals other than a stop keep it
//! serving, and an unclean end (kill -9) leaves a trace in the audit log at the next start.

mod common;

use std::time::Duration;

use common::{Server, local_file, sample_csv, text};

#[test]
fn sighup_does_not_stop_the_daemon() {
    let mut s = Server::start();
    s.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.running(), "meldpunt serve exited on SIGHUP");
    let f = local_file(&s, "after-hup.csv", &sample_csv("H", "woninghuur", 2));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/after-hup.csv\n", f.display()));
    assert!(o.status.success(), "an upload after SIGHUP: {}", text(&o));
    assert_eq!(s.wait_receipts("woonstad", 1)[0]["records"]["accepted"], 2);
    // Still a clean stop afterwards: exit status 0 and a `stop` event.
    s.terminate();
    assert_eq!(s.audit().last().map(|e| e.action.clone()).as_deref(), Some("stop"));
}

/// Opens `/inbox/big.csv`, writes the first MiB of the file `DATA`, and waits (never closes).
const PY_HALF_UPLOAD: &str = r#"
import time
t, sftp = connect()
f = sftp.open("/inbox/big.csv", "wb")
f.write(open(os.environ["DATA"], "rb").read()[: 1 << 20])
f.flush()
time.sleep(120)
"#;

/// The names of the files in `vault/tmp`.
fn tmp_files(s: &Server) -> Vec<String> {
    std::fs::read_dir(s.data().join("vault").join("tmp"))
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn a_killed_daemon_and_its_unfinished_upload_are_audited_at_the_next_start() {
    let mut s = Server::start();
    let data = local_file(&s, "big.csv", &sample_csv("K", "woninghuur", 8000));
    let mut client = s.paramiko_spawn(
        "woonstad",
        &s.key("woonstad"),
        PY_HALF_UPLOAD,
        &[("DATA", data.display().to_string())],
    );
    let start = std::time::Instant::now();
    while tmp_files(&s).is_empty() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let tmp = tmp_files(&s);
    assert_eq!(tmp.len(), 1, "the upload is being sealed: {tmp:?}");
    let file_id = tmp[0].strip_suffix(".age").unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));
    let before = s.audit();
    let started = before.iter().rev().find(|e| e.action == "start").unwrap().ts.clone();

    s.kill();
    let _ = client.kill();
    let _ = client.wait();
    s.restart();

    let events = s.audit();
    let after: Vec<_> = events.iter().skip(before.len()).collect();
    let actions: Vec<&str> = after.iter().map(|e| e.action.as_str()).collect();
    let unclean = after.iter().find(|e| e.action == "unclean_stop").unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(unclean.actor, "system");
    assert_eq!(unclean.object["started"], started.as_str(), "{}", unclean.object);
    assert_eq!(unclean.object["last_event"], before.last().unwrap().ts.as_str(), "{}", unclean.object);
    let discarded =
        after.iter().find(|e| e.action == "upload_discarded").unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(discarded.object["count"], 1, "{}", discarded.object);
    assert_eq!(discarded.object["file_ids"], serde_json::json!([file_id]), "{}", discarded.object);
    assert!(!discarded.object.to_string().contains("big.csv"), "no file name: {}", discarded.object);
    let pos = |a: &str| actions.iter().position(|x| *x == a).unwrap();
    assert!(
        pos("unclean_stop") < pos("upload_discarded") && pos("upload_discarded") < pos("start"),
        "{actions:?}"
    );
    assert!(tmp_files(&s).is_empty(), "vault/tmp emptied");

    // The officer sees it, and the chain still verifies.
    let cli = |args: &[&str]| {
        let o = std::process::Command::new(common::bin())
            .args(args)
            .arg("--config")
            .arg(&s.inst.config)
            .output()
            .unwrap();
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = cli(&["audit", "show", "--action", "unclean_stop"]);
    assert!(shown.contains("unclean_stop"), "{shown}");
    cli(&["audit", "verify"]);

    // A clean stop is not reported as unclean at the next start.
    s.terminate();
    s.restart();
    let unclean = s.audit().iter().filter(|e| e.action == "unclean_stop").count();
    assert_eq!(unclean, 1);
}
