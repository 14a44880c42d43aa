//! End to end, in process: a demo installation, the real server on loopback, and russh +
//! russh-sftp as the client (no external tools). Real-client tests (OpenSSH, paramiko) are
//! in `tests/`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::ChannelMsg;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::OpenFlags;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::audit::{Outcome, Record};
use crate::config::Config;
use crate::demo::setup::Installation;
use crate::intake::Intake;
use crate::layout::Layout;

struct Harness {
    _tmp: tempfile::TempDir,
    inst: Installation,
    intake: Intake,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(extra_sftp: &str) -> Harness {
    let tmp = tempfile::tempdir().unwrap();
    let inst = crate::demo::setup::create(&tmp.path().join("inst")).unwrap();
    let text = std::fs::read_to_string(&inst.config).unwrap();
    let text =
        text.replace("listen = \"127.0.0.1:2222\"\n", &format!("listen = \"127.0.0.1:0\"\n{extra_sftp}"));
    std::fs::write(&inst.config, text).unwrap();
    let config = Arc::new(Config::load(&inst.config).unwrap());
    let intake = Intake::new(crate::app::App::open(config.clone(), Layout::new(&config.data_dir)).unwrap());
    intake.recover().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, rx) = watch::channel(false);
    let defender = crate::transport::defender::Defender::new(intake.app().clone());
    let task =
        tokio::spawn(super::serve(intake.clone(), config.sftp.clone().unwrap(), defender, listener, rx));
    Harness { _tmp: tmp, inst, intake, addr, stop, task }
}

struct AnyHost;

impl russh::client::Handler for AnyHost {
    type Error = russh::Error;
    async fn check_server_key(&mut self, _key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

struct Client {
    sftp: SftpSession,
    _ssh: russh::client::Handle<AnyHost>,
}

impl Harness {
    fn key(&self, party: &str) -> PrivateKey {
        PrivateKey::read_openssh_file(self.inst.ssh_key(party)).unwrap()
    }

    async fn ssh(&self, user: &str, key: PrivateKey) -> (russh::client::Handle<AnyHost>, bool) {
        let mut ssh = russh::client::connect(Arc::new(russh::client::Config::default()), self.addr, AnyHost)
            .await
            .unwrap();
        let ok = ssh
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::new(key), None))
            .await
            .map(|r| r.success())
            .unwrap_or(false);
        (ssh, ok)
    }

    async fn login(&self, party: &str) -> Client {
        let (ssh, ok) = self.ssh(party, self.key(party)).await;
        assert!(ok, "{party} logs in");
        let ch = ssh.channel_open_session().await.unwrap();
        ch.request_subsystem(true, "sftp").await.unwrap();
        Client { sftp: SftpSession::new(ch.into_stream()).await.unwrap(), _ssh: ssh }
    }

    fn audit(&self) -> Vec<Record> {
        self.intake.app().audit().records().unwrap()
    }

    /// The value of one series of the Prometheus metrics.
    fn metric(&self, series: &str) -> u64 {
        let text = self.intake.app().metrics().render();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no series {series}"))
    }

    fn receipts(&self, party: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.intake.app().layout().receipts(party))
            .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(15), self.task).await.unwrap().unwrap().unwrap();
    }
}

impl Client {
    async fn put(&self, path: &str, data: &[u8]) -> Result<(), String> {
        let mut f = self.sftp.create(path).await.map_err(|e| e.to_string())?;
        for chunk in data.chunks(40_000) {
            f.write_all(chunk).await.map_err(|e| e.to_string())?;
        }
        f.shutdown().await.map_err(|e| e.to_string())
    }

    async fn ls(&self, path: &str) -> Result<Vec<String>, String> {
        let rd = self.sftp.read_dir(path).await.map_err(|e| e.to_string())?;
        Ok(rd.map(|e| e.file_name()).collect())
    }
}

