//! The admin listener: `GET /healthz` (alive, with details), `GET /readyz` (ready for
//! traffic) and Prometheus `GET /metrics`, nothing else.
//!
//! **Bind it to loopback only.** It has no authentication and no TLS: it is for the host's
//! own monitoring agent (or a reverse proxy the operator puts in front). The configuration
//! refuses a non-loopback `[admin] listen` (see `config::check`), and nothing of this
//! listener is served on the public SFTP or HTTPS ports.
//!
//! Every other path is `404` and every other method `405`, both with the JSON error shape of
//! the public API (`{"error":{"code":"…","message":"…"}}`). Neither endpoint shows personal
//! data: counters carry fixed labels only and the health detail is up to the caller.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::metrics::Metrics;

/// Content type of the Prometheus text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long open connections may take to finish after the stop signal.
const GRACE: Duration = Duration::from_secs(3);

/// The result of a health check, as shown by `/healthz`.
#[derive(Clone, Debug, PartialEq)]
pub struct Health {
    /// Whether the daemon can do its work (`200`); `false` answers `503`.
    pub ok: bool,
    /// Named check results, shown under `checks` (a JSON object; ids and booleans only).
    pub detail: serde_json::Value,
}

/// A health check the listener calls per request (on a blocking thread).
pub type HealthCheck = Arc<dyn Fn() -> Health + Send + Sync>;

/// Gauges read at scrape time (state database, files), as exposition text that `/metrics`
/// appends to the counters; called per request on a blocking thread.
pub type Gauges = Arc<dyn Fn() -> String + Send + Sync>;

/// The two checks: `/healthz` asks `live`, `/readyz` asks `ready` (and answers `503` once
/// the daemon is stopping).
#[derive(Clone)]
pub struct Probes {
    /// Whether the daemon is alive, with details (scheduler, disk space, keys).
    pub live: HealthCheck,
    /// Whether it can take traffic (data directory writable, state database reachable).
    pub ready: HealthCheck,
}

/// Why the admin listener stopped.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Serving failed.
    #[error("admin listener failed: {0}")]
    Io(#[from] io::Error),
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    gauges: Gauges,
    probes: Probes,
    stopping: watch::Receiver<bool>,
}

/// Serves `/healthz`, `/readyz` and `/metrics` (the counters of `metrics`, then `gauges`) on
/// `listener` until `shutdown` becomes `true` (or its sender is dropped); open connections
/// get a short grace period to finish.
pub async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    gauges: Gauges,
    probes: Probes,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut stop = shutdown.clone();
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let server =
        axum::serve(listener, router(AppState { metrics, gauges, probes, stopping: shutdown.clone() }))
            .with_graceful_shutdown(stopped);
    let mut late = shutdown;
    tokio::select! {
        r = std::future::IntoFuture::into_future(server) => r.map_err(AdminError::from)?,
        () = async move {
            let _ = late.wait_for(|s| *s).await;
            tokio::time::sleep(GRACE).await;
        } => tracing::warn!("admin listener: connections still open after the grace period; closed"),
    }
    Ok(())
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz).fallback(method_not_allowed))
        .route("/readyz", get(readyz).fallback(method_not_allowed))
        .route("/metrics", get(metrics).fallback(method_not_allowed))
        .fallback(not_found)
        .with_state(state)
}

async fn healthz(State(st): State<AppState>) -> Response {
    let health = ask(st.probes.live.clone()).await;
    answer(&st, health, "unhealthy")
}

async fn readyz(State(st): State<AppState>) -> Response {
    if *st.stopping.borrow() {
        let health = Health { ok: false, detail: json!({ "stopping": true }) };
        return answer(&st, health, "stopping");
    }
    let health = ask(st.probes.ready.clone()).await;
    answer(&st, health, "not_ready")
}

/// Runs a check on a blocking thread; a panic is a failed check.
async fn ask(check: HealthCheck) -> Health {
    tokio::task::spawn_blocking(move || check())
        .await
        .unwrap_or_else(|e| Health { ok: false, detail: json!({ "health_check": format!("panicked: {e}") }) })
}

/// `200` with status `ok`, or `503` with `bad`; the uptime and the checks' details.
fn answer(st: &AppState, health: Health, bad: &str) -> Response {
    let uptime = st.metrics.uptime().as_secs();
    let (code, status) =
        if health.ok { (StatusCode::OK, "ok") } else { (StatusCode::SERVICE_UNAVAILABLE, bad) };
    let body = json!({ "status": status, "uptime_seconds": uptime, "checks": health.detail });
    no_store((code, axum::Json(body)).into_response())
}

async fn metrics(State(st): State<AppState>) -> Response {
    let gauges = st.gauges.clone();
    let read = tokio::task::spawn_blocking(move || gauges()).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "metrics: reading the gauges panicked");
        String::new()
    });
    let text = st.metrics.render() + &read;
    no_store(([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response())
}

async fn not_found() -> Response {
    let msg = "no such resource; the admin listener serves only GET /healthz, GET /readyz and GET /metrics";
    error(StatusCode::NOT_FOUND, "not_found", msg)
}

async fn method_not_allowed() -> Response {
    let mut r =
        error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "only GET (and HEAD) is allowed here");
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    r
}

/// The error shape of docs/folders-and-protocols.md: `{"error":{"code":"…","message":"…"}}`.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    no_store((status, axum::Json(body)).into_response())
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A health check for `/healthz`: `dir` (use `Layout::vault_tmp()`, which start-up recovery
/// empties) accepts a new file: a probe is created, written, synced and removed.
pub fn check_writable(dir: &Path) -> Health {
    let probe = dir.join(format!(".healthz-{}", ulid::Ulid::new()));
    let result = (|| {
        use std::io::Write as _;
        let mut f = crate::durable::create_new_private(&probe)?;
        f.write_all(b"ok\n")?;
        f.sync_all()
    })();
    let removed = std::fs::remove_file(&probe);
    match result.and(removed) {
        Ok(()) => Health { ok: true, detail: json!({ "data_dir_writable": true }) },
        Err(e) => {
            tracing::error!(dir = %dir.display(), error = %e, "health check: data directory not writable");
            Health { ok: false, detail: json!({ "data_dir_writable": false, "error": e.kind().to_string() }) }
        }
    }
}

#[cfg(test)]
mod tests;
