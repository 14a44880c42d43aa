//! The defender with the real daemon and real clients: floods, slow-loris, failed-login bans
//! (docs/folders-and-protocols.md, "Defender").
//!
//! The attacker is 127.0.0.1, the legitimate party 127.0.0.2 (on Linux all of 127/8 is
//! loopback; the daemon listens on 127.0.0.1 and a client bound to 127.0.0.2 reaches it).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, bin, local_file, sample_csv, text};

const LEGIT: &str = "127.0.0.2";

/// Opens `n` sockets from 127.0.0.1 to each port, trickles a byte per socket every 0.5 s
/// (an SSH banner, or a TLS record that never completes) and reopens every socket the server
/// closes, for `secs` seconds. Prints `ready` after the first round.
const FLOOD: &str = r#"
import socket, sys, time
host, n, secs = "127.0.0.1", int(sys.argv[1]), float(sys.argv[2])
ports = [int(p) for p in sys.argv[3:]]
start = {p: (b"" if i == 0 else b"\x16\x03\x01\x01\x00") for i, p in enumerate(ports)}
trickle = {p: (b"SSH-2.0-" if i == 0 else b"\x00" * 300) for i, p in enumerate(ports)}
live = {p: [] for p in ports}
end = time.time() + secs
first = True
while time.time() < end:
    for p in ports:
        while len(live[p]) < n:
            try:
                s = socket.create_connection((host, p), timeout=1)
                s.sendall(start[p])
                live[p].append([s, 0])
            except OSError:
                break
        keep = []
        for entry in live[p]:
            s, i = entry
            try:
                s.setblocking(False)
                try:
                    if s.recv(4096) == b"":
                        s.close(); continue
                except BlockingIOError:
                    pass
                if i < len(trickle[p]):
                    s.send(trickle[p][i:i+1]); entry[1] = i + 1
                keep.append(entry)
            except OSError:
                s.close()
        live[p] = keep
    if first:
        print("ready", flush=True); first = False
    time.sleep(0.5)
"#;

