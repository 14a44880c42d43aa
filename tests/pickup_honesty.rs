//! Pickups are counted honestly (docs/folders-and-protocols.md, "What counts as picked up"): a
//! ranged request alone never counts, a download whose connection died with bytes still
//! unacknowledged does not count, a complete download does, and so do ranges of several
//! requests (a resumed download) that together cover every byte. SFTP: a partial read and a
//! close does not count. Real daemon, real `curl`, Python's `ssl`, OpenSSH `sftp`
//! and paramiko.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, delivered, local_file, run_batch, text};
use meldpunt::domain::period::Period;

const CODE: &str = "GM0505";

fn pickup_dir(s: &Server) -> PathBuf {
    s.data().join("parties").join(CODE).join("pickup")
}

fn manifest(s: &Server, p: Period) -> serde_json::Value {
    let path = pickup_dir(s).join(format!("{CODE}_{p}_v1_manifest.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// `picked_up_at` of `name` as `GET /v1/pickup` lists it.
fn listed_picked_up_at(s: &Server, name: &str) -> serde_json::Value {
    let (status, body) = s.curl(CODE, &[], "/v1/pickup");
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let file = list["files"].as_array().unwrap().iter().find(|f| f["name"] == name).cloned();
    file.unwrap_or_else(|| panic!("{name} listed: {list}"))["picked_up_at"].clone()
}

/// Audit `pickup` events for `name`.
fn pickups_of(s: &Server, name: &str) -> Vec<meldpunt::audit::Record> {
    s.audit().into_iter().filter(|e| e.action == "pickup" && e.object["bundle"] == name).collect()
}

/// Asserts `name` is not picked up by any account the daemon keeps: the listing, the state
/// database (what the listing reads), the manifest and the audit log.
fn assert_not_picked_up(s: &Server, p: Period, name: &str, why: &str) {
    assert_eq!(listed_picked_up_at(s, name), serde_json::Value::Null, "{why}: listing");
    let m = manifest(s, p);
    assert!(m["picked_up"].get(name).is_none(), "{why}: manifest {m}");
    assert!(pickups_of(s, name).is_empty(), "{why}: audit {:?}", pickups_of(s, name));
}

/// Waits (up to 10 s) for the audit event of the first pickup of `name` (recorded last, after
/// the state and the manifest), then checks the listing and the manifest too.
fn assert_picked_up(s: &Server, p: Period, name: &str, why: &str) -> Vec<meldpunt::audit::Record> {
    let first = |events: &[meldpunt::audit::Record]| events.iter().any(|e| e.object["first"] == true);
    let start = Instant::now();
    let mut events = pickups_of(s, name);
    while !first(&events) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
        events = pickups_of(s, name);
    }
    assert!(first(&events), "{why}: audit {events:?}");
    assert!(listed_picked_up_at(s, name).is_string(), "{why}: listing");
    let m = manifest(s, p);
    assert_eq!(m["picked_up"][name]["how"], "download:https", "{why}: manifest {m}");
    events
}

fn bundle_of(s: &Server, p: Period) -> (String, u64, String) {
    let m = manifest(s, p);
    let f =
        m["files"].as_array().unwrap().iter().find(|f| f["name"].as_str().unwrap().contains(".csv")).unwrap();
    (
        f["name"].as_str().unwrap().to_owned(),
        f["bytes"].as_u64().unwrap(),
        f["sha256"].as_str().unwrap().to_owned(),
    )
}

/// A municipality's client that asks for `path` over HTTP/1.1, writes the first `keep` bytes of
/// the body to `part`, then is killed (SIGKILL, as an operator killing a hung job would) with
/// the rest unread. Python's `ssl`, not `curl --limit-rate`: curl 7.88 takes about 2 MB at
/// full speed before its rate limit begins, so a "slow" curl sometimes had the whole bundle.
fn killed_after_reading(s: &Server, path: &str, keep: u64, part: &Path) -> std::process::Output {
    let (cert, key) = s.inst.tls_pair(CODE);
    let script = r#"
import os, signal, socket, ssl, sys
ca, cert, key, port, path, keep, part = sys.argv[1:8]
keep = int(keep)
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
s = ctx.wrap_socket(socket.create_connection(("localhost", int(port))), server_hostname="localhost")
s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(65536)
head, body = buf.split(b"\r\n\r\n", 1)
if not head.startswith(b"HTTP/1.1 200"):
    sys.exit("answer: %r" % head)
with open(part, "wb") as f:
    body = body[:keep]
    f.write(body)
    n = len(body)
    while n < keep:
        chunk = s.recv(min(65536, keep - n))
        if not chunk:
            sys.exit("the connection closed after %d bytes" % n)
        f.write(chunk)
        n += len(chunk)
os.kill(os.getpid(), signal.SIGKILL)
"#;
    Command::new("python3")
        .args(["-c", script])
        .arg(s.inst.ca_cert())
        .arg(cert)
        .arg(key)
        .arg(s.https_port.to_string())
        .arg(path)
        .arg(keep.to_string())
        .arg(part)
        .output()
        .expect("run python3")
}

/// A delivered installation whose GM0505 CSV bundle is about 2.5 MB: small enough that the
/// kernel's socket buffers (up to 4 MiB for sending) take all of it long before a slow client
/// has read it, which is what made a killed download count before.
fn big_delivery() -> (Server, Period) {
    let s = Server::start();
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let mut csv = Vec::new();
    meldpunt::demo::sample::write_csv(&mut csv, "W", "woninghuur".parse().unwrap(), 12_000, 2400, 7, today)
        .unwrap();
    let f = local_file(&s, "big.csv", &csv);
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/big.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let p = run_batch(&s);
    (s, p)
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn a_range_for_the_last_byte_is_not_a_pickup_but_ranges_covering_the_file_are() {
    let (s, p) = delivered();
    let (name, size, sha) = bundle_of(&s, p);
    let url = format!("/v1/pickup/{name}");
    let tail = s.tmp.path().join("tail");
    let (status, body) = s.curl(CODE, &["-H", "Range: bytes=-1", "-o", tail.to_str().unwrap()], &url);
    assert_eq!(status, 206, "{body}");
    assert_eq!(file_len(&tail), 1);
    std::thread::sleep(Duration::from_millis(500));
    assert_not_picked_up(&s, p, &name, "the last byte alone");

    // The rest in a second request: every byte has now been taken, over two requests.
    let head = s.tmp.path().join("head");
    let range = format!("0-{}", size - 2);
    let (status, body) = s.curl(CODE, &["-r", &range, "-o", head.to_str().unwrap()], &url);
    assert_eq!(status, 206, "{body}");
    let mut bytes = std::fs::read(&head).unwrap();
    bytes.extend(std::fs::read(&tail).unwrap());
    assert_eq!(sha256_hex(&bytes), sha, "the two ranges are the file");
    assert_picked_up(&s, p, &name, "two ranges that cover the file");

    // Two whole downloads on one kept-alive connection: each counts on its own bytes.
    let json = name.replace(".csv.age", ".json.age");
    let (a, b) = (s.tmp.path().join("a"), s.tmp.path().join("b"));
    let first = format!("https://localhost:{}/v1/pickup/{json}", s.https_port);
    let logins = || s.audit().iter().filter(|e| e.action == "login").count();
    let before = logins();
    let (status, body) = s.curl(CODE, &["-o", a.to_str().unwrap(), &first, "-o", b.to_str().unwrap()], &url);
    assert_eq!(status, 200, "{body}");
    assert_eq!(logins(), before + 1, "both downloads went over one connection");
    let m = manifest(&s, p);
    let json_sha =
        m["files"].as_array().unwrap().iter().find(|f| f["name"] == json).unwrap()["sha256"].clone();
    assert_eq!(sha256_hex(&std::fs::read(&a).unwrap()), json_sha.as_str().unwrap());
    assert_eq!(sha256_hex(&std::fs::read(&b).unwrap()), sha);
    let events = assert_picked_up(&s, p, &json, "the first of two downloads on one connection");
    assert_eq!(events.len(), 1, "{events:?}");
    let start = Instant::now();
    while pickups_of(&s, &name).len() < 2 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(pickups_of(&s, &name).len(), 2, "the second download counts again");
}

#[test]
fn a_killed_slow_https_download_is_not_a_pickup_and_a_complete_one_is() {
    let (s, p) = big_delivery();
    let (name, size, sha) = bundle_of(&s, p);
    assert!(size > 2_000_000, "a bundle of some MB: {size} bytes");
    let url = format!("/v1/pickup/{name}");

    // The client reads 300 KB of the 2.7 MB, then is killed: the daemon has written far more
    // than that into the socket by then.
    let part = s.tmp.path().join("part");
    let o = killed_after_reading(&s, &url, 300_000, &part);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(o.status.signal(), Some(9), "the client was killed mid-way: {}", text(&o));
    let got = file_len(&part);
    assert!(got > 0 && got < size, "a partial download: {got} of {size} bytes");
    // Give the daemon time to (wrongly) count it: the connection is gone by now.
    std::thread::sleep(Duration::from_secs(2));
    assert_not_picked_up(&s, p, &name, "a download killed mid-way");

    // The same client resumes with `curl -C -` (Range: bytes=<what it has>-) and ends up
    // with every byte: that counts.
    let (status, body) = s.curl(CODE, &["-C", "-", "-o", part.to_str().unwrap()], &url);
    assert_eq!(status, 206, "{body}");
    assert_eq!(sha256_hex(&std::fs::read(&part).unwrap()), sha, "the resumed download is whole");
    let events = assert_picked_up(&s, p, &name, "a resumed download");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].object["from"], got, "{events:?}");

    // A complete download in one request counts (again: an audit event, not the first).
    let whole = s.tmp.path().join("whole");
    let (status, _) = s.curl(CODE, &["-o", whole.to_str().unwrap()], &url);
    assert_eq!(status, 200);
    assert_eq!(sha256_hex(&std::fs::read(&whole).unwrap()), sha);
    let start = Instant::now();
    while pickups_of(&s, &name).len() < 2 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let events = pickups_of(&s, &name);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].object["first"], false);
    assert_eq!(events[1].object["from"], serde_json::Value::Null);
}

#[test]
fn an_sftp_partial_read_and_close_is_not_a_pickup() {
    let (s, p) = delivered();
    let (name, size, _) = bundle_of(&s, p);
    // paramiko reads all but the last byte, then closes the handle; then reads from offset 1
    // to the end in another handle: neither handle had every byte.
    let script = format!(
        r#"
t, sftp = connect()
f = sftp.open("/pickup/{name}", "rb")
data = f.read({n})
assert len(data) == {n}, len(data)
f.close()
f = sftp.open("/pickup/{name}", "rb")
f.seek(1)
rest = f.read()
assert len(rest) == {n}, len(rest)
f.close()
t.close()
print("ok")
"#,
        n = size - 1
    );
    let o = s.paramiko(CODE, &s.key(CODE), &script);
    assert!(o.status.success() && text(&o).contains("ok"), "{}", text(&o));
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        s.audit().iter().all(|e| !(e.action == "pickup" && e.object["bundle"] == name)),
        "a partial SFTP read is not a pickup"
    );
    assert_eq!(listed_picked_up_at(&s, &name), serde_json::Value::Null);
    assert!(manifest(&s, p)["picked_up"].get(&name).is_none());
}
