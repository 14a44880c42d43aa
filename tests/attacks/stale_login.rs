//! The class of OpenSSH CVE-2024-6387 (regreSSHion), a race when the login grace time runs
//! out: many connections that never finish authenticating (silent after connect, after the
//! banner, after key exchange) hit `[sftp] auth_timeout_secs`, and some clients send a valid
//! login right at the deadline, while a legitimate client logs in and uploads. The daemon
//! stays up and serving, every stale connection is cut near the timeout and counted, and a
//! racing login either succeeds whole (audited) or is cut (not audited as a login).
//! (Floods and slow-loris from one address: `tests/defender.rs`.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::common::{self, local_file};
use super::probe;

/// The login time the test gives the daemon.
const AUTH_TIMEOUT_SECS: u64 = 2;

/// Clients that send a valid login within 0.12 s either side of the deadline.
const RACERS: usize = 12;

/// Opens 8 stale connections of each kind, each from its own loopback address (the per-origin
/// limit of unauthenticated connections is 8), and `$RACERS` racers; prints `ready`, then per kind
/// the seconds after which the server closed each connection (`null`: still open after 8 s),
/// and per racer `logged in` or how it failed.
const PY_STALE: &str = r#"
import threading
port, timeout = int(os.environ["SPORT"]), float(os.environ["TIMEOUT"])
RACERS = int(os.environ["RACERS"])
def sock_from(ip):
    s = socket.socket(); s.bind((ip, 0)); s.connect(("127.0.0.1", port)); return s
def closed_after(s, start):
    s.settimeout(8)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    took = time.time() - start
    return round(took, 2) if took < 8 else None
results = {"silent": [], "banner": [], "kex": [], "racer": []}
def silent(ip):
    start = time.time(); s = sock_from(ip)
    results["silent"].append(closed_after(s, start))
def banner(ip):
    start = time.time(); s = sock_from(ip); s.sendall(b"SSH-2.0-stale\r\n")
    results["banner"].append(closed_after(s, start))
def kex(ip):
    start = time.time(); t = paramiko.Transport(sock_from(ip)); t.start_client(timeout=5)
    while t.is_active() and time.time() - start < 8:
        time.sleep(0.02)
    results["kex"].append(round(time.time() - start, 2) if not t.is_active() else None)
def racer(ip, i):
    try:
        start = time.time(); t = paramiko.Transport(sock_from(ip)); t.start_client(timeout=5)
        time.sleep(max(0, timeout - 0.12 + 0.02 * i - (time.time() - start)))
        t.auth_publickey("woonstad", key("woonstad")); results["racer"].append("logged in")
        t.close()
    except Exception as e:
        results["racer"].append(type(e).__name__)
threads = []
for n, fn in enumerate([silent, banner, kex]):
    for i in range(8):
        threads.append(threading.Thread(target=fn, args=("127.0.%d.%d" % (10 + n, 10 + i),)))
for i in range(RACERS):
    threads.append(threading.Thread(target=racer, args=("127.0.20.%d" % (10 + i), i)))
for t in threads:
    t.start()
print("ready", flush=True)
for t in threads:
    t.join()
print(json.dumps(results))
"#;

#[test]
fn stale_logins_are_cut_at_the_timeout_while_a_legitimate_upload_goes_through() {
    let mut s = probe::hostile_server_with(|t| {
        *t = t.replace("[sftp]\n", &format!("[sftp]\nauth_timeout_secs = {AUTH_TIMEOUT_SECS}\n"));
        assert!(t.contains("auth_timeout_secs"), "the demo configuration has an [sftp] section");
        // The [defender] section is last: room for every stale connection, so the legitimate
        // one is never dropped early at random (that limit has its own test in defender.rs).
        t.push_str("max_unauthenticated = 256\n");
    });
    let mut child = Command::new(probe::python_bin())
        .arg("-c")
        .arg(format!("{}\n{PY_STALE}", probe::prelude()))
        .env("SPORT", s.port.to_string())
        .env("CLIENTS", s.inst.dir.join("clients"))
        .env("TIMEOUT", AUTH_TIMEOUT_SECS.to_string())
        .env("RACERS", RACERS.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");

    // Meanwhile a legitimate client from its own address logs in and uploads.
    let f = local_file(&s, "legit.csv", &common::sample_csv("L", "woninghuur", 3));
    let o = s.sftp_with(
        "woonstad",
        &s.key("woonstad"),
        &["-o", "BindAddress=127.0.0.2"],
        &format!("put {} /inbox/legit.csv\n", f.display()),
    );
    assert!(o.status.success(), "{}", common::text(&o));
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(child.wait().unwrap().success());
    let results: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));

    let limit = AUTH_TIMEOUT_SECS as f64;
    for kind in ["silent", "banner", "kex"] {
        let closed = results[kind].as_array().unwrap();
        assert_eq!(closed.len(), 8, "{results}");
        for c in closed {
            let c = c.as_f64().unwrap_or_else(|| panic!("a {kind} connection was never cut: {results}"));
            assert!(c > limit - 0.5 && c < limit + 3.0, "a {kind} connection cut after {c} s: {results}");
        }
    }
    let racers = results["racer"].as_array().unwrap();
    let won = racers.iter().filter(|r| *r == "logged in").count();
    assert_eq!(racers.len(), RACERS, "{results}");

    std::thread::sleep(Duration::from_millis(300));
    assert!(s.running(), "the daemon is up");
    let metrics = probe::admin_metrics(&s);
    let cut = metrics
        .lines()
        .find(|l| {
            l.starts_with("meldpunt_connections_refused_total{protocol=\"sftp\",cause=\"auth_timeout\"}")
        })
        .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(cut >= 24 && cut <= 24 + RACERS as u64, "stale connections counted as auth_timeout: {cut}");
    let logins: Vec<_> = s
        .audit()
        .into_iter()
        .filter(|e| e.action == "login" && e.outcome == meldpunt::audit::Outcome::Ok)
        .collect();
    // A login verified as the deadline passed was once audited as a login and then cut (the
    // timeout and the login did not decide under one lock): audited logins are exactly the
    // ones the clients saw succeed.
    assert_eq!(logins.len(), 1 + won, "the legitimate login and each racer that got in: {results}");
    assert_eq!(s.receipts("woonstad").len(), 1);
    probe::assert_log_well_formed(&s, &[]);
    probe::assert_audit_clean(&s, &[]);
}
