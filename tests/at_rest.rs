//! What stays on disk after an upload: no plaintext, and sealed files open with the `age` CLI.

mod common;

use std::process::Command;

use common::{Server, local_file, sample_csv, text};

#[test]
fn no_plaintext_on_disk_and_age_cli_decrypts_with_the_period_key() {
    let s = Server::start();
    let data = sample_csv("Q", "woninghuur", 200);
    let f = local_file(&s, "q.csv", &data);
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let r = &s.wait_receipts("woonstad", 1)[0];
    assert_eq!(r["status"], "accepted");
    std::fs::remove_file(&f).unwrap(); // the client's own copy is not ours to scan

    // Distinctive personal values from the upload: surnames, postcodes, streets.
    let needles: Vec<&[u8]> = vec![
        b"Jansen",
        b"Vries",
        "Çelik".as_bytes(),
        "Müller".as_bytes(),
        b"Bakker",
        b"3311AB",
        b"3312CD",
        b"3331GH",
        b"Voorstraat",
        b"Krispijnseweg",
    ];
    let mut scanned = 0;
    for entry in walk(&s.data()) {
        let bytes = std::fs::read(&entry).unwrap();
        scanned += 1;
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == *n),
                "{} contains {:?} in plaintext",
                entry.display(),
                String::from_utf8_lossy(n)
            );
        }
    }
    assert!(scanned >= 4, "scanned state.db, key, sealed file, receipts");

    let sealed = s.sealed_files();
    assert_eq!(sealed.len(), 1);
    let period = r["period"].as_str().unwrap();
    let key = s.data().join("keys/periods").join(period);
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&sealed[0])
        .output()
        .expect("age CLI (scripts/test installs it)");
    assert!(o.status.success(), "{}", text(&o));
    let plain = String::from_utf8(o.stdout).unwrap();
    assert_eq!(plain.lines().count(), 201, "a header and 200 records");
    assert!(plain.starts_with("{\"format\":\"meldpunt-sealed-1\""));
    assert!(plain.contains("\"Q-00000000\""));
    assert!(plain.contains("Jansen") || plain.contains("Vries") || plain.contains("Bakker"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
