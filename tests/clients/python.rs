//! Python clients: asyncssh, pysftp and requests, and paramiko doing what WinSCP and FileZilla
//! do (upload as `.filepart`, rename, then set the times; set the times after the close).

use std::process::{Command, Output};

use crate::common::Server;
use crate::{NAMES, assert_five_accepted, assert_ok, five_files};

/// Runs `script` with the tests' Python (`$MELDPUNT_PYTHON`); `PORT`, `KEY` (woonstad's SSH
/// key) and `DIR` (the five files) are in its environment.
fn python(s: &Server, script: &str) -> Output {
    let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    Command::new(python)
        .arg("-c")
        .arg(script)
        .env("PORT", s.port.to_string())
        .env("KEY", s.key("woonstad"))
        .env("DIR", five_files(s))
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("run python3 (scripts/test installs paramiko, asyncssh and pysftp)")
}

/// Asserts that the script ran to its end (`done`) and five receipts came.
fn finished(s: &Server, o: &Output) {
    let out = assert_ok(o);
    assert!(out.contains("done"), "{out}");
    assert_five_accepted(s, &out);
}

/// asyncssh, five transfers at once on one connection: plain `put`, `put(preserve=True)`
/// (times set after the close), two `.part` uploads renamed with `posix_rename`, and one
/// written by hand with `fsync`; `makedirs(exist_ok=True)`, `statvfs` and an empty listing.
#[test]
fn asyncssh_parallel_puts_posix_rename_fsync_statvfs() {
    let s = Server::start();
    let o = python(
        &s,
        r#"
import asyncio, os, asyncssh
DIR = os.environ["DIR"]
async def main():
    async with asyncssh.connect("127.0.0.1", port=int(os.environ["PORT"]), username="woonstad",
                                client_keys=[os.environ["KEY"]], known_hosts=None) as conn:
        async with conn.start_sftp_client() as sftp:
            await sftp.makedirs("/inbox", exist_ok=True)
            st = await sftp.statvfs("/inbox")
            assert st.namemax == 200 and st.bsize > 0, st
            names = sorted(os.listdir(DIR))
            async def plain(n, preserve):
                await sftp.put(os.path.join(DIR, n), "/inbox/" + n, preserve=preserve)
            async def via_part(n):
                await sftp.put(os.path.join(DIR, n), "/inbox/" + n + ".part")
                await sftp.posix_rename("/inbox/" + n + ".part", "/inbox/" + n)
            async def fsynced(n):
                async with sftp.open("/inbox/" + n, "wb") as f:
                    await f.write(open(os.path.join(DIR, n), "rb").read())
                    await f.fsync()
            await asyncio.gather(plain(names[0], False), plain(names[1], True), via_part(names[2]),
                                 via_part(names[3]), fsynced(names[4]))
            listed = [n for n in await sftp.listdir("/inbox") if n not in (".", "..")]
            assert listed == [], listed
            print("done")
asyncio.run(main())
"#,
    );
    finished(&s, &o);
}

/// pysftp (on Debian's paramiko 2.x; pysftp 0.2.9 imports `DSSKey`, which paramiko 4 removed),
/// with the key in ssh-agent (pysftp loads key files only as RSA or DSS), two connections in threads, `makedirs`, `cd`, `put(preserve_mtime=True)` and an empty
/// listing.
#[test]
fn pysftp_two_connections_in_threads() {
    let s = Server::start();
    let o = python(
        &s,
        r#"
import os, subprocess, tempfile, threading, time, paramiko, pysftp
DIR = os.environ["DIR"]
cnopts = pysftp.CnOpts()
cnopts.hostkeys = None
names = sorted(os.listdir(DIR))
# pysftp takes a key file only as RSA or DSS, and a key object only as RSA or an agent's key:
# the Ed25519 key goes through ssh-agent, as many pysftp users run it.
sock = os.path.join(tempfile.mkdtemp(), "agent.sock")
agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL)
while not os.path.exists(sock): time.sleep(0.02)
os.environ["SSH_AUTH_SOCK"] = sock
subprocess.run(["ssh-add", "-q", os.environ["KEY"]], check=True)
errors = []
def push(part):
    try:
        key = paramiko.Agent().get_keys()[0]  # one agent connection per thread
        with pysftp.Connection("127.0.0.1", port=int(os.environ["PORT"]), username="woonstad",
                               private_key=key, cnopts=cnopts) as c:
            c.makedirs("/inbox")
            with c.cd("/inbox"):
                for n in part:
                    c.put(os.path.join(DIR, n), preserve_mtime=True)
            assert c.listdir("/inbox") == [], c.listdir("/inbox")
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=push, args=(p,)) for p in (names[:3], names[3:])]
for t in threads: t.start()
for t in threads: t.join()
agent.terminate()
assert not errors, errors
print("done")
"#,
    );
    finished(&s, &o);
}

