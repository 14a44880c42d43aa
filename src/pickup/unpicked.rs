//! Bundles nobody picked up: counted for `/metrics`, and warned about (log) from
//! [`WARN_DAYS`] before their period is shredded, so the operator can chase the municipality
//! while there is time.

use jiff::ToSpan;
use jiff::civil::Date;

use super::folder;
use crate::app::App;
use crate::domain::period::Period;
use crate::domain::retention::shred_from;

/// Days before its period's shred date that an unpicked bundle is warned about.
pub const WARN_DAYS: i64 = 30;

/// Unpicked bundle files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unpicked {
    /// All bundle files not picked up.
    pub total: u64,
    /// Those whose period is shredded within [`WARN_DAYS`]: (municipality or executor, file,
    /// shred date).
    pub near_shred: Vec<(String, String, Date)>,
}

/// Counts unpicked bundle files (`*.age`) on `today`.
pub fn unpicked(app: &App, today: Date) -> std::io::Result<Unpicked> {
    let (config, layout, state) = (app.config(), app.layout(), app.state());
    let mut out = Unpicked::default();
    for receiver in config.receivers() {
        let code = receiver.as_str();
        for f in folder::files(layout, state, code)? {
            if !f.name.ends_with(".age") || f.picked_up_at.is_some() {
                continue;
            }
            out.total += 1;
            let Some(period) = f.name.split('_').nth(1).and_then(|p| p.parse::<Period>().ok()) else {
                continue;
            };
            let shred = shred_from(period, config.retention_months);
            if today >= shred.checked_sub(WARN_DAYS.days()).unwrap_or(shred) {
                out.near_shred.push((code.to_owned(), f.name, shred));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::exchange;

    #[test]
    fn counts_unpicked_and_warns_a_month_before_the_shred() {
        let d = tempfile::tempdir().unwrap();
        let app = crate::demo::setup::open_app(&d.path().join("i"));
        let layout = app.layout();
        let state = app.state();
        let dir = layout.pickup("GM0505");
        std::fs::create_dir_all(&dir).unwrap();
        for n in [
            "GM0505_2026-05_v1_signalen.csv.age",
            "GM0505_2026-05_v1_manifest.json",
            "GM0505_2026-06_v1_signalen.csv.age",
        ] {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
        exchange::record_pickup(
            &state.lock(),
            "GM0505",
            "GM0505_2026-06_v1_signalen.csv.age",
            "2026-07-01T00:00:00Z",
            "download:sftp",
        )
        .unwrap();
        // 2026-05 is shredded on 2026-12-01 (6 months after it ends): warned from 2026-11-01.
        let u = unpicked(&app, Date::constant(2026, 10, 31)).unwrap();
        assert_eq!((u.total, u.near_shred.len()), (1, 0));
        let u = unpicked(&app, Date::constant(2026, 11, 1)).unwrap();
        assert_eq!(
            u.near_shred,
            [("GM0505".into(), "GM0505_2026-05_v1_signalen.csv.age".into(), Date::constant(2026, 12, 1))]
        );
    }
}