fn sample(n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let on = crate::domain::period::local_date(jiff::Timestamp::now());
    crate::demo::sample::write_csv(&mut out, "T", crate::domain::signal::Kind::Woninghuur, n, n, 7, on)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creditor_uploads_reads_receipt_and_is_confined() {
    let h = start("").await;
    let c = h.login("woonstad").await;
    assert_eq!(c.ls("/").await.unwrap(), ["inbox", "receipts", "feedback"]);
    assert_eq!(c.sftp.canonicalize(".").await.unwrap(), "/");

    // Upload: committed before the close is answered, so the receipt exists right away.
    let data = sample(12);
    c.put("/inbox/woonstad_2026-11.csv", &data).await.unwrap();
    let receipts = h.receipts("woonstad");
    assert_eq!(receipts.len(), 3, "{receipts:?}");
    assert_eq!(c.sftp.metadata("/inbox/woonstad_2026-11.csv").await.unwrap().size, Some(data.len() as u64));
    let listed = c.ls("/receipts").await.unwrap();
    assert_eq!(listed, receipts);
    let json_name = receipts.iter().find(|n| n.ends_with(".receipt.json")).unwrap();
    let receipt: serde_json::Value =
        serde_json::from_slice(&c.sftp.read(format!("/receipts/{json_name}")).await.unwrap()).unwrap();
    assert_eq!(receipt["status"], "accepted", "{receipt}");
    assert_eq!(receipt["records"]["accepted"], 12);

    // A temp upload waits for its rename within the session.
    c.put("/inbox/b.csv.part", &sample(3)).await.unwrap();
    assert_eq!(h.receipts("woonstad").len(), 3);
    assert!(c.sftp.metadata("/inbox/b.csv.part").await.is_ok(), "own unfinished upload can be stat'ed");
    c.sftp.rename("/inbox/b.csv.part", "/inbox/b.csv").await.unwrap();
    assert_eq!(h.receipts("woonstad").len(), 6);

    // The inbox lists only the session's uploads in progress: none now.
    assert!(c.ls("/inbox").await.unwrap().is_empty());

    // Refusals.
    let refused = [
        ("ls /..", c.ls("/..").await.err()),
        ("ls /pickup", c.ls("/pickup").await.err()),
        ("read inbox", c.sftp.open("/inbox/woonstad_2026-11.csv").await.err().map(|e| e.to_string())),
        ("put ..", c.put("/inbox/../x.csv", b"x").await.err()),
        ("put receipts", c.put("/receipts/x.csv", b"x").await.err()),
        ("put root", c.put("/x.csv", b"x").await.err()),
        ("put deep", c.put("/inbox/sub/x.csv", b"x").await.err()),
        ("put hidden", c.put("/inbox/.x.csv", b"x").await.err()),
        ("read outside", c.sftp.read("/../../etc/passwd").await.err().map(|e| e.to_string())),
        ("mkdir", c.sftp.create_dir("/inbox/sub").await.err().map(|e| e.to_string())),
        ("rmdir", c.sftp.remove_dir("/receipts").await.err().map(|e| e.to_string())),
        ("rm", c.sftp.remove_file(format!("/receipts/{json_name}")).await.err().map(|e| e.to_string())),
        ("symlink", c.sftp.symlink("/inbox/pw", "/etc/passwd").await.err().map(|e| e.to_string())),
        (
            "rename",
            c.sftp
                .rename(format!("/receipts/{json_name}"), "/inbox/a.csv")
                .await
                .err()
                .map(|e| e.to_string()),
        ),
        ("rename final", c.sftp.rename("/inbox/b.csv", "/inbox/c.csv").await.err().map(|e| e.to_string())),
        ("readlink", c.sftp.read_link("/inbox").await.err().map(|e| e.to_string())),
        (
            "chmod",
            c.sftp
                .set_metadata(
                    "/receipts",
                    russh_sftp::protocol::FileAttributes { permissions: Some(0o777), ..Default::default() },
                )
                .await
                .err()
                .map(|e| e.to_string()),
        ),
        (
            "append",
            c.sftp
                .open_with_flags("/inbox/y.csv", OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE)
                .await
                .err()
                .map(|e| e.to_string()),
        ),
    ];
    for (what, err) in refused {
        let err = err.unwrap_or_else(|| panic!("`{what}` should be refused"));
        assert!(
            !err.contains(h.intake.app().layout().root().to_str().unwrap()),
            "{what}: real path leaked: {err}"
        );
    }
    assert!(c.put("/inbox/.x.csv", b"x").await.unwrap_err().contains("hidden files are not accepted"));
    assert_eq!(h.receipts("woonstad").len(), 6, "refused operations filed nothing");

    // An unfinished upload left at the end of the session is dropped: nothing is processed.
    c.put("/inbox/c.csv.part", &sample(2)).await.unwrap();
    drop(c);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.receipts("woonstad").len(), 6);

    let audit = h.audit();
    assert!(audit.iter().any(|e| e.action == "login"
        && e.outcome == Outcome::Ok
        && e.actor == "creditor:woonstad"
        && e.auth.as_deref().is_some_and(|a| a.starts_with("SHA256:"))));
    let denied: Vec<_> = audit.iter().filter(|e| e.action == "denied_path").collect();
    assert!(denied.len() >= 10, "{denied:?}");
    assert!(denied.iter().all(|e| e.outcome == Outcome::Denied && e.actor == "creditor:woonstad"));
    assert!(!denied.iter().any(|e| e.object.to_string().contains(".csv")), "no file names in denials");

    assert_eq!(h.metric(r#"meldpunt_uploads_total{protocol="sftp",status="accepted"}"#), 2);
    assert_eq!(h.metric(r#"meldpunt_records_total{outcome="accepted"}"#), 15);
    assert!(h.metric(r#"meldpunt_upload_bytes_total{protocol="sftp"}"#) > data.len() as u64);
    assert!(h.metric(r#"meldpunt_uploads_aborted_total{protocol="sftp"}"#) >= 1, "the dropped c.csv.part");
    assert_eq!(h.metric(r#"meldpunt_logins_total{protocol="sftp",outcome="ok"}"#), 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_checked_limited_and_audited() {
    let h = start("max_sessions_per_party = 1\nmax_open_files = 2\n").await;
    // Wrong key, unknown user.
    assert!(!h.ssh("woonstad", h.key("vitens")).await.1);
    assert!(!h.ssh("mallory", h.key("vitens")).await.1);
    // Exec is refused on an admitted session.
    let (ssh, ok) = h.ssh("vitens", h.key("vitens")).await;
    assert!(ok);
    let mut ch = ssh.channel_open_session().await.unwrap();
    ch.exec(true, "id").await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ch.wait()).await.unwrap() {
            Some(ChannelMsg::Failure) | Some(ChannelMsg::Close) | None => break,
            Some(ChannelMsg::Data { .. }) => panic!("exec ran"),
            Some(_) => {}
        }
    }
    drop(ssh);

    // One session per party: the second is disconnected with a reason.
    let c = h.login("woonstad").await;
    let (second, _) = h.ssh("woonstad", h.key("woonstad")).await;
    assert!(second.channel_open_session().await.is_err(), "second session must not get a channel");
    // Open files are limited per session.
    let _a = c.sftp.create("/inbox/a.csv").await.unwrap();
    let _b = c.sftp.create("/inbox/b.csv").await.unwrap();
    let e = c.sftp.create("/inbox/c.csv").await.err().unwrap().to_string();
    assert!(e.contains("too many open files (limit 2)"), "{e}");
    drop((_a, _b, c));
    // The slot is freed when the session ends.
    let mut admitted = false;
    for _ in 0..50 {
        let (ssh, ok) = h.ssh("woonstad", h.key("woonstad")).await;
        if ok && ssh.channel_open_session().await.is_ok() {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted, "the slot is freed when the session ends");

    let audit = h.audit();
    let denied: Vec<_> =
        audit.iter().filter(|e| e.action == "login" && e.outcome == Outcome::Denied).collect();
    assert!(
        denied.iter().any(|e| e.actor == "creditor:woonstad" && e.object["reason"] == "key_not_registered"),
        "{denied:?}"
    );
    assert!(denied.iter().any(|e| e.actor == "unknown" && e.object["user_known"] == false), "{denied:?}");
    assert!(
        !audit.iter().any(|e| serde_json::to_string(e).unwrap().contains("mallory")),
        "unknown user names are not logged"
    );
    assert!(audit.iter().any(|e| e.action == "session_limit"
        && e.actor == "creditor:woonstad"
        && e.outcome == Outcome::Denied));
    assert!(audit.iter().any(|e| e.action == "denied_path" && e.object["op"] == "exec"));
    // Wrong key, unknown user, session limit; vitens, woonstad and woonstad again got in.
    assert!(h.metric(r#"meldpunt_logins_total{protocol="sftp",outcome="failed"}"#) >= 3);
    assert!(h.metric(r#"meldpunt_logins_total{protocol="sftp",outcome="ok"}"#) >= 3);
    assert_eq!(h.metric(r#"meldpunt_logins_total{protocol="https",outcome="ok"}"#), 0);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn municipality_picks_up_and_acknowledges() {
    let h = start("").await;
    let pickup = h.intake.app().layout().pickup("GM0505");
    std::fs::create_dir_all(&pickup).unwrap();
    std::fs::write(pickup.join("bundle_2026-11.csv.age"), b"sealed").unwrap();
    std::fs::write(pickup.join(".partial"), b"x").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", pickup.join("link")).unwrap();
    let c = h.login("GM0505").await;
    assert_eq!(c.ls("/").await.unwrap(), ["pickup", "feedback", "receipts", "clients"]);
    assert_eq!(c.ls("/pickup").await.unwrap(), ["bundle_2026-11.csv.age"]);
    assert_eq!(c.sftp.read("/pickup/bundle_2026-11.csv.age").await.unwrap(), b"sealed");
    assert!(c.sftp.read("/pickup/link").await.is_err(), "links are not followed");
    assert!(c.ls("/inbox").await.is_err());
    // Feedback is taken (here: rejected, its receipt says why) and stays write-only.
    c.put("/feedback/t.csv", b"x").await.unwrap();
    let receipts = c.ls("/receipts").await.unwrap();
    assert_eq!(receipts.len(), 3, "{receipts:?}");
    assert!(c.ls("/feedback").await.unwrap().is_empty(), "write-only: lists no files");
    assert!(c.sftp.remove_file("/receipts/x").await.is_err());
    c.sftp.remove_file("/pickup/bundle_2026-11.csv.age").await.unwrap();
    assert!(!pickup.join("bundle_2026-11.csv.age").exists());
    assert!(c.sftp.remove_file("/pickup/link").await.is_err());
    assert!(std::fs::symlink_metadata(pickup.join("link")).is_ok());
    let audit = h.audit();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "pickup_ack" && e.actor == "gemeente:GM0505" && e.outcome == Outcome::Ok)
    );
    // Shutdown disconnects the session that is still open.
    let t0 = std::time::Instant::now();
    h.stop().await;
    assert!(t0.elapsed() < Duration::from_secs(5), "shutdown took {:?}", t0.elapsed());
    assert!(c.ls("/pickup").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_uploads_are_limited_per_file_and_per_session() {
    let h = start("\n[feedback]\nmax_file_bytes = 2048\n").await;
    let c = h.login("GM0505").await;
    let e = c.put("/feedback/big.csv", &[b'x'; 3000]).await.unwrap_err();
    assert!(e.contains("at most 2048 bytes"), "{e}");
    // Two files held open at once share the limit.
    let mut a = c.sftp.create("/feedback/a.csv").await.unwrap();
    a.write_all(&[b'x'; 1500]).await.unwrap();
    a.flush().await.unwrap();
    let mut b = c.sftp.create("/feedback/b.csv").await.unwrap();
    let e = async {
        b.write_all(&[b'x'; 1000]).await?;
        b.flush().await?;
        b.shutdown().await
    }
    .await
    .unwrap_err();
    assert!(e.to_string().contains("together"), "{e}");
    // Only the file that stayed within the limit is taken (and answered) when closed.
    a.shutdown().await.unwrap();
    let receipts = c.ls("/receipts").await.unwrap();
    assert_eq!(receipts.len(), 3, "{receipts:?}");
    let json = receipts.iter().find(|n| n.ends_with(".json")).unwrap();
    let r: serde_json::Value =
        serde_json::from_slice(&c.sftp.read(format!("/receipts/{json}")).await.unwrap()).unwrap();
    assert_eq!(r["file_name"], "a.csv");
    h.stop().await;
}

#[test]
fn host_key_path_is_from_config() {
    // serve() creates the host key on first start where the configuration says.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(start(""));
    let key = h.intake.app().config().sftp.as_ref().unwrap().host_key.clone();
    let start = std::time::Instant::now();
    while !Path::new(&key).exists() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(key.exists());
    rt.block_on(h.stop());
}

/// Serves a demo installation for trying real clients by hand:
/// `MELDPUNT_MANUAL_SECS=600 cargo test --lib manual_serve -- --ignored --nocapture`
/// prints the port, the data folder and the key folder. `MELDPUNT_MANUAL_SFTP` adds lines
/// to the `[sftp]` section (e.g. `auth_timeout_secs = 5`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "manual: serves for MELDPUNT_MANUAL_SECS seconds"]
async fn manual_serve() {
    let secs: u64 = std::env::var("MELDPUNT_MANUAL_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let extra =
        std::env::var("MELDPUNT_MANUAL_SFTP").map(|s| s.replace("\\n", "\n") + "\n").unwrap_or_default();
    let h = start(&extra).await;
    println!(
        "port={} data={} clients={}",
        h.addr.port(),
        h.intake.app().layout().root().display(),
        h.inst.dir.join("clients").display()
    );
    tokio::time::sleep(Duration::from_secs(secs)).await;
    h.stop().await;
}
