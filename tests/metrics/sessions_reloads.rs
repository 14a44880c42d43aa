//! The SFTP session gauge while paramiko holds a session open and after, and the reload
//! counter after SIGHUP and after a broken configuration.

use std::time::{Duration, Instant};

use crate::common::Server;
use crate::{scrape, value, wait_for};

/// Opens a session, writes `open` to `$FLAG`, waits until `$STOP` exists, then closes.
const HOLD: &str = r#"
import time
t, sftp = connect()
sftp.listdir("/inbox")
open(os.environ["FLAG"], "w").write("open")
end = time.time() + 30
while time.time() < end and not os.path.exists(os.environ["STOP"]):
    time.sleep(0.1)
sftp.close()
t.close()
"#;

#[test]
fn the_session_gauge_follows_an_open_sftp_session() {
    let s = Server::start();
    let sftp = r#"meldpunt_sessions{protocol="sftp"}"#;
    let logins = r#"meldpunt_logins_total{protocol="sftp",outcome="ok"}"#;
    let m = scrape(&s);
    assert_eq!((value(&m, sftp), value(&m, r#"meldpunt_sessions{protocol="https"}"#)), (0.0, 0.0));
    let logins_before = value(&m, logins);

    let (flag, stop) = (s.tmp.path().join("flag"), s.tmp.path().join("stop"));
    let env = [("FLAG", flag.display().to_string()), ("STOP", stop.display().to_string())];
    let mut client = s.paramiko_spawn("vitens", &s.key("vitens"), HOLD, &env);
    let start = Instant::now();
    while std::fs::read_to_string(&flag).unwrap_or_default() != "open" {
        assert!(start.elapsed() < Duration::from_secs(20), "the session did not open");
        std::thread::sleep(Duration::from_millis(50));
    }
    let m = scrape(&s);
    assert_eq!(value(&m, sftp), 1.0, "one session is open");
    assert_eq!(value(&m, logins), logins_before + 1.0);

    std::fs::write(&stop, "").unwrap();
    assert!(client.wait().unwrap().success());
    wait_for(&s, sftp, 0.0);
}

#[test]
fn reloads_are_counted_applied_and_refused() {
    let s = Server::start();
    let (applied, refused) = (
        r#"meldpunt_config_reloads_total{outcome="applied"}"#,
        r#"meldpunt_config_reloads_total{outcome="refused"}"#,
    );
    let m = scrape(&s);
    let (a, r) = (value(&m, applied), value(&m, refused));

    s.signal("HUP");
    wait_for(&s, applied, a + 1.0);

    // A broken change of the file is refused (seen by the watcher), and so is SIGHUP then.
    let mut text = std::fs::read_to_string(&s.inst.config).unwrap();
    text.push_str("\n[audit]\nretention_months = 0\n");
    std::fs::write(&s.inst.config, text).unwrap();
    wait_for(&s, refused, r + 1.0);
    s.signal("HUP");
    wait_for(&s, refused, r + 2.0);
    assert_eq!(value(&scrape(&s), applied), a + 1.0, "nothing else was applied");
}
