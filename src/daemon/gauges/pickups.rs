//! Bundles in each municipality's pickup folder: picked up and not yet, and how long the
//! oldest one not picked up has waited (since its file was delivered).

use std::time::SystemTime;

use crate::app::App;
use crate::metrics::text::Text;
use crate::pickup::folder;

/// Renders `meldpunt_pickup_bundles` and `meldpunt_pickup_oldest_unpicked_age_seconds`.
pub(super) fn render(app: &App, now: jiff::Timestamp, t: &mut Text) {
    let (config, layout) = (app.config(), app.layout());
    // (code, picked up, unpicked, age of the oldest unpicked)
    let mut rows = Vec::new();
    for m in &config.municipalities {
        let code = m.code.as_str();
        let files = match folder::files(layout, app.state(), code) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(gemeente = code, error = %e, "metrics: cannot read a pickup folder");
                continue;
            }
        };
        let (mut picked, mut unpicked, mut oldest) = (0u64, 0u64, 0f64);
        for f in files.iter().filter(|f| f.name.ends_with(".age")) {
            if f.picked_up_at.is_some() {
                picked += 1;
                continue;
            }
            unpicked += 1;
            let since = std::fs::metadata(layout.pickup(code).join(&f.name)).and_then(|m| m.modified());
            if let Ok(at) = since {
                let at = at.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
                oldest = oldest.max(now.as_millisecond() as f64 / 1000.0 - at);
            }
        }
        rows.push((code, picked, unpicked, oldest.max(0.0).floor()));
    }
    let help = "Bundle files in a municipality's pickup folder, picked up (until they expire) or not yet.";
    t.family("meldpunt_pickup_bundles", "gauge", help);
    for (code, picked, unpicked, _) in &rows {
        t.sample(&[("gemeente", code), ("state", "picked_up")], *picked);
        t.sample(&[("gemeente", code), ("state", "unpicked")], *unpicked);
    }
    let help = "Seconds since the oldest bundle not picked up was delivered (0: none waiting).";
    t.family("meldpunt_pickup_oldest_unpicked_age_seconds", "gauge", help);
    for (code, _, _, age) in &rows {
        t.sample_f64(&[("gemeente", code)], *age);
    }
}
