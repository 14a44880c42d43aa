//! Lists past `[clients] max_age_days` stop counting: their hashes are deleted, a warning is
//! logged and `clients_expired` audited, once per list. The daemon runs this at start and
//! daily; `meldpunt batch run` before its run. The batch itself also ignores a list that is
//! too old, whether or not this has run yet.

use jiff::Timestamp;
use serde_json::json;

use super::ClientsError;
use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::domain::clients::still_counts;
use crate::state::clients;

/// A list that expired now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expired {
    /// Its party.
    pub party: String,
    /// How many persons it held.
    pub persons: u64,
}

/// Expires every list older than `[clients] max_age_days` at `now`.
pub fn expire(app: &App, now: Timestamp) -> Result<Vec<Expired>, ClientsError> {
    let max_age = app.config().clients_max_age_days;
    let mut out = Vec::new();
    let lists = clients::all(&app.state().lock())?;
    for l in
        lists.into_iter().filter(|l| l.expired_at.is_none() && !still_counts(l.uploaded_at, now, max_age))
    {
        let persons = clients::expire(&mut app.state().lock(), &l.party, now)?;
        tracing::warn!(
            party = %l.party,
            persons,
            uploaded_at = %l.uploaded_at,
            max_age_days = max_age,
            "known-client list is older than [clients] max_age_days: it no longer counts; the party should upload a new one"
        );
        let ev = Event::new("system", "clients_expired", Outcome::Ok).object(json!({
            "party": l.party,
            "persons": persons,
            "uploaded_at": l.uploaded_at.to_string(),
            "max_age_days": max_age,
        }));
        app.audit().emit_blocking(ev)?;
        out.push(Expired { party: l.party, persons });
    }
    Ok(out)
}