/// What WinSCP does by default (upload as `<name>.filepart`, rename, then set the times on the
/// final name) and what FileZilla does (write, close, then set the times), with paramiko on
/// two connections; and a `mkdir` of an existing folder answered `FAILURE` (EEXIST), not
/// permission denied.
#[test]
fn winscp_and_filezilla_style_uploads() {
    let s = Server::start();
    let o = s.paramiko(
        "woonstad",
        &s.key("woonstad"),
        &format!(
            r#"
import threading, time
DIR = "{dir}"
names = {names:?}
errors = []
def winscp(part):
    try:
        t, sftp = connect()
        for n in part:
            sftp.put(DIR + "/" + n, "/inbox/" + n + ".filepart", confirm=True)
            sftp.rename("/inbox/" + n + ".filepart", "/inbox/" + n)
            sftp.utime("/inbox/" + n, (time.time(), time.time()))
            sftp.chmod("/inbox/" + n, 0o644)
            assert sftp.stat("/inbox/" + n).st_size > 0
        t.close()
    except Exception as e:
        errors.append("winscp " + repr(e))
def filezilla(part):
    try:
        t, sftp = connect()
        for n in part:
            with sftp.open("/inbox/" + n, "wb") as f:
                f.write(open(DIR + "/" + n, "rb").read())
            sftp.utime("/inbox/" + n, (time.time(), time.time()))
        t.close()
    except Exception as e:
        errors.append("filezilla " + repr(e))
threads = [threading.Thread(target=winscp, args=(names[:3],)), threading.Thread(target=filezilla, args=(names[3:],))]
for th in threads: th.start()
for th in threads: th.join()
assert not errors, errors
t, sftp = connect()
try:
    sftp.mkdir("/inbox")
    print("MKDIR ALLOWED")
except PermissionError as e:
    print("MKDIR DENIED", e)
except IOError as e:
    print("mkdir exists", e)
print("done")
"#,
            dir = five_files(&s).display(),
            names = NAMES,
        ),
    );
    let out = assert_ok(&o);
    assert!(out.contains("done") && out.contains("mkdir exists"), "{out}");
    assert_five_accepted(&s, &out);
}

/// Python `requests` over HTTPS with the creditor's client certificate: five PUTs from
/// threads, each answered `201` with its receipt.
#[test]
fn requests_parallel_puts_over_https() {
    let s = Server::start();
    let (cert, key) = s.inst.tls_pair("woonstad");
    let o = python(
        &s,
        &format!(
            r#"
import os, threading, requests
DIR = os.environ["DIR"]
codes = []
def put(n):
    with open(os.path.join(DIR, n), "rb") as f:
        r = requests.put("https://localhost:{port}/v1/inbox/" + n, data=f, cert=("{cert}", "{key}"),
                         verify="{ca}", timeout=60)
    codes.append((r.status_code, r.json()["status"]))
threads = [threading.Thread(target=put, args=(n,)) for n in sorted(os.listdir(DIR))]
for t in threads: t.start()
for t in threads: t.join()
assert codes == [(201, "accepted")] * 5, codes
print("done")
"#,
            port = s.https_port,
            cert = cert.display(),
            key = key.display(),
            ca = s.inst.ca_cert().display(),
        ),
    );
    finished(&s, &o);
}
