//! Creditor intake over SFTP with paramiko, and uploads cut off mid-way.

mod common;

use std::time::Duration;

use common::{Server, local_file, sample_csv, text};

#[test]
fn paramiko_put_with_confirm_and_receipt_read() {
    let s = Server::start();
    let f = local_file(&s, "zk.csv", &sample_csv("Z", "zorgverzekering", 40));
    let o = s.paramiko(
        "zilveren-kruis",
        &s.key("zilveren-kruis"),
        &format!(
            r#"
t, sftp = connect()
attrs = sftp.put("{}", "/inbox/zk_2026-11.csv", confirm=True)
print("size", attrs.st_size)
names = sorted(sftp.listdir("/receipts"))
js = [n for n in names if n.endswith(".receipt.json")]
assert len(js) == 1, names
import json
r = json.loads(sftp.open("/receipts/" + js[0]).read())
print("status", r["status"], r["records"]["accepted"])
print("inbox lists", sftp.listdir("/inbox"))
t.close()
"#,
            f.display()
        ),
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains(&format!("size {}", std::fs::metadata(&f).unwrap().len())), "{out}");
    assert!(out.contains("status accepted 40"), "{out}");
    assert!(out.contains("inbox lists []"), "the inbox lists none of the filed uploads: {out}");
}

#[test]
fn every_escape_is_answered_with_sftp_permission_denied() {
    let s = Server::start();
    let f = local_file(&s, "x.csv", &sample_csv("E", "woninghuur", 2));
    let o = s.paramiko(
        "woonstad",
        &s.key("woonstad"),
        &format!(
            r#"
import errno
t, sftp = connect()
attempts = [
    ("put", lambda: sftp.put("{f}", "/inbox/../x.csv")),
    ("put", lambda: sftp.put("{f}", "/../../etc/x.csv")),
    ("put", lambda: sftp.put("{f}", "/receipts/x.csv")),
    ("put", lambda: sftp.put("{f}", "/inbox/sub/x.csv")),
    ("stat", lambda: sftp.stat("/etc/passwd")),
    ("open", lambda: sftp.open("/etc/passwd")),
    ("open", lambda: sftp.open("/inbox/../../../../etc/passwd")),
    ("open", lambda: sftp.open("//etc/passwd")),
    ("open", lambda: sftp.open("/receipts/..")),
    ("open", lambda: sftp.open("/receipts/a\\..\\..\\x")),
    ("listdir", lambda: sftp.listdir("/..")),
    ("listdir", lambda: sftp.listdir("/parties")),
    ("mkdir", lambda: sftp.mkdir("/inbox/sub")),
    ("rmdir", lambda: sftp.rmdir("/receipts")),
    ("symlink", lambda: sftp.symlink("/etc/passwd", "/inbox/pw")),
    ("readlink", lambda: sftp.readlink("/receipts")),
    ("remove", lambda: sftp.remove("/receipts/anything.json")),
    ("rename", lambda: sftp.rename("/receipts/a", "/inbox/a")),
    ("chmod", lambda: sftp.chmod("/receipts", 0o777)),
    ("open", lambda: sftp.open("/../vitens/receipts/x")),
]
for op, f in attempts:
    try:
        f()
        print("ALLOWED", op)
    except PermissionError:
        print("denied", op)
    except IOError as e:
        print("OTHER", op, e.errno, e)
t.close()
"#,
            f = f.display()
        ),
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("denied ")).count(), 20, "{out}");
    assert!(!out.contains("ALLOWED") && !out.contains("OTHER"), "{out}");
    assert!(s.receipts("woonstad").is_empty());
}

#[test]
fn client_killed_mid_upload_leaves_nothing() {
    let s = Server::start();
    // ~6 MB so the client is still writing when it is killed.
    let f = local_file(&s, "big.csv", &sample_csv("K", "woninghuur", 30_000));
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let script = format!(
        r#"
import os, paramiko, time
t = paramiko.Transport(("127.0.0.1", {port}))
t.connect()
t.auth_publickey("woonstad", paramiko.Ed25519Key.from_private_key_file("{key}"))
sftp = paramiko.SFTPClient.from_transport(t)
data = open("{file}", "rb").read()
f = sftp.open("/inbox/big.csv", "wb")
f.write(data[:len(data)//2])
f.flush()
print("half", flush=True)
time.sleep(60)
"#,
        port = s.port,
        key = s.key("woonstad").display(),
        file = f.display()
    );
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line.trim(), "half");
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(s.receipts("woonstad").is_empty(), "no receipt for a cut-off upload");
    assert!(s.sealed_files().is_empty(), "nothing sealed for a cut-off upload");
    let tmp: Vec<_> = std::fs::read_dir(s.data().join("vault/tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "temporary sealed output removed");
    assert!(!s.audit().iter().any(|e| e.action == "upload"), "no upload recorded");
}

#[test]
fn daemon_killed_mid_upload_recovers_clean_and_keeps_accepted_files() {
    let mut s = Server::start();
    let done = local_file(&s, "done.csv", &sample_csv("A", "woninghuur", 10));
    let o = s.sftp("woonstad", &s.key("woonstad"), &format!("put {} /inbox/\n", done.display()));
    assert!(o.status.success(), "{}", text(&o));
    let big = local_file(&s, "big.csv", &sample_csv("K", "woninghuur", 30_000));
    let script = format!(
        r#"
t, sftp = connect()
data = open("{}", "rb").read()
f = sftp.open("/inbox/big.csv", "wb")
f.write(data[:len(data)//2]); f.flush()
print("half", flush=True)
import time; time.sleep(60)
"#,
        big.display()
    );
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let mut child = std::process::Command::new(python)
        .arg("-c")
        .arg(format!("import os, paramiko\n{}\n{script}", PRELUDE))
        .env("PORT", s.port.to_string())
        .env("KEY", s.key("woonstad"))
        .env("USER_", "woonstad")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line.trim(), "half");
    s.crash_and_restart();
    let _ = child.kill();
    let _ = child.wait();
    let r = s.receipts("woonstad");
    assert_eq!(r.len(), 1, "only the completed upload has a receipt");
    assert_eq!(s.sealed_files().len(), 1, "the accepted upload survived the crash");
    assert_eq!(std::fs::read_dir(s.data().join("vault/tmp")).unwrap().count(), 0);
}

const PRELUDE: &str = r#"
def connect():
    t = paramiko.Transport(("127.0.0.1", int(os.environ["PORT"])))
    t.connect()
    t.auth_publickey(os.environ["USER_"], paramiko.Ed25519Key.from_private_key_file(os.environ["KEY"]))
    return t, paramiko.SFTPClient.from_transport(t)
"#;
