//! Re-sealing one sealed file without some of its lines: the rest is copied byte for byte
//! (so every other record keeps its line, and with it its signal id), sealed to the same
//! period key in `vault/tmp`, made durable and renamed over the old file. A crash leaves
//! either the old file or the new one, never a mix; run again, the new one has nothing to
//! remove. The file's key index is removed before anything else.

use std::collections::BTreeSet;
use std::io::{BufRead as _, Write as _};

use crate::batch::signals::ReadError;
use crate::domain::period::Period;
use crate::vault::sealed_line::{SealedLine, is_header};
use crate::vault::{Vault, VaultError};

/// Re-seals `file_id` of `period` without the records and tombstones at the upload lines in
/// `gone`; returns how many lines it removed (0: the file is left as it is).
pub fn reseal(
    vault: &Vault,
    period: Period,
    file_id: &str,
    gone: &BTreeSet<u64>,
) -> Result<usize, ReadError> {
    let damaged = |message: String| ReadError::Damaged { period, file_id: file_id.to_owned(), message };
    // The file's key index holds the same referenties and addresses: it goes first, every
    // time (a batch between an interrupted erasure and its resumption may have written it
    // again from the old file). The next batch writes it anew from the re-sealed file.
    vault.remove_index(period, file_id)?;
    let mut reader = vault.open_sealed(period, file_id)?;
    // A temporary file left by an interrupted erasure of this file goes first.
    vault.discard_tmp(file_id);
    let mut writer = vault.seal_tmp(period, file_id)?;
    let tmp = writer.path().to_owned();
    let write_err = |e: std::io::Error| VaultError::Io { path: tmp.clone(), source: e };
    let mut line = String::with_capacity(1024);
    let (mut i, mut removed) = (0u64, 0usize);
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| damaged(e.to_string()))? == 0 {
            break;
        }
        i += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        let keep = (i == 1 && is_header(text))
            || match SealedLine::decode(i, text).map_err(|e| damaged(e.to_string()))? {
                SealedLine::Record(n, _) | SealedLine::Withdrawn(n, _) => !gone.contains(&n),
            };
        if keep {
            writer.write_all(text.as_bytes()).and_then(|()| writer.write_all(b"\n")).map_err(write_err)?;
        } else {
            removed += 1;
        }
    }
    if removed == 0 {
        return Ok(0); // dropping the writer discards the copy
    }
    writer.finish()?.file()?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;

    #[test]
    fn other_lines_stay_byte_for_byte_and_a_second_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(Layout::new(dir.path())).unwrap();
        let p: Period = "2026-10".parse().unwrap();
        let lines = [
            "{\"format\":\"meldpunt-sealed-1\",\"fields\":[\"line\"]}",
            "{\"line\":2,\"withdrawn\":\"R-1\"}",
            "{\"line\":3,\"withdrawn\":\"R-2\"}",
            "{\"line\":4,\"withdrawn\":\"R-3\"}",
        ];
        let mut w = vault.seal_tmp(p, "F1").unwrap();
        for l in lines {
            writeln!(w, "{l}").unwrap();
        }
        w.finish().unwrap().file().unwrap();
        let read = |v: &Vault| -> Vec<String> {
            v.open_sealed(p, "F1").unwrap().lines().map(Result::unwrap).collect()
        };
        assert_eq!(reseal(&vault, p, "F1", &BTreeSet::from([3])).unwrap(), 1);
        assert_eq!(read(&vault), [lines[0], lines[1], lines[3]]);
        assert_eq!(reseal(&vault, p, "F1", &BTreeSet::from([3])).unwrap(), 0);
        assert_eq!(read(&vault), [lines[0], lines[1], lines[3]]);
        assert!(!vault.tmp_path("F1").exists(), "no temporary file is left");
    }
}
