//! Session channels: one SSH connection may have at most 4 open at once (`MAX_CHANNELS` in
//! `src/transport/sftp/ssh.rs`); a closed one frees its place.

use super::common::Server;
use super::{attack, legit_upload, stop};

/// One connection opens 10 more `sftp` channels beside the one `connect()` made, then closes
/// one and opens again; the first channel still answers.
const CHANNELS: &str = r#"
import paramiko
t, sftp = connect()
kept, refusals = [], []
for i in range(10):
    try:
        ch = t.open_session()
        ch.invoke_subsystem("sftp")
        kept.append(ch)
    except paramiko.ChannelException as e:
        refusals.append("%d %s" % (e.code, e.text))
kept[0].close()
time.sleep(0.5)
try:
    ch = t.open_session()
    ch.invoke_subsystem("sftp")
    reopened = True
except paramiko.ChannelException as e:
    reopened = "%d %s" % (e.code, e.text)
listed = sftp.listdir("/")
done({"opened": 1 + len(kept), "refusals": refusals, "reopened": reopened, "listed": listed})
"#;

#[test]
fn a_connection_opens_at_most_four_channels_and_a_closed_one_frees_its_place() {
    let s = Server::start();
    let (attacker, out) = attack(&s, "woonstad", CHANNELS);
    legit_upload(&s, "vitens_channels.csv");
    stop(attacker);

    assert_eq!(out["opened"], 4, "{out}");
    let refusals = out["refusals"].as_array().unwrap();
    assert_eq!(refusals.len(), 7, "{out}");
    // SSH_OPEN_RESOURCE_SHORTAGE (4), the same answer each time.
    assert!(refusals.iter().all(|r| r.as_str().unwrap().starts_with("4 ")), "{out}");
    assert_eq!(out["reopened"], true, "a closed channel frees its place: {out}");
    assert!(out["listed"].as_array().is_some_and(|l| !l.is_empty()), "the first channel still works: {out}");
}
