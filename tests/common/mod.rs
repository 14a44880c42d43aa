//! Test harness: a real `meldpunt serve` on loopback with a demo installation, driven by real
//! clients (OpenSSH `sftp`, paramiko, `age`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod scan;

pub use meldpunt::demo::setup::Installation;

/// OpenSSH client options for a daemon whose host key is new in every test.
pub const NO_HOST_CHECK: [&str; 4] = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];

/// A running daemon on a scratch installation.
pub struct Server {
    pub tmp: tempfile::TempDir,
    pub inst: Installation,
    pub port: u16,
    /// HTTPS port.
    pub https_port: u16,
    /// Admin port (loopback).
    pub admin_port: u16,
    /// Extra environment for the daemon (test hooks), used at the next (re)start.
    pub env: Vec<(String, String)>,
    /// Where the daemon's stderr (its log) goes; `None`: inherited.
    pub log: Option<PathBuf>,
    child: Option<Child>,
}

/// The meldpunt binary built for this test run.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_meldpunt")
}

impl Server {
    /// Creates a demo installation (listening on a free loopback port) and starts the daemon.
    pub fn start() -> Server {
        Self::start_with(|_| {})
    }

    /// Like `start`, letting the test edit the configuration text first.
    pub fn start_with(edit: impl FnOnce(&mut String)) -> Server {
        Self::start_inner(edit, false)
    }

    /// Like `start_with`, with the daemon's log (stderr) written to the file `log` names.
    pub fn start_logged(edit: impl FnOnce(&mut String)) -> Server {
        Self::start_inner(edit, true)
    }

