//! Receipt file names (docs/receipt.md): `<upload-name>.<file_id>.receipt.json`, its text
//! twin `….receipt.txt` and signature `….receipt.json.sig`, so that a creditor finds the
//! receipt of an upload by its name. Files written before names were prefixed, and receipts
//! whose name is not a valid upload name, are `<file_id>.receipt.*`; both are found by id.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use crate::domain::upload::UploadName;

/// The endings of the receipt files of one upload; the signature is kept with its JSON.
const ENDINGS: [&str; 3] = [".receipt.json.sig", ".receipt.json", ".receipt.txt"];

/// The base name (without `.json` or `.txt`) of the receipt of upload `file_id` (a ULID, made
/// by meldpunt) filed as `file_name`: `<file_name>.<file_id>.receipt`. The name goes in only as a valid
/// [`UploadName`] (one plain component: no `/`, `\`, NUL, control or invisible characters,
/// no leading `.`, at most 200 bytes), else the base is `<file_id>.receipt`.
pub fn base_name(file_name: &str, file_id: &str) -> String {
    match UploadName::parse(file_name) {
        Ok(n) => format!("{}.{file_id}.receipt", n.as_str()),
        _ => format!("{file_id}.receipt"),
    }
}

/// The upload id a receipt file's name carries (JSON, text twin or signature), or `None`
/// for any other file (batch reports, temporary files).
pub fn id_of(name: &str) -> Option<&str> {
    let rest = ENDINGS.iter().find_map(|e| name.strip_suffix(e))?;
    let id = rest.rsplit('.').next().filter(|id| !id.is_empty())?;
    Some(id)
}

/// The receipt JSON and text files in `dir`, by upload id (signatures not included: whatever
/// removes a file takes its `.sig`). A missing folder has none.
pub fn by_id(dir: &Path) -> io::Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for name in names(dir)? {
        if name.ends_with(".sig") {
            continue;
        }
        if let Some(id) = id_of(&name) {
            out.entry(id.to_owned()).or_default().push(name);
        }
    }
    Ok(out)
}

/// The file in `dir` a request for a receipt by id means (`GET /v1/receipts/{id}`): `asked`
/// without a dot is the upload id, for its JSON; an id-only name such as `<id>.receipt.txt`
/// or `<id>.receipt.json.sig` finds that file of the upload whatever its name starts with; any
/// other name is itself. `asked` must already be a checked plain name.
pub fn resolve(dir: &Path, asked: &str) -> io::Result<String> {
    let asked = if asked.contains('.') { asked.to_owned() } else { format!("{asked}.receipt.json") };
    let Some(id) = id_of(&asked).filter(|id| asked.starts_with(&format!("{id}."))) else {
        return Ok(asked);
    };
    if dir.join(&asked).exists() {
        return Ok(asked);
    }
    let ending = asked[id.len()..].to_owned();
    let found = names(dir)?.into_iter().find(|n| n.ends_with(&ending) && id_of(n) == Some(id));
    Ok(found.unwrap_or(asked))
}

/// The names in `dir` but those starting with `.` (temporary files of atomic writes); none
/// when the folder does not exist.
fn names(dir: &Path) -> io::Result<Vec<String>> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| !n.as_ref().is_ok_and(|n| n.starts_with('.')))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "01JDEXAMPLE0000000000000000";

    #[test]
    fn names_start_with_the_upload_name_and_give_back_the_id() {
        let base = base_name("woonstad_2026-11.csv", ID);
        assert_eq!(base, format!("woonstad_2026-11.csv.{ID}.receipt"));
        for ext in [".json", ".txt", ".json.sig"] {
            assert_eq!(id_of(&format!("{base}{ext}")), Some(ID));
        }
        assert_eq!(id_of(&format!("{ID}.receipt.json")), Some(ID), "old names");
        assert_eq!(id_of(&format!("a.receipt.json.{ID}.receipt.txt")), Some(ID));
        for other in ["batch_2026-11.json", ".x.receipt.json.01K.tmp", ".receipt.json", "x.csv"] {
            assert_eq!(id_of(other), None, "{other}");
        }
    }

    #[test]
    fn a_name_that_is_not_a_plain_upload_name_is_left_out() {
        for bad in ["../x.csv", "a/b.csv", ".hidden.csv", "a\\b.csv", "x\u{202e}vsc.exe", "", "a\nb.csv"] {
            assert_eq!(base_name(bad, ID), format!("{ID}.receipt"), "{bad:?}");
        }
    }

    #[test]
    fn by_id_finds_json_and_text_of_new_and_old_names() {
        let dir = tempfile::tempdir().unwrap();
        let base = base_name("w.csv", ID);
        for n in [format!("{base}.json"), format!("{base}.txt"), format!("{base}.json.sig")] {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        std::fs::write(dir.path().join("01JOLD.receipt.json"), b"x").unwrap();
        std::fs::write(dir.path().join("batch_2026-11.json"), b"x").unwrap();
        let mut got = by_id(dir.path()).unwrap();
        let mut ours = got.remove(ID).unwrap();
        ours.sort();
        assert_eq!(ours, [format!("{base}.json"), format!("{base}.txt")]);
        assert_eq!(got.remove("01JOLD").unwrap(), ["01JOLD.receipt.json"]);
        assert!(got.is_empty());
        let resolve = |asked: &str| resolve(dir.path(), asked).unwrap();
        assert_eq!(resolve(ID), format!("{base}.json"));
        assert_eq!(resolve(&format!("{ID}.receipt.txt")), format!("{base}.txt"));
        assert_eq!(resolve(&format!("{ID}.receipt.json.sig")), format!("{base}.json.sig"));
        assert_eq!(resolve("01JOLD"), "01JOLD.receipt.json");
        assert_eq!(resolve("01JNONE"), "01JNONE.receipt.json", "not found later");
        assert_eq!(resolve("batch_2026-11.json"), "batch_2026-11.json");
    }
}
