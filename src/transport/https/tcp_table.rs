//! The kernel's TCP table, `/proc/self/net/tcp{,6}`: one connection's unacknowledged bytes
//! (`tx_queue`, `write_seq - snd_una`, what `SIOCOUTQ` gives) and state, found by its address
//! pair (docs/folders-and-protocols.md, "What counts as picked up"). Read as a file because the
//! crate forbids `unsafe`, which an `ioctl` needs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

/// TCP states as `/proc/net/tcp` writes them (`include/net/tcp_states.h`).
const FIN_WAIT1: u8 = 0x04;
const FIN_WAIT2: u8 = 0x05;
const TIME_WAIT: u8 = 0x06;
const CLOSE_WAIT: u8 = 0x08;
const LAST_ACK: u8 = 0x09;
const CLOSING: u8 = 0x0B;

/// Whether a probe found the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The socket is there, with this many data bytes not yet acknowledged.
    Alive {
        /// Sent or queued, not acknowledged (our FIN not included).
        unacked: u64,
        /// The peer's FIN has arrived (it closed its side in order).
        peer_fin: bool,
    },
    /// The connection is gone (reset, or closed and reaped), or the proc file is unreadable.
    Gone,
}

/// Reads the connection's line in `/proc/self/net/tcp` (or `tcp6`): what it says, and the
/// socket's inode.
pub(super) fn probe_proc(local: SocketAddr, peer: SocketAddr) -> (Probe, u64) {
    let file = if local.is_ipv4() { "/proc/self/net/tcp" } else { "/proc/self/net/tcp6" };
    match std::fs::read_to_string(file) {
        Ok(table) => find(&table, local, peer),
        Err(e) => {
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::SeqCst) {
                tracing::warn!(file, error = %e, "cannot read the kernel's TCP table: HTTPS downloads count as picked up only when acknowledged with DELETE");
            }
            (Probe::Gone, 0)
        }
    }
}

/// An address as `/proc/net/tcp{,6}` prints it: each 32-bit word of the address in host order
/// as `%08X`, then `:%04X` of the port.
fn proc_addr(a: SocketAddr) -> String {
    let words: Vec<u8> = match a {
        SocketAddr::V4(v4) => v4.ip().octets().to_vec(),
        SocketAddr::V6(v6) => v6.ip().octets().to_vec(),
    };
    let mut out = String::new();
    for w in words.chunks_exact(4) {
        out.push_str(&format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])));
    }
    out.push_str(&format!(":{:04X}", a.port()));
    out
}

/// What the table says of the connection `local`–`peer`, and its inode.
fn find(table: &str, local: SocketAddr, peer: SocketAddr) -> (Probe, u64) {
    let (l, p) = (proc_addr(local), proc_addr(peer));
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [_sl, la, ra, st, queues, _timer, _retransmits, _uid, _timeout, inode, ..] = f[..] else {
            continue;
        };
        if la != l || ra != p {
            continue;
        }
        let state = u8::from_str_radix(st, 16).unwrap_or(0);
        let Some(tx) = queues.split_once(':').and_then(|(tx, _)| u64::from_str_radix(tx, 16).ok()) else {
            continue;
        };
        let unacked = match state {
            // Our FIN is queued and counts as one.
            FIN_WAIT1 | CLOSING | LAST_ACK => tx.saturating_sub(1),
            // Our FIN was acknowledged, so was every byte before it.
            FIN_WAIT2 | TIME_WAIT => 0,
            _ => tx,
        };
        let peer_fin = matches!(state, CLOSE_WAIT | LAST_ACK | CLOSING | TIME_WAIT);
        return (Probe::Alive { unacked, peer_fin }, inode.parse().unwrap_or(0));
    }
    (Probe::Gone, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:20FB 0100007F:E6A0 01 0001A000:00000000 01:00000014 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:20FB 0100007F:E6A2 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:20FB 0100007F:E6A4 04 00000001:00000000 01:00000014 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:20FB 0100007F:E6A6 04 00000002:00000000 01:00000014 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
   5: 0100007F:20FB 0100007F:E6A8 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   6: 0100007F:20FB 0100007F:E6AC 08 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
";

    fn at(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn addresses_as_the_kernel_prints_them() {
        assert_eq!(proc_addr(at(8443)), "0100007F:20FB");
        let v6: SocketAddr = "[::ffff:127.0.0.1]:8443".parse().unwrap();
        assert_eq!(proc_addr(v6), "0000000000000000FFFF00000100007F:20FB");
    }

    #[test]
    fn reads_the_send_queue_of_one_connection() {
        let me = at(8443);
        let found = |port| find(TABLE, me, at(port));
        let alive = |unacked, peer_fin| Probe::Alive { unacked, peer_fin };
        assert_eq!(found(0xE6A0), (alive(0x1A000, false), 2));
        assert_eq!(found(0xE6A2), (alive(0, false), 3));
        assert_eq!(found(0xE6A4), (alive(0, false), 0), "only our FIN waits");
        assert_eq!(found(0xE6A6), (alive(1, false), 0), "a data byte and our FIN");
        assert_eq!(found(0xE6A8), (alive(0, true), 0), "TIME_WAIT: both FINs acknowledged");
        assert_eq!(found(0xE6AC), (alive(0, true), 4), "CLOSE_WAIT: the peer closed");
        assert_eq!(found(0xE6AA), (Probe::Gone, 0));
        assert_eq!(find(TABLE, at(8444), at(0xE6A2)), (Probe::Gone, 0));
    }
}
