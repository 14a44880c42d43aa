//! The known-client lists a batch run marks signals against (docs/known-clients.md): per
//! receiving party (a municipality code or an executor id), its stored
//! hashes and its key, loaded once at the start of the run. A list counts only when the party
//! has a key, the list was made with that key, and it is not older than `[clients]
//! max_age_days`; otherwise the run says why in the log (counts and ids, never a hash) and
//! marks that party's signals `bekend = nee`.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::app::App;
use crate::config::Config;
use crate::domain::clients::known::KnownClients;
use crate::domain::clients::still_counts;
use crate::state::{StateError, clients};
use crate::vault::client_key;

/// The lists that count in a run, by party id.
#[derive(Debug, Default)]
pub struct Known {
    lists: HashMap<String, KnownClients>,
}

impl Known {
    /// Loads the list of every configured municipality and executor that counts at `now`.
    pub fn load(app: &App, config: &Config, now: Timestamp) -> Result<Known, StateError> {
        let mut lists = HashMap::new();
        let municipalities = config.municipalities.iter().map(|m| m.code.as_str());
        for party in municipalities.chain(config.executors.iter().map(|e| e.id.as_str())) {
            if let Some(list) = load_one(app, config, party, now)? {
                lists.insert(party.to_owned(), list);
            }
        }
        Ok(Known { lists })
    }

    /// The list of `party` (a municipality code or an executor id), if one counts.
    pub fn of(&self, party: &str) -> Option<&KnownClients> {
        self.lists.get(party)
    }
}

/// The list of one party, if it counts.
fn load_one(
    app: &App,
    config: &Config,
    party: &str,
    now: Timestamp,
) -> Result<Option<KnownClients>, StateError> {
    let Some(info) = clients::info(&app.state().lock(), party)? else { return Ok(None) };
    let max_age = config.clients_max_age_days;
    if info.expired_at.is_some() || !still_counts(info.uploaded_at, now, max_age) {
        tracing::warn!(
            party,
            uploaded_at = %info.uploaded_at,
            max_age_days = max_age,
            "known-client list is older than [clients] max_age_days: no signal is marked bekend for this party"
        );
        return Ok(None);
    }
    let key = match client_key::read(app.layout(), party) {
        Ok(Some(k)) => k,
        Ok(None) => {
            tracing::warn!(
                party,
                "known-client list without a key: no signal is marked bekend for this party"
            );
            return Ok(None);
        }
        Err(e) => {
            tracing::warn!(party, error = %e, "known-client key unreadable: no signal is marked bekend for this party");
            return Ok(None);
        }
    };
    if key.id() != info.key_id {
        tracing::warn!(
            party,
            list_key = %info.key_id,
            key = %key.id(),
            "known-client list was made with a replaced key: no signal is marked bekend until a new list is uploaded"
        );
        return Ok(None);
    }
    let hashes = clients::hashes(&app.state().lock(), party)?;
    tracing::info!(party, persons = hashes.len(), "known-client list counts in this run");
    Ok(Some(KnownClients::new(key, &hashes)))
}
