//! Packet size and READ length: both announced by `limits@openssh.com`, both enforced.

use super::common::Server;
use super::{attack, legit_upload, stop};

/// Asks `limits@openssh.com`; sends a packet announcing 16 MiB (with 64 KiB of it) and then a
/// stream of 4 GiB length prefixes on a raw SFTP channel; reports whether that channel was
/// closed, what came on its stderr, and whether the session's ordinary SFTP channel still works.
const OVERSIZED: &str = r#"
t, sftp = connect()
r = Raw(t)
typ, p = r.req(200, s("limits@openssh.com"))
max_packet, max_read, max_write, max_handles = struct.unpack(">QQQQ", p[:32])
typ_before, _ = r.req(16, s("."))
# The daemon may close the channel before all of this is sent: that is what is tested.
try:
    r.ch.sendall(struct.pack(">IBI", 16 << 20, 6, 99) + b"\0" * 65536)
    for _ in range(256):
        r.ch.sendall(b"\xff\xff\xff\xff" * 1024)
except Exception:
    pass
r.ch.settimeout(20)
closed = False
try:
    while True:
        if r.ch.recv(65536) == b"":
            closed = True
            break
except socket.timeout:
    pass
err = b""
while r.ch.recv_stderr_ready():
    err += r.ch.recv_stderr(4096)
done({"max_packet": max_packet, "typ_before": typ_before, "closed": closed,
      "stderr": err.decode(errors="replace"), "other_channel": sorted(sftp.listdir("/"))})
"#;

#[test]
fn an_oversized_packet_closes_only_its_channel_with_a_message() {
    let s = Server::start_logged(|_| {});
    let (attacker, out) = attack(&s, "woonstad", OVERSIZED);
    legit_upload(&s, "vitens_packets.csv");
    stop(attacker);

    assert_eq!(out["max_packet"], 262144, "the announced packet limit: {out}");
    assert_eq!(out["typ_before"], 104, "a packet within the limit is answered (NAME): {out}");
    assert_eq!(out["closed"], true, "the channel of the oversized packet is closed: {out}");
    let stderr = out["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("packet of 16777216 bytes is over the limit of 262144 bytes"),
        "the client is told why on the channel's stderr: {out}"
    );
    assert_eq!(out["other_channel"], serde_json::json!(["feedback", "inbox", "receipts"]), "{out}");
    let audit = s.audit();
    let refused: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "denied_path" && e.object["reason"] == "packet_too_large")
        .collect();
    assert_eq!(refused.len(), 1, "audited once: {refused:?}");
    assert_eq!(refused[0].actor, "creditor:woonstad");
    // russh-sftp, left alone, logs one warning per refused 4-byte prefix.
    let log = std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap();
    let flood = log.lines().filter(|l| l.contains("packet length limit exceeded")).count();
    let ours = log.lines().filter(|l| l.contains("SFTP packet over the limit")).count();
    assert_eq!((flood, ours), (0, 1), "one log line for the oversized packet:\n{log}");
}

/// Opens a 1 MiB pickup file and reads it with READs asking 64 MiB each; reports the
/// announced read limit, each answer's length and the SHA-256 of what came.
const HUGE_READS: &str = r#"
import hashlib
t, sftp = connect()
r = Raw(t)
typ, p = r.req(200, s("limits@openssh.com"))
max_read = struct.unpack(">QQQQ", p[:32])[1]
typ, p = r.req(3, s("/pickup/huge_reads.bin") + struct.pack(">II", 1, 0))
assert typ == 102, status(p)
h = r.handle(p)
sizes, data = [], b""
while True:
    typ, p = r.req(5, s(h) + struct.pack(">QI", len(data), 64 << 20))
    if typ != 103:
        end = status(p)
        break
    n, = struct.unpack(">I", p[:4])
    sizes.append(n)
    data += p[4:4 + n]
# Pipelined: 32 such READs in flight at once.
for _ in range(32):
    r.ask(5, s(h) + struct.pack(">QI", 0, 64 << 20))
pipelined = [len(r.answer()[1]) - 4 for _ in range(32)]
done({"max_read": max_read, "sizes": sizes, "pipelined": pipelined, "end": end,
      "sha256": hashlib.sha256(data).hexdigest()})
"#;

#[test]
fn a_64_mib_read_gets_at_most_the_announced_read_length() {
    let s = Server::start();
    let pickup = s.data().join("parties/GM0505/pickup");
    std::fs::create_dir_all(&pickup).unwrap();
    let content: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(pickup.join("huge_reads.bin"), &content).unwrap();
    let before = s.rss_kib();
    let (attacker, out) = attack(&s, "GM0505", HUGE_READS);
    let during = s.rss_kib();
    legit_upload(&s, "vitens_reads.csv");
    stop(attacker);

    let max_read = out["max_read"].as_u64().unwrap();
    assert_eq!(max_read, 261_120, "{out}");
    let sizes: Vec<u64> = out["sizes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert!(sizes.iter().all(|&n| n > 0 && n <= max_read), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<u64>(), 1 << 20);
    assert_eq!(sizes[0], max_read, "a READ gets the most it may: {sizes:?}");
    assert_eq!(out["end"][0], 1, "then EOF: {out}");
    let sha = out["sha256"].as_str().unwrap();
    assert_eq!(sha, meldpunt_sha256(&content), "the pieces make up the file");
    let pipelined = out["pipelined"].as_array().unwrap();
    assert!(pipelined.iter().all(|n| n.as_u64().unwrap() == max_read), "{pipelined:?}");
    let grown_mib = during.saturating_sub(before) / 1024;
    assert!(grown_mib < 64, "32 READs of 64 MiB grew memory by {grown_mib} MiB");
}

fn meldpunt_sha256(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}
