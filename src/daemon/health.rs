//! What `/healthz` and `/readyz` check (docs/commands.md, "serve"): alive — the batch
//! scheduler keeps its time, the data directory's filesystem has space, the keys can be read;
//! ready — the data directory takes a new file and the state database answers. Names, booleans
//! and numbers only.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::admin::{Health, Probes};
use crate::app::App;
use crate::metrics::Metrics;
use crate::metrics::scheduler::unix;

/// Free space below which `/healthz` fails: intake would soon fail to file uploads.
pub const MIN_FREE_BYTES: u64 = 64 << 20;

/// How long the readiness check waits for the state database's lock.
const DB_TIMEOUT: Duration = Duration::from_secs(2);

/// The probes of a daemon; `scheduler` whether it runs the batch schedule.
pub fn probes(app: &App, scheduler: bool) -> Probes {
    let (config, layout) = (app.config(), app.layout());
    let mut keys: Vec<(&'static str, PathBuf)> =
        vec![("audit_key", layout.audit_key()), ("receipt_key", layout.receipt_key())];
    if let Some(s) = &config.sftp {
        keys.push(("ssh_host_key", s.host_key.clone()));
    }
    if let Some(h) = &config.https {
        keys.push(("tls_key", h.key.clone()));
    }
    let (metrics, root) = (app.metrics().clone(), layout.root().to_owned());
    let live = Arc::new(move || live(&metrics, scheduler, &root, &keys));
    let (tmp, db) = (layout.vault_tmp(), layout.state_db());
    let ready = Arc::new(move || ready(&tmp, &db));
    Probes { live, ready }
}

fn live(metrics: &Metrics, scheduler: bool, root: &std::path::Path, keys: &[(&str, PathBuf)]) -> Health {
    let now = SystemTime::now();
    let beat = metrics.scheduler();
    let sched_ok = !scheduler || beat.alive(now, metrics.uptime());
    let times = beat.times();
    let sched = json!({
        "enabled": scheduler,
        "alive": sched_ok,
        "last_wake": times.map(|t| t.0),
        "next_wake": times.map(|t| t.1),
        "now": unix(now),
    });
    let (disk_ok, disk) = match rustix::fs::statvfs(root) {
        Ok(v) => {
            let free = v.f_bavail.saturating_mul(v.f_frsize);
            let total = v.f_blocks.saturating_mul(v.f_frsize);
            (
                free >= MIN_FREE_BYTES,
                json!({ "free_bytes": free, "total_bytes": total, "min_free_bytes": MIN_FREE_BYTES }),
            )
        }
        Err(e) => (false, json!({ "error": e.kind().to_string() })),
    };
    let mut readable = serde_json::Map::new();
    for (name, path) in keys {
        readable.insert((*name).to_owned(), json!(std::fs::read(path).is_ok_and(|b| !b.is_empty())));
    }
    let keys_ok = readable.values().all(|v| v == true);
    if !(sched_ok && disk_ok && keys_ok) {
        tracing::error!(scheduler = sched_ok, disk = disk_ok, keys = keys_ok, "health check failed");
    }
    Health {
        ok: sched_ok && disk_ok && keys_ok,
        detail: json!({ "scheduler": sched, "disk": disk, "keys_readable": readable }),
    }
}

fn ready(tmp: &std::path::Path, db: &std::path::Path) -> Health {
    let writable = crate::admin::check_writable(tmp);
    let reachable = (|| -> rusqlite::Result<i64> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = rusqlite::Connection::open_with_flags(db, flags)?;
        conn.busy_timeout(DB_TIMEOUT)?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
    })();
    if let Err(e) = &reachable {
        tracing::error!(error = %e, "readiness check: the state database does not answer");
    }
    let db_ok = reachable.is_ok_and(|n| n > 0);
    let mut detail = writable.detail;
    detail["listening"] = json!(true);
    detail["state_db"] = json!(db_ok);
    Health { ok: writable.ok && db_ok, detail }
}
