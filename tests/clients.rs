//! Every common SFTP client uploads as its users run it (issue 21, item 4): five files with
//! parallel transfers each, and each must give exactly five `accepted` receipts, no duplicates,
//! and exit 0.
//!
//! - rclone (`copy`, `copy --no-traverse --transfers 8`, `move`) and lftp (`put`, `mput`,
//!   `mirror -R`, `mirror` of `/receipts`): `clients/cli.rs`.
//! - asyncssh, pysftp, and WinSCP- and FileZilla-style uploads (a `.filepart` renamed, times
//!   set after the close) written with paramiko: `clients/python.rs`.
//! - OpenSSH `sftp`, paramiko and curl are driven in `sftp_openssh.rs`, `sftp_paramiko.rs` and
//!   `https_curl.rs`; Python `requests` in `clients/python.rs`.

mod common;

#[path = "clients/cli.rs"]
mod cli;
#[path = "clients/python.rs"]
mod python;

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use common::{Server, sample_csv, text};

/// Names of the five files every test pushes.
pub const NAMES: [&str; 5] = ["w1_2026.csv", "w2_2026.csv", "w3_2026.csv", "w4_2026.csv", "w5_2026.csv"];

/// Writes the five files (distinct records) into a fresh local folder and returns it.
pub fn five_files(s: &Server) -> PathBuf {
    let dir = s.tmp.path().join("five");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, name) in NAMES.iter().enumerate() {
        let prefix = format!("P{i}");
        std::fs::write(dir.join(name), sample_csv(&prefix, "woninghuur", 20 + i as u64)).unwrap();
    }
    dir
}

/// Asserts that woonstad has exactly one `accepted` receipt for each of the five files, and
/// no other receipt, also a moment later (a client that retries would add duplicates).
pub fn assert_five_accepted(s: &Server, out: &str) {
    s.wait_receipts("woonstad", NAMES.len());
    std::thread::sleep(Duration::from_millis(500));
    let receipts = s.receipts("woonstad");
    let mut names: Vec<&str> = receipts.iter().map(|r| r["file_name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, NAMES, "one receipt per file, no duplicates: {receipts:#?}\n{out}");
    for r in &receipts {
        assert_eq!(r["status"], "accepted", "{r:#}\n{out}");
    }
}

/// Asserts that a client exited 0; returns its output.
pub fn assert_ok(o: &Output) -> String {
    let out = text(o);
    assert!(o.status.success(), "exit {:?}: {out}", o.status.code());
    out
}