fn python() -> String {
    std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

/// Starts the flood; returns when its first round is open.
fn flood(n: usize, secs: u32, ports: &[u16]) -> Child {
    let mut child = Command::new(python())
        .arg("-c")
        .arg(FLOOD)
        .arg(n.to_string())
        .arg(secs.to_string())
        .args(ports.iter().map(u16::to_string))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    child
}

/// Uploads a file as `party` over SFTP from `ip`; returns whether it worked, the time it took
/// and the client's output.
fn sftp_upload(s: &Server, ip: &str, party: &str, name: &str) -> (bool, Duration, String) {
    let f = local_file(s, name, &sample_csv("V", "drinkwater", 3));
    let bind = format!("BindAddress={ip}");
    let t = Instant::now();
    let o = s.sftp_with(
        party,
        &s.key(party),
        &["-o", &bind, "-o", "ConnectTimeout=5"],
        &format!("put {} /inbox/{name}\n", f.display()),
    );
    (o.status.success(), t.elapsed(), text(&o))
}

/// Uploads a file as `party` over HTTPS from `ip`; returns the status, the time and the body.
fn https_upload(s: &Server, ip: &str, party: &str, name: &str) -> (u16, Duration, String) {
    let f = local_file(s, name, &sample_csv("E", "elektriciteit", 3));
    let t = Instant::now();
    let (code, body) = s.curl(
        party,
        &["--interface", ip, "--max-time", "5", "-T", f.to_str().unwrap()],
        &format!("/v1/inbox/{name}"),
    );
    (code, t.elapsed(), body)
}

fn log_lines(s: &Server) -> usize {
    std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap_or_default().lines().count()
}

#[test]
fn a_flood_and_slow_loris_from_one_address_leave_others_served_and_the_log_small() {
    let s = Server::start_logged(|_| {});
    let before = log_lines(&s);
    let mut attacker = flood(300, 8, &[s.port, s.https_port]);
    // Let it run: refused sockets are reopened every half second.
    std::thread::sleep(Duration::from_secs(2));
    let (ok, took, out) = sftp_upload(&s, LEGIT, "vitens", "vitens_flood.csv");
    assert!(ok, "SFTP from another address during the flood: {out}");
    assert!(took < Duration::from_secs(2), "SFTP upload took {took:?}");
    let (code, took, body) = https_upload(&s, LEGIT, "eneco", "eneco_flood.csv");
    assert_eq!(code, 201, "HTTPS from another address during the flood: {body}");
    assert!(took < Duration::from_secs(2), "HTTPS upload took {took:?}");
    attacker.wait().unwrap();
    // The summaries of the last 10 s come out.
    std::thread::sleep(Duration::from_secs(11));
    let grown = log_lines(&s) - before;
    let log = std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap();
    assert!(grown < 40, "the flood wrote {grown} log lines:\n{log}");
    assert!(log.contains("connections refused or cut in the last 10 s"), "{log}");
    let metrics = admin_metrics(&s);
    let refused = |proto: &str, cause: &str| {
        let key = format!("meldpunt_connections_refused_total{{protocol=\"{proto}\",cause=\"{cause}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(&key)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    assert!(refused("sftp", "origin_unauthenticated") > 100, "{metrics}");
    assert!(refused("https", "origin_unauthenticated") > 100, "{metrics}");
}

fn admin_metrics(s: &Server) -> String {
    let o = Command::new("curl")
        .args(["-sS", &format!("http://127.0.0.1:{}/metrics", s.admin_port)])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Logs in `attempts` times from 127.0.0.1 with a key no party has, in 10 threads, as
/// `user`; prints how many attempts were refused as a login and how many could not connect.
const BAD_LOGINS: &str = r#"
import os, sys, threading, paramiko
port, user, attempts = int(os.environ["PORT"]), sys.argv[1], int(sys.argv[2])
key = paramiko.Ed25519Key.from_private_key_file(os.environ["KEY"])
counts = {"refused": 0, "closed": 0, "other": 0}
lock = threading.Lock()
def one():
    try:
        t = paramiko.Transport(("127.0.0.1", port))
        t.banner_timeout = 5
        t.connect()
    except Exception:
        return "closed"
    try:
        t.auth_publickey(user, key)
        return "other"
    except paramiko.AuthenticationException:
        return "refused"
    except Exception:
        return "closed"
    finally:
        t.close()
def worker(k):
    for _ in range(k):
        r = one()
        with lock:
            counts[r] += 1
threads = [threading.Thread(target=worker, args=(attempts // 10,)) for _ in range(10)]
for t in threads: t.start()
for t in threads: t.join()
print(counts["refused"], counts["closed"], counts["other"])
"#;

fn bad_logins(s: &Server, user: &str, attempts: usize) -> (usize, usize) {
    // A key that belongs to no party: the demo SSH key of another installation.
    let other = tempfile::tempdir().unwrap();
    let inst = meldpunt::demo::setup::create(&other.path().join("x")).unwrap();
    let o = s.paramiko(
        user,
        &inst.ssh_key("vitens"),
        &format!("import sys\nsys.argv = ['x', '{user}', '{attempts}']\n{BAD_LOGINS}"),
    );
    let out = text(&o);
    let n: Vec<usize> = out.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(o.status.success() && n.len() == 3 && n[2] == 0, "{out}");
    (n[0], n[1])
}

fn ban_cli(s: &Server, args: &[&str]) -> (bool, String) {
    let o = Command::new(bin()).arg("ban").args(args).arg("--config").arg(&s.inst.config).output().unwrap();
    (o.status.success(), text(&o))
}

#[test]
fn failed_logins_ban_the_address_not_the_party_and_the_operator_lifts_it() {
    let s = Server::start();
    // As a real party's name: the ban must fall on the address, never on vitens.
    let (refused, closed) = bad_logins(&s, "vitens", 200);
    assert!(refused < 60, "the address was banned after a few dozen failed logins, not {refused}");
    assert!(closed > 100, "later attempts are closed at accept: {refused} refused, {closed} closed");
    // vitens itself, from its own address, is not locked out.
    let (ok, took, out) = sftp_upload(&s, LEGIT, "vitens", "vitens_after_ban.csv");
    assert!(ok && took < Duration::from_secs(2), "{took:?} {out}");
    // The attacking address is refused, over HTTPS too.
    let (ok, _, _) = sftp_upload(&s, "127.0.0.1", "vitens", "vitens_banned.csv");
    assert!(!ok, "the banned address cannot log in");
    let (code, _, _) = https_upload(&s, "127.0.0.1", "eneco", "eneco_banned.csv");
    assert_eq!(code, 0, "the banned address gets no TLS handshake");
    let audit = s.audit();
    let bans: Vec<_> = audit.iter().filter(|r| r.action == "ban").collect();
    assert_eq!(bans.len(), 1, "one ban");
    assert_eq!(bans[0].origin.as_deref(), Some("127.0.0.1"));
    assert_eq!(bans[0].actor, "system");
    assert!(
        audit.iter().filter(|r| r.action == "login").count() < 80,
        "refusals after the ban write no rows"
    );
    let (ok, list) = ban_cli(&s, &["list"]);
    assert!(ok && list.contains("127.0.0.1") && !list.contains(LEGIT), "{list}");
    let (ok, out) = ban_cli(&s, &["remove", "127.0.0.1"]);
    assert!(ok, "{out}");
    let (ok, out) = ban_cli(&s, &["remove", "127.0.0.1"]);
    assert!(!ok && out.contains("not banned"), "{out}");
    // The daemon lets it in again within seconds.
    std::thread::sleep(Duration::from_secs(3));
    let (ok, _, out) = sftp_upload(&s, "127.0.0.1", "vitens", "vitens_lifted.csv");
    assert!(ok, "after `ban remove`: {out}");
    let unban = s.audit().into_iter().find(|r| r.action == "unban").expect("the lift is audited");
    assert_eq!(unban.actor, "operator");
    assert_eq!(unban.object["address"], "127.0.0.1");
    let (_, list) = ban_cli(&s, &["list"]);
    assert!(list.contains("no origin is banned"), "{list}");
}

/// Connects `n` times from 127.0.0.1 and sends only `none` authentication requests.
const NONE_ONLY: &str = r#"
import os, socket, paramiko
port, n = int(os.environ["PORT"]), int(os.environ["N"])
done = 0
for _ in range(n):
    try:
        t = paramiko.Transport(("127.0.0.1", port)); t.banner_timeout = 5; t.connect()
    except Exception:
        continue
    try:
        t.auth_none("vitens")
    except Exception:
        pass
    t.close(); done += 1
print(done)
"#;

#[test]
fn none_authentication_probes_write_no_audit_row_each_and_get_the_address_banned() {
    let s = Server::start();
    let before = s.audit().len();
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(python)
        .arg("-c")
        .arg(NONE_ONLY)
        .env("PORT", s.port.to_string())
        .env("N", "60")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    std::thread::sleep(Duration::from_millis(500));
    let new: Vec<_> = s.audit().into_iter().skip(before).collect();
    let logins = new.iter().filter(|r| r.action == "login").count();
    assert_eq!(logins, 0, "no audit row per probe: {new:#?}");
    assert_eq!(new.iter().filter(|r| r.action == "ban").count(), 1, "the ban is audited: {new:#?}");
}

/// Sends a PUT whose body trickles one byte every 0.3 s, with a client certificate; prints
/// the status line the server answers with (or `none` after `secs`).
const TRICKLE: &str = r#"
import os, socket, ssl, sys, time
port, crt, key, ca, secs = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
ctx = ssl.create_default_context(cafile=ca); ctx.load_cert_chain(crt, key)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.sendall(b"PUT /v1/inbox/slow.csv HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n")
s.settimeout(0.3)
end = time.time() + secs
while time.time() < end:
    try:
        got = s.recv(200)
        print(got.split(b"\r\n")[0].decode() if got else "closed"); sys.exit(0)
    except socket.timeout:
        pass
    try:
        s.send(b"x")
    except OSError:
        print("closed"); sys.exit(0)
print("none")
"#;

fn trickle(s: &Server, party: &str, secs: u32) -> Child {
    let (crt, key) = s.inst.tls_pair(party);
    Command::new(python())
        .arg("-c")
        .arg(TRICKLE)
        .arg(s.https_port.to_string())
        .arg(crt)
        .arg(key)
        .arg(s.inst.ca_cert())
        .arg(secs.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_trickled_https_body_is_cut_by_its_deadline_not_kept_alive_by_each_byte() {
    let s = Server::start_with(|t| {
        *t = t.replace("[https]\n", "[https]\nidle_timeout_secs = 2\n");
        assert!(t.contains("idle_timeout_secs = 2"), "the demo config has an [https] section");
    });
    let t = Instant::now();
    let o = trickle(&s, "woonstad", 15).wait_with_output().unwrap();
    let line = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    assert!(line.contains("408"), "a body at ~3 bytes/s is cut: {line:?}");
    assert!(t.elapsed() < Duration::from_secs(8), "cut after {:?}", t.elapsed());
}

#[test]
fn one_party_cannot_take_every_https_connection() {
    let s = Server::start();
    // woonstad holds 12 trickling uploads (more than its 8).
    let hogs: Vec<Child> = (0..12)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            trickle(&s, "woonstad", 6)
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let (code, took, body) = https_upload(&s, "127.0.0.1", "eneco", "eneco_busy.csv");
    assert_eq!(code, 201, "{body}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let (code, _, body) = https_upload(&s, "127.0.0.1", "woonstad", "woonstad_more.csv");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("too_many_connections") && body.contains("maximum of 8 connections"), "{body}");
    let answers: Vec<String> = hogs
        .into_iter()
        .map(|c| String::from_utf8_lossy(&c.wait_with_output().unwrap().stdout).trim().to_owned())
        .collect();
    assert_eq!(answers.iter().filter(|a| a.contains("503")).count(), 4, "{answers:?}");
}

#[test]
fn too_many_headers_get_431_and_others_are_still_served() {
    let s = Server::start();
    let mut args: Vec<String> = Vec::new();
    for i in 0..80 {
        args.push("-H".into());
        args.push(format!("X-Pad-{i}: x"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, body) = s.curl("eneco", &args, "/v1/receipts");
    assert_eq!(code, 431, "{body}");
    let big = format!("X-Big: {}", "a".repeat(70 * 1024));
    let (code, body) = s.curl("eneco", &["-H", &big], "/v1/receipts");
    assert_eq!(code, 431, "{body}");
    let (code, took, body) = https_upload(&s, LEGIT, "eneco", "eneco_headers.csv");
    assert!(code == 201 && took < Duration::from_secs(2), "{code} {took:?} {body}");
}
