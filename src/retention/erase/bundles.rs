//! The bundle versions of a period in a municipality's pickup folder, and removing those a
//! re-issue supersedes. Bundles are encrypted to the municipality, so meldpunt cannot take a
//! person out of one: it re-issues the municipality's bundle as a new version from the vault
//! and removes the older versions nobody has picked up. A version that was picked up is the
//! municipality's already; it stays until `[pickup] retention_days` like any other.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::domain::party::MunicipalityCode;
use crate::domain::period::Period;
use crate::durable;
use crate::layout::Layout;
use crate::pickup::folder;
use crate::state::State;

/// One version of a period's bundle in a pickup folder.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Version {
    /// Its files (bundles and manifest), by name.
    pub names: Vec<String>,
    /// Whether any of them was picked up.
    pub picked_up: bool,
}

/// The version in a bundle file name `<gemeente>_<period>_v<n>_…`, if it is one of `period`'s.
fn version_of(name: &str, municipality: &str, period: Period) -> Option<u32> {
    let rest = name.strip_prefix(&format!("{municipality}_{period}_v"))?;
    let (n, _) = rest.split_once('_')?;
    n.parse().ok()
}

/// The pickup folders that hold bundles of `municipality`: its own, and that of the executor
/// serving it (docs/executor.md), whose bundle files carry the municipality's code first.
pub fn folders(config: &Config, municipality: &str) -> Vec<String> {
    let mut out = vec![municipality.to_owned()];
    let executor = MunicipalityCode::parse(municipality).ok().and_then(|code| config.executor_of(&code));
    out.extend(executor.map(|e| e.id.to_string()));
    out
}

/// The versions of `period` of `municipality`'s bundle in the pickup folder `folder` (the
/// municipality's own, or its executor's).
pub fn versions(
    layout: &Layout,
    state: &State,
    folder: &str,
    municipality: &str,
    period: Period,
) -> std::io::Result<BTreeMap<u32, Version>> {
    let mut out: BTreeMap<u32, Version> = BTreeMap::new();
    for f in folder::files(layout, state, folder)? {
        if let Some(v) = version_of(&f.name, municipality, period) {
            let entry = out.entry(v).or_default();
            entry.picked_up |= f.picked_up_at.is_some();
            entry.names.push(f.name);
        }
    }
    Ok(out)
}

/// Removes every version of `period` older than `newest` that nobody picked up (its manifest
/// first, so a municipality never sees a manifest without its bundles); returns how many
/// versions went and how many picked-up ones stay.
pub fn remove_superseded(
    layout: &Layout,
    state: &State,
    folder: &str,
    municipality: &str,
    period: Period,
    newest: u32,
) -> std::io::Result<(usize, usize)> {
    let dir = layout.pickup(folder);
    let (mut removed, mut kept) = (0, 0);
    for (_, version) in
        versions(layout, state, folder, municipality, period)?.into_iter().filter(|(v, _)| *v < newest)
    {
        if version.picked_up {
            kept += 1;
            continue;
        }
        let mut names = version.names;
        names.sort_by_key(|n| !n.ends_with("_manifest.json"));
        for name in names {
            match std::fs::remove_file(dir.join(&name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        removed += 1;
    }
    if removed > 0 {
        durable::sync_dir(&dir)?;
    }
    Ok((removed, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_names_of_that_period_only() {
        let p: Period = "2026-10".parse().unwrap();
        assert_eq!(version_of("GM0363_2026-10_v2_signalen.csv.age", "GM0363", p), Some(2));
        assert_eq!(version_of("GM0363_2026-10_v12_manifest.json", "GM0363", p), Some(12));
        assert_eq!(version_of("GM0363_2026-09_v1_manifest.json", "GM0363", p), None);
        assert_eq!(version_of("GM0599_2026-10_v1_manifest.json", "GM0363", p), None);
        assert_eq!(version_of("GM0363_2026-10_vx_manifest.json", "GM0363", p), None);
        // An executor's bundle of GM0363.
        assert_eq!(version_of("GM0363_2026-10_v3_SDD_signalen.csv.age", "GM0363", p), Some(3));
    }

    #[test]
    fn only_older_unpicked_versions_go() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let state = State::open(&dir.path().join("s.db")).unwrap();
        let p: Period = "2026-10".parse().unwrap();
        let pickup = layout.pickup("GM0363");
        std::fs::create_dir_all(&pickup).unwrap();
        for v in 1..=3 {
            for suffix in ["signalen.csv.age", "manifest.json"] {
                std::fs::write(pickup.join(format!("GM0363_2026-10_v{v}_{suffix}")), b"x").unwrap();
            }
        }
        std::fs::write(pickup.join("GM0363_2026-09_v1_manifest.json"), b"x").unwrap();
        crate::state::exchange::record_pickup(
            &state.lock(),
            "GM0363",
            "GM0363_2026-10_v1_signalen.csv.age",
            "2026-11-01T00:00:00Z",
            "download:sftp",
        )
        .unwrap();
        assert_eq!(remove_superseded(&layout, &state, "GM0363", "GM0363", p, 3).unwrap(), (1, 1));
        let mut left: Vec<String> = std::fs::read_dir(&pickup)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "GM0363_2026-09_v1_manifest.json",
                "GM0363_2026-10_v1_manifest.json",
                "GM0363_2026-10_v1_signalen.csv.age",
                "GM0363_2026-10_v3_manifest.json",
                "GM0363_2026-10_v3_signalen.csv.age",
            ]
        );
        assert_eq!(remove_superseded(&layout, &state, "GM0363", "GM0363", p, 3).unwrap(), (0, 1));
    }
}
