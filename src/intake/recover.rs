//! Start-up recovery: undo what an interrupted upload left, redo what a filed one missed.
//!
//! Uploads that were still being received when the previous run ended (their sealed files in
//! `vault/tmp`) are discarded and audited as `upload_discarded` (file ids, count and bytes:
//! the creditor never got an answer and sends the file again).

use std::collections::HashSet;
use std::fs;

use serde_json::json;

use super::receipt::Receipt;
use crate::app::App;
use crate::audit::{Event, Outcome};
use crate::state::files;

/// Clears `vault/tmp` (audited), removes sealed files without a state row, rewrites missing
/// receipts, signs receipts and batch reports left without a signature.
pub(super) fn recover(app: &App) -> anyhow::Result<()> {
    let discarded = app.vault().clear_tmp()?;
    let cleared = discarded.len();
    if cleared > 0 {
        let bytes: u64 = discarded.iter().map(|(_, b)| b).sum();
        let ids: Vec<&str> = discarded.iter().map(|(id, _)| id.as_str()).collect();
        let object =
            json!({ "reason": "unfinished_at_stop", "count": cleared, "bytes": bytes, "file_ids": ids });
        app.audit().emit_blocking(Event::new("system", "upload_discarded", Outcome::Error).object(object))?;
    }
    let rows = files::all_ids(&app.state().lock())?;
    let kept: HashSet<(String, String)> = rows
        .iter()
        .filter(|(_, _, status)| status == "accepted" || status == "accepted_with_errors")
        .map(|(id, period, _)| (period.clone(), id.clone()))
        .collect();
    let mut orphans = 0;
    let vault_root = app.layout().vaults();
    for dir in fs::read_dir(&vault_root)? {
        let dir = dir?;
        let period = dir.file_name().to_string_lossy().into_owned();
        if period == "tmp" || !dir.file_type()?.is_dir() {
            continue;
        }
        for f in fs::read_dir(dir.path())? {
            let f = f?;
            let name = f.file_name().to_string_lossy().into_owned();
            // A sealed file, or its key index (kept with it).
            let id = crate::vault::file_id_of(&name).to_owned();
            if !kept.contains(&(period.clone(), id)) {
                fs::remove_file(f.path())?;
                orphans += 1;
            }
        }
    }
    let mut rewritten = 0;
    let creditors: HashSet<String> = {
        let conn = app.state().lock();
        let mut stmt = conn.prepare("SELECT DISTINCT creditor FROM files")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for creditor in creditors {
        let dir = app.layout().receipts(&creditor);
        let receipts = files::receipts_of(&app.state().lock(), &creditor)?;
        let on_disk = super::receipt_files::by_id(&dir)?;
        for (id, json) in receipts {
            // Both the JSON and the text twin, under the name the receipt has now.
            let receipt: Receipt = serde_json::from_str(&json)?;
            let base = receipt.base_name();
            let has =
                |ext: &str| on_disk.get(&id).is_some_and(|names| names.contains(&format!("{base}.{ext}")));
            if !has("json") || !has("txt") {
                receipt.write_to(&dir, app.signer())?;
                rewritten += 1;
            }
        }
    }
    let signed = crate::signature::sign_missing(app.layout(), app.signer())?;
    if cleared + orphans + rewritten + signed > 0 {
        tracing::warn!(cleared, orphans, rewritten, signed, "recovered from an interrupted run");
    }
    Ok(())
}
