//! The SFTP limits of issue 20, each hit by one client while another party uploads and gets an
//! accepted receipt (docs/folders-and-protocols.md, "SFTP" and "Limits").
//!
//! | limit | setting, default | test |
//! |---|---|---|
//! | SFTP packet size | fixed, 262144 bytes (`limits@openssh.com` `max-packet-length`) | `packets::an_oversized_packet_closes_only_its_channel_with_a_message` |
//! | READ length | fixed, 261120 bytes (`limits@openssh.com` `max-read-length`) | `packets::a_64_mib_read_gets_at_most_the_announced_read_length` |
//! | open handles | `[sftp] max_open_files`, 16 per session | `handles::thousands_of_opens_on_one_session_stop_at_the_handle_limit` |
//! | directory listing size | `[sftp] max_listing_entries`, 10000 per session; answers of at most 128 entries (fixed) | `handles::a_long_listing_comes_in_bounded_chunks_and_is_capped` |
//! | files per period per creditor | `[intake] max_files_per_period`, 2000 | `files::many_tiny_files_stop_at_the_files_per_period_limit` |
//! | upload size | `[intake] max_file_bytes`, 2 GiB | `files::an_upload_over_the_size_limit_is_refused_and_nothing_is_kept` (SFTP); HTTPS: `tests/https_curl.rs` `oversize_body_is_413_with_the_limit_and_nothing_is_stored` |
//! | terugmelding size | `[feedback] max_file_bytes`, 16 MiB | `files::a_terugmelding_over_its_size_limit_is_refused_and_nothing_is_kept` |
//! | session channels | fixed, 4 per connection (`MAX_CHANNELS` in `src/transport/sftp/channel_slot.rs`) | `channels::a_connection_opens_at_most_four_channels_and_a_closed_one_frees_its_place` |
//!
//! Covered elsewhere, not repeated here:
//!
//! | limit | setting, default | test |
//! |---|---|---|
//! | sessions per party, in all | `[sftp] max_sessions_per_party` 8, `max_sessions` 64 | `src/transport/sftp/tests.rs` `logins_are_checked_limited_and_audited` (with the handle limit at 2) |
//! | out-of-order bytes | `[intake] reorder_window_bytes` 16 MiB, `reorder_bytes_per_party` 32 MiB | `tests/attacks/reorder_memory.rs` |
//! | connections per address, unauthenticated, bans | `[defender]` | `tests/defender.rs` |
//!
//! The clients: the "attacker" is a Python script with paramiko that speaks raw SFTP on a
//! channel of its own (so it can send what no ordinary client sends), writes what it saw to a
//! file and then keeps its session open; the legitimate party is OpenSSH `sftp` (or `curl`).

mod common;

#[path = "limits/channels.rs"]
mod channels;
#[path = "limits/files.rs"]
mod files;
#[path = "limits/handles.rs"]
mod handles;
#[path = "limits/packets.rs"]
mod packets;

use std::process::Child;
use std::time::{Duration, Instant};

use common::{Server, local_file, sample_csv, text};

/// A raw SFTP client over a paramiko channel (`Raw(t)`), and `done(out)`, which writes `out`
/// as JSON to `$FLAG` and then holds the session open for `$HOLD` seconds.
const RAW: &str = r#"
import json, socket, struct, time
def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">I", len(x)) + x
def status(p):
    code, n = struct.unpack(">II", p[:8])
    return code, p[8:8 + n].decode()
class Raw:
    def __init__(self, t):
        self.ch = t.open_session()
        self.ch.invoke_subsystem("sftp")
        self.id = 0
        self.send(1, struct.pack(">I", 3))
        assert self.recv()[0] == 2
    def send(self, typ, body):
        self.ch.sendall(struct.pack(">IB", len(body) + 1, typ) + body)
    def recvn(self, n):
        b = b""
        while len(b) < n:
            d = self.ch.recv(n - len(b))
            if not d:
                raise EOFError("channel closed")
            b += d
        return b
    def recv(self):
        n, = struct.unpack(">I", self.recvn(4))
        p = self.recvn(n)
        return p[0], p[1:]
    def ask(self, typ, body):
        self.id += 1
        self.send(typ, struct.pack(">I", self.id) + body)
    def answer(self):
        t, p = self.recv()
        return t, p[4:]
    def req(self, typ, body):
        self.ask(typ, body)
        return self.answer()
    def handle(self, p):
        n, = struct.unpack(">I", p[:4])
        return p[4:4 + n]
def done(out):
    tmp = os.environ["FLAG"] + ".tmp"
    open(tmp, "w").write(json.dumps(out))
    os.rename(tmp, os.environ["FLAG"])
    time.sleep(float(os.environ.get("HOLD", "60")))
"#;

/// Runs `script` (after [`RAW`]) as `party` in the background; returns the process and what it
/// reported with `done`. The process keeps its session open: kill it when done.
fn attack(s: &Server, party: &str, script: &str) -> (Child, serde_json::Value) {
    let flag = s.tmp.path().join(format!("attack-{party}.json"));
    let env = [("FLAG", flag.display().to_string()), ("HOLD", "120".to_owned())];
    let mut child = s.paramiko_spawn(party, &s.key(party), &format!("{RAW}\n{script}"), &env);
    let start = Instant::now();
    while !flag.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the attacking script ended without reporting: {status}");
        }
        assert!(start.elapsed() < Duration::from_secs(180), "the attacking script never reported");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = serde_json::from_slice(&std::fs::read(&flag).unwrap()).unwrap();
    (child, out)
}

/// A legitimate creditor (vitens) uploads `name` with OpenSSH `sftp` and gets an accepted
/// receipt.
fn legit_upload(s: &Server, name: &str) {
    let before = s.receipts("vitens").len();
    let f = local_file(s, name, &sample_csv(&format!("L{}", name.len()), "drinkwater", 3));
    let o = s.sftp("vitens", &s.key("vitens"), &format!("put {} /inbox/{name}\n", f.display()));
    assert!(o.status.success(), "the legitimate upload failed: {}", text(&o));
    let receipts = s.wait_receipts("vitens", before + 1);
    let r = receipts.iter().find(|r| r["file_name"] == name).expect("a receipt for the legitimate upload");
    assert_eq!(r["status"], "accepted", "{r}");
    assert_eq!(r["records"]["accepted"], 3, "{r}");
}

/// Ends the attacking script.
fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}
