//! The trace of an unclean end: a daemon that was killed (kill -9, OOM, power loss) wrote a
//! `start` but never its `stop`. At the next start this is found and audited as
//! `unclean_stop`, before recovery audits what the run left unfinished (docs/audit.md).

use serde_json::json;

use crate::app::App;
use crate::audit::{Event, Outcome};

/// Records `unclean_stop` when the latest `start` of the daemon has no `stop` after it:
/// with that start's time, and the time and seq of the last event the run wrote. Returns
/// whether it did.
pub(super) fn audit_unclean_stop(app: &App) -> anyhow::Result<bool> {
    let (last, lifecycle) = app.audit().last_and_lifecycle()?;
    let (Some(last), Some(start)) = (last, lifecycle) else {
        return Ok(false);
    };
    if start.action != "start" {
        return Ok(false);
    }
    tracing::warn!(
        started = %start.ts,
        last_event = %last.ts,
        "the previous run ended without a clean stop (killed or crashed)"
    );
    let object = json!({ "started": start.ts, "last_event": last.ts, "last_seq": last.seq });
    app.audit().emit_blocking(Event::new("system", "unclean_stop", Outcome::Error).object(object))?;
    Ok(true)
}
