//! Hand-built `publickey` authentication requests (SSH_MSG_USERAUTH_REQUEST, 50) against the
//! class of MOVEit CVE-2024-5806, where a malformed key or an error path let a client in:
//! garbage and empty key blobs, an algorithm name that disagrees with the key, key queries
//! without a signature (known key, another key, unknown user), a valid key's signature over a
//! wrong session id, a garbage signature and another key's signature. Never a login; a query
//! for the registered key gets PK_OK (60) as RFC 4252 says and nothing more; a known user with
//! a wrong key gets the same failure (51) as an unknown user; the daemon keeps serving. A
//! correctly built request, as a control, does log in.

use super::probe;

/// Each case on its own transport (after `ssh-userauth` is accepted): prints, per case, the
/// first answer among failure (51), success (52) and PK_OK (60), or `closed` / `silence`, and
/// the failure payloads of three cases to compare.
const PY_BLOBS: &str = r#"
from paramiko.common import cMSG_SERVICE_REQUEST, cMSG_USERAUTH_REQUEST
def userauth(t, user, alg, blob, sig=None, session=None, signer=None):
    head = [user, "ssh-connection", "publickey", sig is not None or signer is not None, alg, blob]
    if signer is not None:
        data = paramiko.Message(); data.add_string(session); data.add_byte(cMSG_USERAUTH_REQUEST)
        data.add_string(user); data.add_string("ssh-connection"); data.add_string("publickey")
        data.add_boolean(True); data.add_string(alg); data.add_string(blob)
        sig = signer.sign_ssh_data(data.asbytes()).asbytes()
    send(t, cMSG_USERAUTH_REQUEST, *(head + ([sig] if sig is not None else [])))
mine = key("woonstad"); blob = mine.asbytes(); other = key("vitens")
cases = {
    "garbage_blob": lambda t: userauth(t, "woonstad", "ssh-ed25519", os.urandom(51)),
    "garbage_blob_signed": lambda t: userauth(t, "woonstad", "ssh-ed25519", os.urandom(51), sig=os.urandom(83)),
    "empty_blob": lambda t: userauth(t, "woonstad", "ssh-ed25519", b""),
    "empty_algorithm_and_blob": lambda t: userauth(t, "woonstad", "", b""),
    "algorithm_mismatch_query": lambda t: userauth(t, "woonstad", "ssh-rsa", blob),
    "algorithm_mismatch_signed": lambda t: userauth(t, "woonstad", "rsa-sha2-256", blob, session=t.session_id, signer=mine),
    "query_registered_key": lambda t: userauth(t, "woonstad", "ssh-ed25519", blob),
    "query_other_key": lambda t: userauth(t, "woonstad", "ssh-ed25519", other.asbytes()),
    "query_unknown_user": lambda t: userauth(t, "mallory", "ssh-ed25519", blob),
    "wrong_session_id": lambda t: userauth(t, "woonstad", "ssh-ed25519", blob, session=os.urandom(32), signer=mine),
    "garbage_signature": lambda t: userauth(t, "woonstad", "ssh-ed25519", blob, sig=os.urandom(83)),
    "other_keys_signature": lambda t: userauth(t, "woonstad", "ssh-ed25519", blob, session=t.session_id, signer=other),
    "unknown_user_signed": lambda t: userauth(t, "mallory", "ssh-ed25519", blob, session=t.session_id, signer=mine),
    "control_valid": lambda t: userauth(t, "woonstad", "ssh-ed25519", blob, session=t.session_id, signer=mine),
}
out, failures = {}, {}
for name, fn in cases.items():
    seen = []
    t = ssh(seen)
    send(t, cMSG_SERVICE_REQUEST, "ssh-userauth")
    assert wait_for(t, seen, {6})[0] == 6, name
    fn(t)
    got, payload = wait_for(t, seen, {51, 52, 60})
    out[name] = got
    if got == 51:
        failures[name] = payload.hex()
    t.close()
out["same_failure"] = len({failures.get(n) for n in ("query_other_key", "query_unknown_user", "unknown_user_signed")}) == 1
print(json.dumps(out))
"#;

#[test]
fn malformed_keys_queries_and_forged_signatures_never_log_in() {
    let s = probe::hostile_server();
    let out = probe::python_json(&s, PY_BLOBS, &[]);
    assert_eq!(out["control_valid"], 52, "the hand-built request is right: {out}");
    for case in
        ["garbage_blob", "garbage_blob_signed", "empty_blob", "empty_algorithm_and_blob", "garbage_signature"]
    {
        let got = &out[case];
        assert!(*got == 51 || *got == "closed", "{case}: {out}");
    }
    for case in [
        "algorithm_mismatch_query",
        "algorithm_mismatch_signed",
        "query_other_key",
        "query_unknown_user",
        "wrong_session_id",
        "other_keys_signature",
        "unknown_user_signed",
    ] {
        assert_eq!(out[case], 51, "{case}: {out}");
    }
    assert_eq!(out["query_registered_key"], 60, "a query is answered, not logged in: {out}");
    assert_eq!(out["same_failure"], true, "a known user with another key reads as an unknown user: {out}");

    let logins: Vec<_> = s
        .audit()
        .into_iter()
        .filter(|e| e.action == "login" && e.outcome == meldpunt::audit::Outcome::Ok)
        .collect();
    assert_eq!(logins.len(), 1, "only the control logged in: {logins:?}");
    probe::assert_log_well_formed(&s, &["mallory"]);
    probe::assert_audit_clean(&s, &["mallory"]);
    probe::assert_still_serving(&s, "after_blobs.csv");
}
