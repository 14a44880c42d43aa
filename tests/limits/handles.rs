//! Open handles and folder listings: what one session may hold.

use std::time::{Duration, SystemTime};

use super::common::Server;
use super::{attack, legit_upload, stop};

/// 3000 OPENs for writing in `/inbox` on one session, 100 in flight at a time, none closed;
/// then one OPENDIR. Reports how many got a handle and the distinct refusal messages.
const OPENS: &str = r#"
t, sftp = connect()
r = Raw(t)
handles, refusals, n = 0, {}, 0
while n < 3000:
    for i in range(n, n + 100):
        r.ask(3, s("/inbox/h%d.csv" % i) + struct.pack(">II", 0x1a, 0))
    for _ in range(100):
        typ, p = r.answer()
        if typ == 102:
            handles += 1
        else:
            code, msg = status(p)
            refusals[msg] = refusals.get(msg, 0) + 1
    n += 100
typ, p = r.req(11, s("/receipts"))
done({"handles": handles, "refusals": refusals, "opendir": status(p)[1] if typ == 101 else "handle"})
"#;

#[test]
fn thousands_of_opens_on_one_session_stop_at_the_handle_limit() {
    let s = Server::start();
    let (attacker, out) = attack(&s, "woonstad", OPENS);
    legit_upload(&s, "vitens_handles.csv");
    stop(attacker);

    assert_eq!(out["handles"], 16, "{out}");
    let refusals = out["refusals"].as_object().unwrap();
    assert_eq!(refusals.len(), 1, "one clear answer: {out}");
    assert_eq!(refusals["too many open files (limit 16)"], 2984, "{out}");
    assert_eq!(out["opendir"], "too many open files (limit 16)", "a listing is a handle too: {out}");
    // The uploads held open were never closed: nothing of them is kept.
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.receipts("woonstad").is_empty());
}

/// Lists `/receipts` to its end with READDIR, then opens a second listing while the first is
/// still open, closes the first and opens again. Reports the chunk sizes, the names, and the
/// answers to the second and third OPENDIR.
const LISTING: &str = r#"
t, sftp = connect()
r = Raw(t)
typ, p = r.req(11, s("/receipts"))
first = r.handle(p)
chunks, names = [], []
while True:
    typ, p = r.req(12, s(first))
    if typ != 104:
        break
    count, = struct.unpack(">I", p[:4])
    chunks.append(count)
    at = 4
    for _ in range(count):
        for field in range(2):
            n, = struct.unpack(">I", p[at:at + 4])
            if field == 0:
                names.append(p[at + 4:at + 4 + n].decode())
            at += 4 + n
        flags, = struct.unpack(">I", p[at:at + 4])
        at += 4 + (8 if flags & 1 else 0) + (8 if flags & 2 else 0) + (4 if flags & 4 else 0) + (8 if flags & 8 else 0)
typ, p = r.req(11, s("/receipts"))
second = status(p)[1] if typ == 101 else "handle"
r.req(4, s(first))
typ, p = r.req(11, s("/receipts"))
done({"chunks": chunks, "names": names, "second": second, "third": "handle" if typ == 102 else status(p)[1]})
"#;

#[test]
fn a_long_listing_comes_in_bounded_chunks_and_is_capped() {
    let s = Server::start_with(|t| {
        *t = t.replace("[sftp]\n", "[sftp]\nmax_listing_entries = 1000\n");
    });
    let receipts = s.data().join("parties/woonstad/receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    let base = SystemTime::now() - Duration::from_secs(10_000);
    for i in 0..2500u64 {
        let f = std::fs::File::create(receipts.join(format!("listing_{i:04}.json"))).unwrap();
        f.set_modified(base + Duration::from_secs(i)).unwrap();
    }
    let (attacker, out) = attack(&s, "woonstad", LISTING);
    legit_upload(&s, "vitens_listing.csv");
    stop(attacker);

    let chunks: Vec<u64> = out["chunks"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert!(chunks.iter().all(|&n| n <= 128), "answers of at most 128 entries: {chunks:?}");
    assert_eq!(chunks.iter().sum::<u64>(), 1000, "{chunks:?}");
    let names: Vec<String> =
        out["names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    let newest: Vec<String> = (1500..2500).map(|i| format!("listing_{i:04}.json")).collect();
    assert_eq!(names, newest, "the newest 1000, in name order");
    let second = out["second"].as_str().unwrap();
    assert!(
        second.contains("max_listing_entries") && second.contains("1000"),
        "a second full listing while the first is open is refused, naming the setting: {second}"
    );
    assert_eq!(out["third"], "handle", "after the close the session may list again: {out}");
}