    fn start_inner(edit: impl FnOnce(&mut String), logged: bool) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let inst = meldpunt::demo::setup::create(&tmp.path().join("inst")).unwrap();
        let mut text = std::fs::read_to_string(&inst.config).unwrap();
        for port in ["2222", "8443", "9090"] {
            text = text.replace(&format!("listen = \"127.0.0.1:{port}\""), "listen = \"127.0.0.1:0\"");
        }
        edit(&mut text);
        std::fs::write(&inst.config, text).unwrap();
        let log = logged.then(|| tmp.path().join("daemon.log"));
        let mut s =
            Server { tmp, inst, port: 0, https_port: 0, admin_port: 0, env: Vec::new(), log, child: None };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let mut child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(&self.inst.config)
            .env("MELDPUNT_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(match &self.log {
                Some(p) => {
                    Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(p).unwrap())
                }
                None => Stdio::inherit(),
            })
            .spawn()
            .expect("start meldpunt serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let port_of = |key: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .and_then(|a| a.rsplit(':').next()?.trim().parse().ok())
        };
        self.port = port_of("sftp=").unwrap_or_else(|| panic!("no readiness line, got {line:?}"));
        self.https_port = port_of("https=").unwrap_or(0);
        self.admin_port = port_of("admin=").unwrap_or(0);
        // Keep draining stdout so the daemon never blocks on it.
        std::thread::spawn(move || for _ in out.lines() {});
        self.child = Some(child);
    }

    /// Kills the daemon hard (SIGKILL), leaving the installation as it is.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// Stops the daemon as systemd does (SIGTERM) and waits for it to exit.
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            let st = Command::new("kill").args(["-TERM", &c.id().to_string()]).status().unwrap();
            assert!(st.success());
            let exit = c.wait().unwrap();
            assert!(exit.success(), "meldpunt serve exited with {exit}");
        }
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon is running").id()
    }

    /// Waits for the daemon to exit (after a signal) and returns how it ended.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        self.child.take().expect("the daemon is running").wait().unwrap()
    }

    /// The daemon's resident memory in KiB (`VmRSS` of /proc).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Sends `signal` (a `kill` name such as `HUP`) to the running daemon.
    pub fn signal(&self, signal: &str) {
        let c = self.child.as_ref().expect("the daemon is running");
        let st = Command::new("kill").arg(format!("-{signal}")).arg(c.id().to_string()).status().unwrap();
        assert!(st.success(), "kill -{signal}");
    }

    /// Whether the daemon process is still running (not exited).
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Starts the daemon again (after `terminate` or `kill`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the daemon is still running");
        self.spawn();
    }

    /// Kills the daemon hard (SIGKILL) and starts it again on a new port.
    pub fn crash_and_restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        self.spawn();
    }

    /// Moves the configuration into a folder the daemon does not watch and leaves a symlink
    /// in its place, so that only SIGHUP makes the daemon read a change; returns the real
    /// file to edit. (Relative paths in it stay relative to the folder of the path the daemon
    /// was given.) The watcher sees the symlink replace the file, same contents: this waits
    /// for that to settle.
    pub fn config_behind_symlink(&self) -> PathBuf {
        let live = self.inst.dir.join("live");
        std::fs::create_dir(&live).unwrap();
        let real = live.join("meldpunt.toml");
        std::fs::copy(&self.inst.config, &real).unwrap();
        std::fs::remove_file(&self.inst.config).unwrap();
        std::os::unix::fs::symlink(&real, &self.inst.config).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        real
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.inst.dir.join("data")
    }

    /// Path of a party's SSH private key.
    pub fn key(&self, party: &str) -> PathBuf {
        self.inst.ssh_key(party)
    }

    /// Runs OpenSSH `sftp -b` as `user` with `key`, feeding `batch` commands.
    pub fn sftp(&self, user: &str, key: &Path, batch: &str) -> Output {
        self.sftp_with(user, key, &[], batch)
    }

    /// Like `sftp`, with extra OpenSSH options (e.g. `["-o", "BindAddress=127.0.0.2"]`).
    pub fn sftp_with(&self, user: &str, key: &Path, options: &[&str], batch: &str) -> Output {
        let mut batch_file = tempfile::NamedTempFile::new().unwrap();
        batch_file.write_all(batch.as_bytes()).unwrap();
        Command::new("sftp")
            .args(["-b"])
            .arg(batch_file.path())
            .args(["-P", &self.port.to_string(), "-i"])
            .arg(key)
            .args(NO_HOST_CHECK)
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"])
            .args(options)
            .arg(format!("{user}@127.0.0.1"))
            .output()
            .expect("run sftp (install openssh-client: scripts/test does)")
    }

    /// Runs a paramiko script; `PORT`, `KEY`, `USER` are set in its environment.
    pub fn paramiko(&self, user: &str, key: &Path, script: &str) -> Output {
        self.paramiko_env(user, key, script, &[])
    }

    /// Like `paramiko`, with more environment variables for the script.
    pub fn paramiko_env(&self, user: &str, key: &Path, script: &str, env: &[(&str, String)]) -> Output {
        self.paramiko_command(user, key, script, env)
            .output()
            .expect("run python3 with paramiko (scripts/test installs python3-paramiko)")
    }

    /// Like `paramiko_env`, running in the background (the test ends it).
    pub fn paramiko_spawn(&self, user: &str, key: &Path, script: &str, env: &[(&str, String)]) -> Child {
        self.paramiko_command(user, key, script, env)
            .stdout(Stdio::null())
            .spawn()
            .expect("run python3 with paramiko (scripts/test installs python3-paramiko)")
    }

    fn paramiko_command(&self, user: &str, key: &Path, script: &str, env: &[(&str, String)]) -> Command {
        let python = std::env::var("MELDPUNT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let mut cmd = Command::new(python);
        cmd.arg("-c")
            .arg(format!("{PARAMIKO_PRELUDE}\n{script}"))
            .env("PORT", self.port.to_string())
            .env("KEY", key)
            .env("USER_", user)
            .envs(env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs `curl` against the HTTPS listener as `party` (its demo client certificate); `path`
    /// is sent as is. Prints the HTTP status on the last line of stdout.
    pub fn curl(&self, party: &str, args: &[&str], path: &str) -> (u16, String) {
        let (cert, key) = self.inst.tls_pair(party);
        self.curl_cert(&cert, &key, args, path)
    }

    /// Like `curl`, with any client certificate and key (e.g. one a test issued).
    pub fn curl_cert(&self, cert: &Path, key: &Path, args: &[&str], path: &str) -> (u16, String) {
        let o = Command::new("curl")
            .args(["-sS", "--path-as-is", "--cacert"])
            .arg(self.inst.ca_cert())
            .arg("--cert")
            .arg(cert)
            .arg("--key")
            .arg(key)
            .args(args)
            .args(["-w", "\n%{http_code}"])
            .arg(format!("https://localhost:{}{path}", self.https_port))
            .output()
            .expect("run curl (scripts/test installs it)");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let (body, code) = out.rsplit_once('\n').unwrap_or(("", out.as_str()));
        (code.trim().parse().unwrap_or(0), format!("{body}{}", String::from_utf8_lossy(&o.stderr)))
    }

    /// Receipts of a creditor, parsed, oldest first.
    pub fn receipts(&self, creditor: &str) -> Vec<serde_json::Value> {
        let dir = self.data().join("parties").join(creditor).join("receipts");
        let mut out: Vec<serde_json::Value> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".receipt.json"))
                    .map(|e| serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap())
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a["file_id"].as_str().cmp(&b["file_id"].as_str()));
        out
    }

    /// Waits until `creditor` has `n` receipts (uploads are committed before the close is
    /// answered, so this is normally immediate).
    pub fn wait_receipts(&self, creditor: &str, n: usize) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let r = self.receipts(creditor);
            if r.len() >= n || start.elapsed() > Duration::from_secs(10) {
                return r;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every audit event, in order.
    pub fn audit(&self) -> Vec<meldpunt::audit::Record> {
        let state = meldpunt::state::State::open(&self.data().join("state.db")).unwrap();
        meldpunt::audit::Audit::open(state).unwrap().records().unwrap()
    }

    /// Sealed files of all periods.
    pub fn sealed_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.data().join("vault")) {
            for d in rd.flatten() {
                if d.file_name() == "tmp" {
                    continue;
                }
                for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                    out.push(f.path());
                }
            }
        }
        out.sort();
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

