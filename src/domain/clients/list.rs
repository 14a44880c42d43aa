//! The hashed client list (docs/known-clients.md "The hashed list"): what `meldpunt clients hash`
//! writes and a party uploads. UTF-8 text, LF or CRLF:
//!
//! ```text
//! meldpunt-clients 1 key 3f9a1c2b7d0e4a56
//! <64 hex: by surname> <64 hex: by surname and date of birth, or ->
//! ```
//!
//! The first line names the format, its version and the id of the key the hashes were made
//! with; then one line per person. A list with any bad line is refused as a whole, so a
//! replacement is never half a list.

use super::{Digest, PersonHashes};

/// The first word of the header.
const MAGIC: &str = "meldpunt-clients";
/// The format version this reader knows.
const VERSION: &str = "1";
/// Bad lines named in a refusal (the rest are counted).
pub const MAX_LISTED: usize = 20;

/// A read list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedList {
    /// The id of the key it was made with.
    pub key_id: String,
    /// The persons, sorted, each once.
    pub persons: Vec<PersonHashes>,
}

/// A bad line of a list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LineProblem {
    /// The line (1 is the header).
    pub line: u64,
    /// What is wrong and what to do.
    pub message: &'static str,
}

/// Why a list was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The first [`MAX_LISTED`] problems.
    pub problems: Vec<LineProblem>,
    /// How many lines were bad in all.
    pub bad_lines: u64,
}

/// The header line for a list made with the key `key_id` (without the line end).
pub fn header(key_id: &str) -> String {
    format!("{MAGIC} {VERSION} key {key_id}")
}

/// The line of one person (without the line end).
pub fn line(p: &PersonHashes) -> String {
    let dated = p.dated.map_or_else(|| "-".to_owned(), hex::encode);
    format!("{} {dated}", hex::encode(p.name))
}

/// Reads a list.
pub fn parse(bytes: &[u8]) -> Result<HashedList, Refusal> {
    let mut refusal = Refusal { problems: Vec::new(), bad_lines: 0 };
    let mut bad = |line: u64, message: &'static str| {
        refusal.bad_lines += 1;
        if refusal.problems.len() < MAX_LISTED {
            refusal.problems.push(LineProblem { line, message });
        }
    };
    let mut lines = bytes.split(|b| *b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let key_id = match std::str::from_utf8(first).ok().and_then(header_key_id) {
        Some(id) => id.to_owned(),
        None => {
            bad(
                1,
                "the first line must be `meldpunt-clients 1 key <key id>`, as `meldpunt clients hash` writes it",
            );
            String::new()
        }
    };
    let mut persons = Vec::new();
    for (i, raw) in lines.enumerate() {
        let n = i as u64 + 2;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match person(raw) {
            Some(p) => persons.push(p),
            None => bad(
                n,
                "a line is two fields separated by one space: 64 hex digits, then 64 hex digits or '-'; \
                 make the list again with `meldpunt clients hash`",
            ),
        }
    }
    if refusal.bad_lines > 0 {
        return Err(refusal);
    }
    persons.sort_unstable();
    persons.dedup();
    Ok(HashedList { key_id, persons })
}

/// The key id of a header line, if it is one.
fn header_key_id(line: &str) -> Option<&str> {
    let mut words = line.split(' ');
    let (Some(MAGIC), Some(VERSION), Some("key"), Some(id), None) =
        (words.next(), words.next(), words.next(), words.next(), words.next())
    else {
        return None;
    };
    (id.len() == 16 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then_some(id)
}

/// The person of one line, if it is well formed.
fn person(raw: &[u8]) -> Option<PersonHashes> {
    let text = std::str::from_utf8(raw).ok()?;
    let (name, dated) = text.split_once(' ')?;
    let dated = if dated == "-" { None } else { Some(digest(dated)?) };
    Some(PersonHashes { name: digest(name)?, dated })
}

/// 32 bytes written as 64 lower-case hex digits.
fn digest(s: &str) -> Option<Digest> {
    if s.len() != 64 || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_list_reads_back_sorted_and_deduplicated() {
        let a = PersonHashes { name: [1; 32], dated: Some([2; 32]) };
        let b = PersonHashes { name: [0; 32], dated: None };
        let text = format!("{}\r\n{}\n{}\n\n{}\n", header("00112233aabbccdd"), line(&a), line(&b), line(&a));
        let list = parse(text.as_bytes()).unwrap();
        assert_eq!(list.key_id, "00112233aabbccdd");
        assert_eq!(list.persons, [b, a]);
        assert_eq!(parse(header("00112233aabbccdd").as_bytes()).unwrap().persons, []);
    }

    #[test]
    fn bad_lines_refuse_the_whole_list_and_are_named() {
        let good = line(&PersonHashes { name: [0xab; 32], dated: None });
        let text = format!(
            "meldpunt-clients 2 key 00112233aabbccdd\n{good}\nzz -\n{}\n{good}  \n",
            good.to_uppercase()
        );
        let r = parse(text.as_bytes()).unwrap_err();
        let lines: Vec<u64> = r.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 3, 4, 5]);
        assert_eq!(r.bad_lines, 4);
        let many = format!("{}\n{}", header("00112233aabbccdd"), "x\n".repeat(30));
        let r = parse(many.as_bytes()).unwrap_err();
        assert_eq!((r.problems.len(), r.bad_lines), (MAX_LISTED, 30));
    }
}
