//! What the attack tests share: a daemon whose defender does not ban the attacking address
//! midway (the bans have their own tests in `tests/defender.rs`), a Python runner with a raw
//! TLS and a raw SSH prelude, and the checks every attack ends with: the log is one
//! well-formed line per event, the audit chain verifies, and a legitimate upload still works.

use std::path::Path;
use std::process::{Command, Output};

use super::common::{self, Server, local_file, text};

/// A logged daemon on a fresh demo installation, with bans out of the way so that one test
/// can try hundreds of hostile requests from 127.0.0.1 and then still be served.
pub fn hostile_server() -> Server {
    hostile_server_with(|_| {})
}

/// Like [`hostile_server`], letting the test edit the configuration first.
pub fn hostile_server_with(edit: impl FnOnce(&mut String)) -> Server {
    Server::start_logged(|t| {
        t.push_str("\n[defender]\nban_threshold = 100000\n");
        edit(t);
    })
}

/// The Python interpreter the tests use.
pub fn python_bin() -> String {
    std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

/// Runs `script` after [`PRELUDE`], with the daemon's ports, the CA and the demo parties'
/// folders in its environment (`SPORT`, `HPORT`, `CA`, `CLIENTS`) plus `env`.
pub fn python(s: &Server, script: &str, env: &[(&str, String)]) -> Output {
    Command::new(python_bin())
        .arg("-c")
        .arg(format!("{PRELUDE}\n{script}"))
        .env("SPORT", s.port.to_string())
        .env("HPORT", s.https_port.to_string())
        .env("CA", s.inst.ca_cert())
        .env("CLIENTS", s.inst.dir.join("clients"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("run python3 (scripts/test installs python3-paramiko)")
}

/// Runs [`python`] and parses the JSON its last stdout line prints; fails on a non-zero exit.
pub fn python_json(s: &Server, script: &str, env: &[(&str, String)]) -> serde_json::Value {
    let o = python(s, script, env);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap_or_else(|| panic!("no output: {}", text(&o)));
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

/// The Python helpers of [`python`], for a script run another way (in the background).
pub fn prelude() -> &'static str {
    PRELUDE
}

/// The admin listener's `/metrics` text.
pub fn admin_metrics(s: &Server) -> String {
    let url = format!("http://127.0.0.1:{}/metrics", s.admin_port);
    let o = Command::new("curl").args(["-sS", &url]).output().expect("run curl");
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Python helpers: `tls(party, cert=None, key=None)` opens a TLS connection with a party's
/// client certificate (none when `party` is None); `http(sock, raw)` sends raw bytes and reads
/// every answer until the server closes or goes quiet; `ssh(seen)` is a paramiko transport
/// after key exchange, before any authentication, that appends every message it receives to
/// `seen` as `(type, bytes)`; `wait_for(t, seen, types)` waits for one of those types (or
/// `closed`, `silence`); `send(t, *parts)` sends a hand-built message (a 1-byte `bytes` is the
/// type, `bool`, `int`, else a string); `key(party)` is a demo SSH key.
const PRELUDE: &str = r#"
import json, os, socket, ssl, sys, time
import paramiko
def tls(party, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=os.environ["CA"])
    if party is not None:
        d = os.path.join(os.environ["CLIENTS"], party)
        ctx.load_cert_chain(cert or os.path.join(d, "tls.crt"), key or os.path.join(d, "tls.key"))
    raw = socket.create_connection(("127.0.0.1", int(os.environ["HPORT"])), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="localhost")
def http(sock, raw, quiet=1.5):
    sock.sendall(raw)
    sock.settimeout(quiet)
    got = b""
    while True:
        try:
            b = sock.recv(65536)
        except (socket.timeout, ssl.SSLError, OSError):
            break
        if not b:
            break
        got += b
    return got.decode("latin-1")
def statuses(answer):
    import re
    return [int(c) for c in re.findall(r"HTTP/1\.1 (\d{3}) ", answer)]
def key(party):
    return paramiko.Ed25519Key.from_private_key_file(os.path.join(os.environ["CLIENTS"], party, "ssh_ed25519"))
def ssh(seen=None):
    t = paramiko.Transport(("127.0.0.1", int(os.environ["SPORT"])))
    if seen is not None:
        read = t.packetizer.read_message
        def recorded():
            ptype, m = read()
            seen.append((int(ptype), m.asbytes()))
            return ptype, m
        t.packetizer.read_message = recorded
    t.start_client(timeout=10)
    return t
def wait_for(t, seen, types, secs=4):
    end = time.time() + secs
    while time.time() < end:
        for ptype, payload in seen:
            if ptype in types:
                return ptype, payload
        if not t.is_active():
            return "closed", b""
        time.sleep(0.05)
    return "silence", b""
def send(t, *parts):
    m = paramiko.Message()
    for p in parts:
        if isinstance(p, bytes) and len(p) == 1: m.add_byte(p)
        elif isinstance(p, bool): m.add_boolean(p)
        elif isinstance(p, int): m.add_int(p)
        else: m.add_string(p)
    t._send_message(m)
    return m
"#;

/// Whether `line` starts the way every line of the daemon's log does: an RFC 3339 UTC time
/// and a level.
fn starts_like_a_log_line(line: &str) -> bool {
    let b = line.as_bytes();
    let stamp = b.len() > 28
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[10] == b'T'
        && line[..30.min(line.len())].contains('Z');
    let level =
        ["TRACE", "DEBUG", " INFO", " WARN", "ERROR"].iter().any(|l| line[..40.min(line.len())].contains(l));
    stamp && level
}

/// Every line of the daemon's log is one well-formed line: it starts with a time and a level
/// and holds no raw control character (a CR, NUL or escape from input would show here), and
/// none of `forbidden` (values sent that must never be logged).
pub fn assert_log_well_formed(s: &Server, forbidden: &[&str]) {
    let bytes = std::fs::read(s.log.as_ref().expect("a logged server")).unwrap();
    let log = String::from_utf8(bytes).expect("the log is UTF-8");
    assert!(log.lines().count() > 3, "the daemon logged: {log}");
    for line in log.lines() {
        assert!(starts_like_a_log_line(line), "a log line that does not start as one: {line:?}");
        assert!(!line.chars().any(|c| c.is_control() && c != '\t'), "raw control in {line:?}");
        for f in forbidden {
            assert!(!line.contains(f), "{f:?} logged: {line}");
        }
    }
}

/// `meldpunt audit verify` passes, and no audit event holds a raw control character or any of
/// `forbidden`.
pub fn assert_audit_clean(s: &Server, forbidden: &[&str]) {
    let o = common::meldpunt(s, &["audit", "verify"]);
    assert!(o.status.success(), "audit verify: {}", text(&o));
    for e in s.audit() {
        let line = serde_json::to_string(&e).unwrap();
        let raw = format!("{} {} {:?} {:?}", e.action, e.object, e.actor, e.auth);
        assert!(!raw.chars().any(char::is_control), "raw control in audit event {line}");
        for f in forbidden {
            assert!(!line.contains(f), "{f:?} in audit event {line}");
        }
    }
}

/// A legitimate upload by `woonstad` over SFTP is still accepted (the daemon and its state
/// survived the attack); returns its receipt.
pub fn assert_still_serving(s: &Server, name: &str) -> serde_json::Value {
    let before = s.receipts("woonstad").len();
    let prefix: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    let f = local_file(s, name, &common::sample_csv(&prefix, "woninghuur", 3));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/{name}\n", f.display()));
    assert!(o.status.success(), "a legitimate upload after the attack: {}", text(&o));
    let receipts = s.wait_receipts("woonstad", before + 1);
    let r = receipts.iter().find(|r| r["file_name"] == name).cloned();
    let r = r.unwrap_or_else(|| panic!("no receipt for {name}: {receipts:?}"));
    assert_eq!(r["status"], "accepted", "{r}");
    r
}

/// Every file under the data folder, as paths relative to it (to compare before and after).
pub fn data_files(s: &Server) -> std::collections::BTreeSet<String> {
    let data = s.data();
    common::scan::all_files(&data)
        .into_iter()
        .map(|p| p.strip_prefix(&data).unwrap_or(Path::new("?")).to_string_lossy().into_owned())
        .collect()
}

/// A valid sample of `n` records of `kind` with some fields replaced: `(record, column,
/// value)`, the record counted from 0 and the value written CSV-quoted.
pub fn sample_with(prefix: &str, kind: &str, n: u64, edits: &[(usize, &str, String)]) -> Vec<u8> {
    let base = String::from_utf8(common::sample_csv(prefix, kind, n)).unwrap();
    let header: Vec<&str> = base.lines().next().unwrap().split(';').collect();
    let mut out = format!("{}\n", header.join(";"));
    for (i, line) in base.lines().skip(1).enumerate() {
        let mut f: Vec<String> = line.split(';').map(str::to_owned).collect();
        for (_, column, value) in edits.iter().filter(|(r, _, _)| *r == i) {
            let c = header.iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
            f[c] = format!("\"{}\"", value.replace('"', "\"\""));
        }
        out.push_str(&f.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}
