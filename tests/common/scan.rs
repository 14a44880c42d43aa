//! Data for retention tests: sample files with a known household in them, and a scan of a
//! whole data directory (SQLite files included) for values that must be gone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A valid woninghuur sample of 30 records in 12 households, received on `on`.
pub fn sample(prefix: &str, seed: u64, on: jiff::civil::Date) -> Vec<u8> {
    let mut out = Vec::new();
    meldpunt::demo::sample::write_csv(&mut out, prefix, "woninghuur".parse().unwrap(), 30, 12, seed, on)
        .unwrap();
    out
}

/// A sample file received on `on`, plus two people at 3311 AB 10: Jansen-Test (referentie
/// `<prefix>-HH-0`) and Pietersen (`<prefix>-HH-1`).
pub fn with_household(prefix: &str, seed: u64, on: jiff::civil::Date) -> Vec<u8> {
    let text = String::from_utf8(sample(prefix, seed, on)).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(';').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let base: Vec<String> = text.lines().nth(1).unwrap().split(';').map(str::to_owned).collect();
    let mut out = text.clone();
    for (i, name) in ["Jansen-Test", "Pietersen"].iter().enumerate() {
        let mut f = base.clone();
        f[col("referentie")] = format!("{prefix}-HH-{i}");
        f[col("achternaam")] = (*name).to_owned();
        f[col("voorvoegsel")] = String::new();
        f[col("postcode")] = "3311AB".into();
        f[col("huisnummer")] = "10".into();
        f[col("huisletter")] = String::new();
        f[col("huisnummertoevoeging")] = String::new();
        out.push_str(&f.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}

/// Every file under `dir`, recursively.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(all_files(&p)) } else { out.push(p) }
    }
    out
}

/// The values found anywhere in the files under `dir`, with where.
pub fn found(dir: &Path, values: &BTreeSet<String>) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for f in all_files(dir) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        for v in values {
            if bytes.windows(v.len()).any(|w| w == v.as_bytes()) {
                out.push((v.clone(), f.clone()));
            }
        }
    }
    out
}
