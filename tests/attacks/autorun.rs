//! Writes into a folder the daemon processes or serves (Cleo CVE-2024-50623/CVE-2024-55956,
//! where an upload reached an auto-run folder): a creditor can write only into its own inbox,
//! never into `/feedback`, `/pickup`, `/receipts` or a folder of the installation, over SFTP or
//! HTTPS; and a creditor's spool folder cannot redirect the daemon's own writes (its
//! `processed/` moved files and receipts) through a link into a municipality's pickup folder
//! (it once could: the raw signal file and its receipt landed in GM0505's pickup folder).

use std::time::{Duration, Instant};

use super::common::{self, Server, local_file};
use super::probe;

#[test]
fn a_creditor_writes_only_into_its_inbox_never_a_folder_the_daemon_processes() {
    let s = probe::hostile_server();
    let f = local_file(&s, "x.csv", &common::sample_csv("A", "woninghuur", 2));
    let before = probe::data_files(&s);
    let folders = [
        "/feedback",
        "/pickup",
        "/receipts",
        "/clients",
        "/keys",
        "/vault",
        "/spool",
        "/",
        "/inbox/../feedback",
    ];
    for dir in folders {
        let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} {dir}/x.csv\n", f.display()));
        assert!(!o.status.success(), "put into {dir}: {}", common::text(&o));
        let o = s.sftp("woonstad", &s.key("woonstad"), &format!("mkdir {dir}/run\n"));
        assert!(!o.status.success(), "mkdir in {dir}: {}", common::text(&o));
    }
    let body = format!("@{}", f.display());
    for path in [
        "/v1/feedback",
        "/v1/feedback?name=x.csv",
        "/v1/pickup/x.csv",
        "/v1/receipts/x.csv",
        "/v1/inbox/../feedback/x.csv",
    ] {
        for method in ["PUT", "POST"] {
            let (code, answer) = s.curl("woonstad", &["-X", method, "--data-binary", &body], path);
            assert!((400..500).contains(&code), "{method} {path}: {code} {answer}");
        }
    }
    assert_eq!(probe::data_files(&s).difference(&before).count(), 0, "nothing written");
    assert!(s.receipts("woonstad").is_empty());
    probe::assert_still_serving(&s, "after_autorun.csv");
}

/// Waits until `dir` holds a file whose name ends in `suffix`, at most 10 s.
fn wait_file(dir: &std::path::Path, suffix: &str) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let any = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(suffix));
        if any {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_link_planted_in_a_spool_folder_never_redirects_the_daemons_writes() {
    let spool_root = tempfile::tempdir().unwrap();
    let spool = spool_root.path().join("woonstad");
    std::fs::create_dir(&spool).unwrap();
    let s: Server = probe::hostile_server_with(|t| {
        let block = "[[creditor]]\nid = \"woonstad\"\n";
        assert!(t.contains(block));
        *t = t.replacen(block, &format!("{block}spool_dir = \"{}\"\n", spool.display()), 1);
    });
    // The creditor's system owns the spool folder: it makes `processed` a link into a
    // municipality's pickup folder, and drops a file to be taken.
    let pickup = s.data().join("parties/GM0505/pickup");
    std::fs::create_dir_all(&pickup).unwrap();
    let before: Vec<_> = std::fs::read_dir(&pickup).unwrap().flatten().map(|e| e.file_name()).collect();
    std::os::unix::fs::symlink(&pickup, spool.join("processed")).unwrap();
    std::fs::write(spool.join("drop.csv"), common::sample_csv("D", "woninghuur", 3)).unwrap();

    // Nothing is taken while `processed` is a link, and nothing goes through it.
    std::thread::sleep(Duration::from_secs(2));
    let after: Vec<_> = std::fs::read_dir(&pickup).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(after, before, "written into GM0505's pickup folder through the spool's link");
    assert!(spool.join("drop.csv").exists(), "the file waits in the spool folder");
    assert!(s.receipts("woonstad").is_empty(), "not taken while processed/ is a link");
    let log = std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap();
    assert!(log.contains("processed/ is not a plain folder"), "the operator is told: {log}");

    // Once the link is gone, the next event takes the file into a real processed/.
    std::fs::remove_file(spool.join("processed")).unwrap();
    std::fs::rename(spool.join("drop.csv"), spool.join("drop_again.csv")).unwrap();
    let receipts = s.data().join("parties/woonstad/receipts");
    assert!(wait_file(&receipts, ".receipt.json"), "the spooled file was taken");
    assert!(wait_file(&spool.join("processed"), ".receipt.json"), "its receipt beside it in processed/");
    assert!(spool.join("processed/drop_again.csv").exists());
    let after: Vec<_> = std::fs::read_dir(&pickup).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(after, before);
    probe::assert_log_well_formed(&s, &[]);
}
