//! Terugmelding files in creditors' `/feedback` folders are dated, not tied to a period: each
//! goes when its date is `[retention] months` in the past.

use jiff::ToSpan;
use jiff::civil::Date;

use crate::layout::Layout;

/// The date in a terugmelding file name (`terugmelding_2026-12-01.csv`, `…_2.csv`).
pub fn date_of(name: &str) -> Option<Date> {
    name.strip_prefix("terugmelding_")?.get(..10)?.parse().ok()
}

/// Removes (or with `dry_run` counts) the terugmelding files dated before `today - keep_months`.
pub fn expire(layout: &Layout, today: Date, keep_months: u32, dry_run: bool) -> std::io::Result<usize> {
    let limit = today.checked_sub(i64::from(keep_months).months()).unwrap_or(Date::MIN);
    let parties = match std::fs::read_dir(layout.parties()) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut n = 0;
    for party in parties.flatten() {
        let dir = party.path().join("feedback");
        let Ok(files) = std::fs::read_dir(&dir) else { continue };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if date_of(&name).is_some_and(|d| d < limit) {
                if !dry_run {
                    std::fs::remove_file(f.path())?;
                }
                n += 1;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_files_go_after_the_retention() {
        let d = tempfile::tempdir().unwrap();
        let layout = Layout::new(d.path());
        let dir = layout.feedback("vitens");
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["terugmelding_2026-05-31.csv", "terugmelding_2026-06-01_2.csv", "other.csv"] {
            std::fs::write(dir.join(n), b"x").unwrap();
        }
        let today = Date::constant(2026, 12, 1);
        assert_eq!(expire(&layout, today, 6, true).unwrap(), 1);
        assert!(dir.join("terugmelding_2026-05-31.csv").exists(), "dry run");
        assert_eq!(expire(&layout, today, 6, false).unwrap(), 1);
        assert!(!dir.join("terugmelding_2026-05-31.csv").exists());
        assert!(dir.join("terugmelding_2026-06-01_2.csv").exists() && dir.join("other.csv").exists());
        assert_eq!(date_of("terugmelding_2026-06-01_2.csv"), Some(Date::constant(2026, 6, 1)));
    }
}
