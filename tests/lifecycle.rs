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
