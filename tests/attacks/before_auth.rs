//! Connection-protocol messages sent after key exchange but before authentication
//! (Erlang/OTP SSH CVE-2025-32433): a session channel open, an `exec` request, a global
//! request and channel data. None is answered with a channel or a success, none runs
//! anything, none is kept to be honoured after a later login, and none writes a login row.

use super::probe;

/// For each variant, sends its messages on a fresh unauthenticated transport and waits for
/// an answer; then, on one more transport, sends them all, logs in properly and checks that
/// the early channel was not opened after the login either. Prints the outcomes as JSON.
const PY_EARLY: &str = r#"
from paramiko.common import cMSG_CHANNEL_OPEN, cMSG_CHANNEL_REQUEST, cMSG_GLOBAL_REQUEST, cMSG_CHANNEL_DATA
touch = "touch " + os.environ["MARKER"]
early = {
    "channel_open": lambda t: send(t, cMSG_CHANNEL_OPEN, "session", 0, 2**20, 32768),
    "exec": lambda t: send(t, cMSG_CHANNEL_REQUEST, 0, "exec", True, touch),
    "subsystem": lambda t: send(t, cMSG_CHANNEL_REQUEST, 0, "subsystem", True, "sftp"),
    "global_request": lambda t: send(t, cMSG_GLOBAL_REQUEST, "tcpip-forward", True, "127.0.0.1", 0),
    "channel_data": lambda t: send(t, cMSG_CHANNEL_DATA, 0, touch + "\n"),
}
# Channel open confirmation/failure, request success/failure, channel success/failure, data.
answers = {91, 92, 81, 82, 99, 100, 94}
out = {}
for name, fn in early.items():
    seen = []
    t = ssh(seen)
    fn(t)
    got, _ = wait_for(t, seen, answers, secs=1.5)
    out[name] = got
    t.close()
seen = []
t = ssh(seen)
for fn in early.values():
    fn(t)
time.sleep(0.5)
t.auth_publickey("woonstad", key("woonstad"))
got, _ = wait_for(t, seen, {91, 99}, secs=1.5)
out["after_login"] = got
chan = t.open_session()
chan.invoke_subsystem("sftp")
out["sftp_after_login"] = "ok"
t.close()
print(json.dumps(out))
"#;

#[test]
fn ssh_connection_messages_before_authentication_get_no_channel_and_run_nothing() {
    let s = probe::hostile_server();
    let marker = s.tmp.path().join("pwned");
    let out = probe::python_json(&s, PY_EARLY, &[("MARKER", marker.display().to_string())]);
    for name in ["channel_open", "exec", "subsystem", "global_request", "channel_data"] {
        let got = out[name].as_str().unwrap_or("answered");
        assert!(got == "silence" || got == "closed", "{name} before authentication was answered: {out}");
    }
    assert_eq!(out["after_login"], "silence", "an early channel opened after the login: {out}");
    assert_eq!(out["sftp_after_login"], "ok", "{out}");
    assert!(!marker.exists(), "an early exec ran");

    // One login in all: the proper one at the end.
    let logins: Vec<_> = s.audit().into_iter().filter(|e| e.action == "login").collect();
    assert_eq!(logins.len(), 1, "{logins:?}");
    assert_eq!(logins[0].actor, "creditor:woonstad");
    assert_eq!(logins[0].outcome, meldpunt::audit::Outcome::Ok);
    probe::assert_log_well_formed(&s, &["touch"]);
    probe::assert_audit_clean(&s, &[]);
    let r = probe::assert_still_serving(&s, "after_early.csv");
    assert_eq!(r["records"]["accepted"], 3, "{r}");
}