const PARAMIKO_PRELUDE: &str = r#"
import os, sys, paramiko
def connect(user=None, key=None):
    t = paramiko.Transport(("127.0.0.1", int(os.environ["PORT"])))
    t.connect()
    k = paramiko.Ed25519Key.from_private_key_file(key or os.environ["KEY"])
    t.auth_publickey(user or os.environ["USER_"], k)
    return t, paramiko.SFTPClient.from_transport(t)
"#;

/// The base name of a receipt's files (docs/receipt.md): `<file_name>.<file_id>.receipt`, to
/// which `.json`, `.txt` and `.json.sig` are added.
pub fn receipt_base(r: &serde_json::Value) -> String {
    format!("{}.{}.receipt", r["file_name"].as_str().unwrap(), r["file_id"].as_str().unwrap())
}

/// A valid sample CSV of `n` records for `kind`, received today.
pub fn sample_csv(prefix: &str, kind: &str, n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let on = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    meldpunt::demo::sample::write_csv(&mut out, prefix, kind.parse().unwrap(), n, n, 3, on).unwrap();
    out
}

/// Writes `bytes` to a file in the server's scratch folder and returns its path.
pub fn local_file(server: &Server, name: &str, bytes: &[u8]) -> PathBuf {
    let p = server.tmp.path().join("upload");
    std::fs::create_dir_all(&p).unwrap();
    let f = p.join(name);
    std::fs::write(&f, bytes).unwrap();
    f
}

/// Combined stdout+stderr of a client run, for assertion messages.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// An installation with this month's files from three creditors, batch delivered.
pub fn delivered() -> (Server, meldpunt::domain::period::Period) {
    let s = Server::start();
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    for (i, (party, prefix, kind)) in
        [("woonstad", "W", "woninghuur"), ("vitens", "V", "drinkwater"), ("eneco", "E", "elektriciteit")]
            .into_iter()
            .enumerate()
    {
        let mut csv = Vec::new();
        meldpunt::demo::sample::write_csv(
            &mut csv,
            prefix,
            kind.parse().unwrap(),
            25,
            12,
            40 + i as u64,
            today,
        )
        .unwrap();
        let f = local_file(&s, &format!("{party}.csv"), &csv);
        let o = s.sftp(party, &s.key(party), &format!("put {} /inbox/{party}.csv\n", f.display()));
        assert!(o.status.success(), "{}", text(&o));
    }
    let p = run_batch(&s);
    (s, p)
}

/// Runs `meldpunt <args> --config <the server's configuration>` and returns its output.
pub fn meldpunt(s: &Server, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(&s.inst.config)
        .env("MELDPUNT_LOG", "warn")
        .output()
        .unwrap()
}

/// Runs `meldpunt batch run` for the current period by hand; returns the period.
pub fn run_batch(s: &Server) -> meldpunt::domain::period::Period {
    let p = meldpunt::domain::period::Cutoff::default().period_of(jiff::Timestamp::now());
    let o = Command::new(bin())
        .args(["batch", "run", "--early", "--period", &p.to_string(), "--config"])
        .arg(&s.inst.config)
        .env("MELDPUNT_LOG", "warn")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    p
}
