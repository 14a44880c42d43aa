//! The admin listener against the real `curl`.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::metrics::{LoginOutcome, LoginProtocol, Protocol};

struct Running {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(health: HealthCheck) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(Metrics::new());
    let (stop, rx) = watch::channel(false);
    let probes = Probes { live: health.clone(), ready: health };
    let gauges: Gauges = Arc::new(|| GAUGE.to_owned());
    let task = tokio::spawn(serve(listener, metrics.clone(), gauges, probes, rx));
    Running { addr, metrics, stop, task }
}

/// What the test's scrape-time gauges give.
const GAUGE: &str = "# HELP meldpunt_test_gauge A gauge read at scrape time.\n# TYPE meldpunt_test_gauge gauge\nmeldpunt_test_gauge 7\n";

fn healthy() -> HealthCheck {
    Arc::new(|| Health { ok: true, detail: json!({ "data_dir_writable": true }) })
}

/// Runs curl; returns (status code, content type, body).
async fn curl(addr: SocketAddr, args: &[&str], path: &str) -> (u16, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code} %{content_type}"]);
    cmd.args(args).arg(format!("http://{addr}{path}"));
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("curl is installed")).await.unwrap();
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, tail) = text.rsplit_once('\n').unwrap();
    let (code, ctype) = tail.split_once(' ').unwrap();
    (code.parse().unwrap(), ctype.to_owned(), body.to_owned())
}

fn error_code(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON error body");
    assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    v["error"]["code"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics() {
    let r = start(healthy()).await;
    r.metrics.login(LoginProtocol::Sftp, LoginOutcome::Failed);
    r.metrics.upload_aborted(Protocol::Https);

    let (code, ctype, body) = curl(r.addr, &[], "/healthz").await;
    assert_eq!((code, ctype.as_str()), (200, "application/json"), "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["checks"]["data_dir_writable"], true);
    assert!(v["uptime_seconds"].as_u64().is_some(), "{body}");

    let (code, ctype, body) = curl(r.addr, &[], "/metrics").await;
    assert_eq!((code, ctype.as_str()), (200, METRICS_CONTENT_TYPE));
    // The counters, then the gauges read at scrape time.
    let counters = r.metrics.render();
    assert!(body.starts_with(&counters), "{body}");
    assert_eq!(&body[counters.len()..], GAUGE, "{body}");
    for line in [
        "# TYPE meldpunt_uploads_total counter",
        r#"meldpunt_uploads_total{protocol="sftp",status="accepted"} 0"#,
        r#"meldpunt_upload_bytes_total{protocol="https"} 0"#,
        r#"meldpunt_records_total{outcome="replaced"} 0"#,
        r#"meldpunt_logins_total{protocol="sftp",outcome="failed"} 1"#,
        r#"meldpunt_uploads_aborted_total{protocol="https"} 1"#,
        "# TYPE meldpunt_start_time_seconds gauge",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line}:\n{body}");
    }

    // HEAD is GET without the body.
    let (code, _, body) = curl(r.addr, &["-I"], "/metrics").await;
    assert!(code == 200 && body.contains("version=0.0.4"), "{code} {body}");

    r.stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), r.task).await.unwrap().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_else_is_refused() {
    let r = start(healthy()).await;
    for path in ["/foo", "/", "/metrics/", "/v1/inbox/a.csv", "/healthz/x", "/%2e%2e/etc/passwd"] {
        let (code, ctype, body) = curl(r.addr, &[], path).await;
        assert_eq!((code, ctype.as_str()), (404, "application/json"), "{path}: {body}");
        assert_eq!(error_code(&body), "not_found", "{path}");
    }
    let (code, _, body) = curl(r.addr, &["-X", "PUT", "--data", "x"], "/v1/inbox/a.csv").await;
    assert_eq!((code, error_code(&body).as_str()), (404, "not_found"));
    for (method, path) in [("POST", "/metrics"), ("DELETE", "/healthz"), ("PUT", "/metrics")] {
        let (code, ctype, body) = curl(r.addr, &["-X", method, "--data", ""], path).await;
        assert_eq!((code, ctype.as_str()), (405, "application/json"), "{method} {path}: {body}");
        assert_eq!(error_code(&body), "method_not_allowed");
    }
    let (_, _, head) = curl(r.addr, &["-X", "POST", "-D", "-", "--data", ""], "/metrics").await;
    assert!(head.lines().any(|l| l.eq_ignore_ascii_case("allow: GET, HEAD")), "{head}");
    r.stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), r.task).await.unwrap().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_is_503() {
    let ok = Arc::new(AtomicBool::new(true));
    let flag = ok.clone();
    let r = start(Arc::new(move || {
        let ok = flag.load(Ordering::SeqCst);
        Health { ok, detail: json!({ "data_dir_writable": ok }) }
    }))
    .await;
    assert_eq!(curl(r.addr, &[], "/healthz").await.0, 200);
    ok.store(false, Ordering::SeqCst);
    let (code, _, body) = curl(r.addr, &[], "/healthz").await;
    assert_eq!(code, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["checks"]["data_dir_writable"].as_bool()),
        (Some("unhealthy"), Some(false))
    );
    r.stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), r.task).await.unwrap().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_despite_an_idle_connection() {
    let r = start(healthy()).await;
    // A client that connected and sent nothing must not keep the listener from stopping.
    let _idle = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    // Nor one that stalls in the middle of its request headers.
    let mut stalled = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stalled, b"GET /metrics HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    r.stop.send(true).unwrap();
    tokio::time::timeout(GRACE + Duration::from_secs(2), r.task).await.unwrap().unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(r.addr).await.is_err(), "no longer listening");
}

#[test]
fn writable_check() {
    let dir = tempfile::tempdir().unwrap();
    let h = check_writable(dir.path());
    assert!(h.ok, "{h:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the probe is removed");
    let h = check_writable(&dir.path().join("missing"));
    assert!(!h.ok);
    assert_eq!(h.detail["data_dir_writable"], false);
}
