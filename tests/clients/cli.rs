//! rclone and lftp (Debian packages), run the way their users run them.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::Server;
use crate::{NAMES, assert_five_accepted, assert_ok, five_files};

/// rclone with no config file, to an on-the-fly SFTP remote; `dest` is the remote path.
/// rclone does not check host keys unless `--sftp-known-hosts-file` is given.
fn rclone(s: &Server, args: &[&str], dir: &Path, dest: &str) -> Output {
    let remote = format!(
        ":sftp,host=127.0.0.1,port={},user=woonstad,key_file={}:{dest}",
        s.port,
        s.key("woonstad").display()
    );
    Command::new("rclone")
        .args(["--config", "/dev/null", "--retries", "1", "-vv"])
        .args(args)
        .arg(dir)
        .arg(remote)
        .output()
        .expect("run rclone (scripts/test installs it)")
}

#[test]
fn rclone_copy() {
    let s = Server::start();
    let dir = five_files(&s);
    let o = rclone(&s, &["copy", "--transfers", "5"], &dir, "/inbox");
    assert_five_accepted(&s, &assert_ok(&o));
}

#[test]
fn rclone_copy_no_traverse_eight_transfers() {
    let s = Server::start();
    let dir = five_files(&s);
    let o = rclone(&s, &["copy", "--no-traverse", "--transfers", "8"], &dir, "inbox");
    assert_five_accepted(&s, &assert_ok(&o));
}

#[test]
fn rclone_move_removes_the_local_files() {
    let s = Server::start();
    let dir = five_files(&s);
    let o = rclone(&s, &["move", "--transfers", "5"], &dir, "/inbox");
    assert_five_accepted(&s, &assert_ok(&o));
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "rclone move deletes what it uploaded: {left:?}");
}

/// lftp over SFTP (OpenSSH as its connect program) running `commands` after `open`.
fn lftp(s: &Server, commands: &str) -> Output {
    let ssh = format!(
        "ssh -a -x -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
        s.key("woonstad").display()
    );
    let script = format!(
        "set cmd:fail-exit yes; set net:max-retries 1; set sftp:connect-program \"{ssh}\"; \
         open -u woonstad, sftp://127.0.0.1:{}; {commands}",
        s.port
    );
    Command::new("lftp").arg("-c").arg(script).output().expect("run lftp (scripts/test installs it)")
}

#[test]
fn lftp_put_in_parallel() {
    let s = Server::start();
    let dir = five_files(&s);
    let puts: String = NAMES.iter().map(|n| format!("put -O /inbox {} & ", dir.join(n).display())).collect();
    let o = lftp(&s, &format!("{puts}wait all"));
    assert_five_accepted(&s, &assert_ok(&o));
}

#[test]
fn lftp_mput_in_parallel() {
    let s = Server::start();
    let dir = five_files(&s);
    let o = lftp(&s, &format!("mput -P 5 -O /inbox {}/*.csv", dir.display()));
    assert_five_accepted(&s, &assert_ok(&o));
}

#[test]
fn lftp_mirror_up_then_mirror_receipts_down() {
    let s = Server::start();
    let dir = five_files(&s);
    let down = s.tmp.path().join("receipts-copy");
    let o = lftp(
        &s,
        &format!(
            "mirror -R --parallel=5 {} /inbox; mirror --parallel=5 /receipts {}",
            dir.display(),
            down.display()
        ),
    );
    let out = assert_ok(&o);
    assert_five_accepted(&s, &out);
    let got: Vec<String> = std::fs::read_dir(&down)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Each receipt's files start with the name of the upload they answer.
    for r in s.receipts("woonstad") {
        for ext in [".json", ".json.sig", ".txt"] {
            let name = format!("{}{ext}", crate::common::receipt_base(&r));
            assert!(got.contains(&name), "{name} in {got:?}\n{out}");
        }
    }
}
