//! Spool folders (docs/folders-and-protocols.md), against the real daemon: a file already in a
//! creditor's spool folder at start-up, one written in place and one renamed in from a
//! temporary name are each taken once, moved to `processed/` with their receipt beside them;
//! a temporary name is left alone; a restart (rescan) takes nothing twice.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Server, sample_csv};

/// The receipts (`.receipt.json`) in the spool folder's `processed/`.
fn processed_receipts(spool: &Path) -> Vec<serde_json::Value> {
    let dir = spool.join("processed");
    let mut out: Vec<serde_json::Value> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".receipt.json"))
        .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
        .collect();
    out.sort_by(|a, b| a["file_name"].as_str().cmp(&b["file_name"].as_str()));
    out
}

fn wait_for(spool: &Path, n: usize) -> Vec<serde_json::Value> {
    let start = Instant::now();
    loop {
        let r = processed_receipts(spool);
        if r.len() >= n || start.elapsed() > Duration::from_secs(30) {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn complete_files_are_taken_once_with_their_receipts_beside_them() {
    let spool_root = tempfile::tempdir().unwrap();
    let spool = spool_root.path().join("woonstad");
    std::fs::create_dir(&spool).unwrap();
    std::fs::write(spool.join("before.csv"), sample_csv("B", "woninghuur", 4)).unwrap();
    let mut s = Server::start_with(|t| {
        let block = "[[creditor]]\nid = \"woonstad\"\n";
        assert!(t.contains(block));
        *t = t.replacen(block, &format!("{block}spool_dir = \"{}\"\n", spool.display()), 1);
    });
    // Written in place (closed after writing), and written under a temporary name then renamed.
    std::fs::write(spool.join("direct.csv"), sample_csv("D", "woninghuur", 5)).unwrap();
    std::fs::write(spool.join("moved.csv.part"), sample_csv("M", "woninghuur", 6)).unwrap();
    std::fs::rename(spool.join("moved.csv.part"), spool.join("moved.csv")).unwrap();
    std::fs::write(spool.join("waiting.csv.filepart"), sample_csv("W", "woninghuur", 2)).unwrap();

    let receipts = wait_for(&spool, 3);
    let got: Vec<(&str, u64)> = receipts
        .iter()
        .map(|r| (r["file_name"].as_str().unwrap(), r["records"]["accepted"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, [("before.csv", 4), ("direct.csv", 5), ("moved.csv", 6)]);
    for name in ["before.csv", "direct.csv", "moved.csv"] {
        assert!(!spool.join(name).exists(), "{name} is still in the spool folder");
        assert!(spool.join("processed").join(name).exists(), "{name} is not in processed/");
    }
    assert!(spool.join("waiting.csv.filepart").exists(), "a temporary name was taken");
    // The same receipts are in the creditor's receipts folder (served over SFTP and HTTPS).
    assert_eq!(s.receipts("woonstad").len(), 3);

    // A restart rescans the folder: nothing is taken twice.
    s.terminate();
    s.restart();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(processed_receipts(&spool).len(), 3);
    assert_eq!(s.receipts("woonstad").len(), 3);
}
