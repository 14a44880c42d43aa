//! Out-of-order SFTP writes cannot blow up memory: one creditor opens 16 uploads on each of 4
//! sessions and writes only far offsets (nothing in order), until 96 MiB were tried. The daemon
//! holds at most `[intake] reorder_bytes_per_party` (32 MiB) for all of them together, refuses
//! the rest, and its resident memory grows by less than 64 MiB; another creditor's upload is
//! served meanwhile. (Before the bound, each upload could hold its own 16 MiB: 1 GiB per party.)

use super::common::{self, Server, local_file, text};

/// Writes 32 KiB chunks at far offsets round-robin over 4 sessions × 16 files until 96 MiB were
/// tried; writes to `$FLAG` the bytes the daemon holds for the uploads still alive (a refused
/// upload is dropped with what it held) and how many writes it refused.
const FAR_WRITES: &str = r#"
chunk = b"x" * 32768
sessions = [connect() for _ in range(4)]
files = [sftp.open("/inbox/far%d_%d.csv" % (s, i), "wb") for s, (t, sftp) in enumerate(sessions) for i in range(16)]
held = [0] * len(files)
refused, tried, round_ = 0, 0, 0
dead = set()
while tried < 96 * 2**20 and len(dead) < len(files):
    for n, f in enumerate(files):
        if n in dead:
            continue
        f.seek(64 * 2**20 + round_ * 32768)
        tried += len(chunk)
        try:
            f.write(chunk)
            f.flush()
            held[n] += len(chunk)
        except Exception:
            refused += 1
            dead.add(n)
            held[n] = 0  # refused: the daemon dropped that upload and what it held
    round_ += 1
open(os.environ["FLAG"], "w").write("%d %d" % (sum(held), refused))
import time
time.sleep(float(os.environ["HOLD"]))
"#;

#[test]
fn far_offsets_on_every_handle_keep_one_partys_memory_bounded() {
    let s = Server::start();
    let before = s.rss_kib();
    let flag = s.tmp.path().join("far");
    let env = [("FLAG", flag.display().to_string()), ("HOLD", "6".to_owned())];
    let mut attacker = s.paramiko_spawn("woonstad", &s.key("woonstad"), FAR_WRITES, &env);
    let start = std::time::Instant::now();
    while !flag.exists() {
        assert!(start.elapsed() < std::time::Duration::from_secs(120), "the writes never ended");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let text_flag = std::fs::read_to_string(&flag).unwrap();
    let (held, refused): (u64, u64) = {
        let mut it = text_flag.split_whitespace().map(|n| n.parse().unwrap());
        (it.next().unwrap(), it.next().unwrap())
    };
    // Held while the attacker keeps its handles open.
    let during = s.rss_kib();
    assert!(held <= 32 << 20, "the daemon holds {held} bytes out of order for one party");
    assert!(refused > 0, "no write was refused");
    let grown_mib = during.saturating_sub(before) / 1024;
    assert!(grown_mib < 64, "resident memory grew by {grown_mib} MiB (from {before} KiB to {during} KiB)");

    // Another creditor is served meanwhile.
    let f = local_file(&s, "vitens.csv", &common::sample_csv("V", "drinkwater", 10));
    let o = s.sftp("vitens", &s.key("vitens"), &format!("put {} /inbox/vitens.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(s.wait_receipts("vitens", 1)[0]["records"]["accepted"], 10);
    let _ = attacker.wait();
}
