//! What is in a municipality's pickup folder: its files with when each was first picked up,
//! and what a manifest lists. Shared by pickup retention, the unpicked watch and downloads.

use std::path::Path;

use jiff::Timestamp;

use crate::layout::Layout;
use crate::state::{State, exchange};

/// A file in a pickup folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PickupFile {
    /// Its name.
    pub name: String,
    /// When it was first picked up (downloaded completely or removed), if it was.
    pub picked_up_at: Option<Timestamp>,
}

/// The regular, non-hidden files of `gemeente`'s pickup folder, sorted by name (none if the
/// folder does not exist yet).
pub fn files(layout: &Layout, state: &State, municipality: &str) -> std::io::Result<Vec<PickupFile>> {
    let rd = match std::fs::read_dir(layout.pickup(municipality)) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in rd {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        if !name.starts_with('.') && entry.file_type()?.is_file() {
            names.push(name);
        }
    }
    names.sort();
    let conn = state.lock();
    Ok(names
        .into_iter()
        .map(|name| {
            let picked_up_at = exchange::picked_up_at(&conn, municipality, &name)
                .ok()
                .flatten()
                .and_then(|at| at.parse::<Timestamp>().ok());
            PickupFile { name, picked_up_at }
        })
        .collect())
}

/// The files a manifest lists, as (name, sha256 of the ciphertext); none if it cannot be read.
pub fn manifest_files(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read(path) else { return Vec::new() };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&text) else { return Vec::new() };
    doc["files"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| {
                    Some((
                        f["name"].as_str()?.to_owned(),
                        f["sha256"].as_str().unwrap_or_default().to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}
