//! The gauges `/metrics` reads at scrape time (docs/folders-and-protocols.md "Metrics"),
//! beside the in-process counters of `metrics/`: what another process may have changed (a
//! batch run by `meldpunt batch run`, pickups) is read from the state database and the
//! pickup folders, and the TLS files from disk, each time the endpoint is asked.
//!
//! Labels are fixed words, periods, municipality codes, file names and serial numbers: no
//! personal data.

mod batch;
mod pickups;
mod pki;

use std::sync::Arc;

use crate::admin::Gauges;
use crate::app::App;
use crate::metrics::text::Text;

/// The scrape-time gauges of `app`, for the admin listener.
pub fn gauges(app: &App) -> Gauges {
    let app = app.clone();
    Arc::new(move || render(&app))
}

/// Every scrape-time family, as exposition text.
fn render(app: &App) -> String {
    let mut t = Text::default();
    let now = jiff::Timestamp::now();
    sessions(app, &mut t);
    batch::render(app, &mut t);
    pickups::render(app, now, &mut t);
    if let Some(https) = &app.config().https {
        pki::render(https, now.as_second(), &mut t);
    }
    t.out
}

/// `meldpunt_sessions{protocol}`: authenticated sessions open now.
fn sessions(app: &App, t: &mut Text) {
    let open = app.sessions().open_per_protocol();
    let help = "Authenticated party sessions open now: SFTP sessions, HTTPS connections.";
    t.family("meldpunt_sessions", "gauge", help);
    t.sample(&[("protocol", "sftp")], open.sftp as u64);
    t.sample(&[("protocol", "https")], open.https as u64);
}
