//! The daemon's batch timer: runs each due period's batch once, catching up after downtime,
//! waking at least every [`MAX_SLEEP`](super::schedule::MAX_SLEEP) so clock jumps are noticed.
//!
//! "Exactly once" comes from the state database (a delivered period is never run again
//! without `--force`), not from the timer.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::watch;

use super::run::{self, Context, Options};
use super::schedule::{self, Clock};
use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::domain::period::Period;

/// The newest period taken as done: the last delivered one, or the epoch set at first start.
fn last_done(app: &App, clock: &dyn Clock) -> anyhow::Result<Option<Period>> {
    let conn = app.state().lock();
    Ok(Some(last_done_in(&conn, &app.config(), clock.now())?))
}

/// The newest period whose batch is done (or that lies before the epoch), at `now`: the next
/// batch to run is the one after it.
pub fn last_done_in(
    conn: &rusqlite::Connection,
    config: &crate::config::Config,
    now: jiff::Timestamp,
) -> Result<Period, crate::state::StateError> {
    let default = config.cutoff.period_of(now).prev();
    let epoch =
        crate::state::batches::epoch(conn, &default.to_string())?.parse::<Period>().unwrap_or(default);
    let delivered =
        crate::state::batches::last_delivered_period(conn)?.and_then(|p| p.parse::<Period>().ok());
    Ok(delivered.map_or(epoch, |d| d.max(epoch)))
}

/// Runs due batches until `stop` becomes true.
pub async fn run_schedule(app: App, clock: Arc<dyn Clock>, mut stop: watch::Receiver<bool>) {
    loop {
        let done = match last_done(&app, clock.as_ref()) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "batch schedule: cannot read the state");
                None
            }
        };
        let cfg = app.config().batch.clone();
        for period in schedule::due_periods(clock.now(), done, &cfg) {
            if *stop.borrow() {
                return;
            }
            tracing::info!(%period, "running the scheduled batch");
            app.metrics().scheduler().running(true);
            let a = app.clone();
            let result = tokio::task::spawn_blocking(move || {
                let cx = Context::new(&a, "system");
                run::run(&cx, Options { period, dry_run: false, force: false, early: false }, &mut |line| {
                    tracing::info!("{line}")
                })
            })
            .await;
            app.metrics().scheduler().running(false);
            match result {
                Ok(Ok(s)) => tracing::info!(%period, version = s.version, "batch delivered"),
                Ok(Err(e)) => {
                    tracing::error!(%period, error = %e, "scheduled batch failed; it is tried again at the next wake-up");
                    let ev = Event::new("system", "batch", Outcome::Error)
                        .object(json!({ "period": period.to_string(), "error": e.to_string() }));
                    app.audit().record(ev).await;
                    break;
                }
                Err(e) => {
                    tracing::error!(%period, error = %e, "scheduled batch panicked");
                    break;
                }
            }
        }
        let wait = schedule::sleep_for(clock.now(), done, &cfg);
        app.metrics().scheduler().woke(wait.max(std::time::Duration::from_secs(1)));
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(wait.max(std::time::Duration::from_secs(1))) => {}
        }
    }
}
