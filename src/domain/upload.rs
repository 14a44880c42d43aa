//! Names of uploaded files: one normal path component, with temp-name handling.

use std::fmt;

/// Suffixes that mark an unfinished upload; such a file waits for a rename.
pub const TEMP_SUFFIXES: [&str; 3] = [".part", ".filepart", ".tmp"];

/// Longest accepted file name in bytes.
pub const MAX_NAME_BYTES: usize = 200;

/// A client-supplied file name that is a single, harmless path component.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UploadName(String);

/// Why a file name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty, `.` or `..`.
    #[error("the file name is empty or a dot name; use a plain name like vitens_2026-11.csv")]
    Empty,
    /// Longer than [`MAX_NAME_BYTES`].
    #[error("the file name is longer than {MAX_NAME_BYTES} bytes; use a shorter name")]
    TooLong,
    /// Contains `/`, `\` or NUL, or is a path.
    #[error("the file name must be a single name without '/', '\\' or NUL")]
    Separator,
    /// Contains a control or invisible format character (newline, escape, bidi override,
    /// zero-width space, …: [`crate::domain::chars::is_unsafe`]).
    #[error(
        "the file name contains a control or invisible formatting character (such as a line break, \
         a right-to-left override U+202E or a zero-width space U+200B); rename the file using only \
         letters, digits, spaces, '.', '_' and '-'"
    )]
    Control,
    /// Starts with a dot (hidden file).
    #[error("the file name starts with '.'; hidden files are not accepted")]
    Hidden,
}

impl UploadName {
    /// Checks that `raw` is one normal path component.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() || raw == "." || raw == ".." {
            return Err(NameError::Empty);
        }
        if raw.len() > MAX_NAME_BYTES {
            return Err(NameError::TooLong);
        }
        if raw.contains(['/', '\\', '\0']) {
            return Err(NameError::Separator);
        }
        if crate::domain::chars::has_unsafe(raw) {
            return Err(NameError::Control);
        }
        if raw.starts_with('.') {
            return Err(NameError::Hidden);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the name marks an unfinished upload (`.part`, `.filepart`, `.tmp`).
    pub fn is_temp(&self) -> bool {
        self.final_name().is_some()
    }

    /// For a temp name, the name without its temp suffix (`a.csv.part` → `a.csv`).
    pub fn final_name(&self) -> Option<&str> {
        let lower = self.0.to_ascii_lowercase();
        TEMP_SUFFIXES
            .iter()
            .find(|s| lower.ends_with(*s) && lower.len() > s.len())
            .map(|s| &self.0[..self.0.len() - s.len()])
    }

    /// The name that decides the format: the final name of a temp name, else the name.
    pub fn effective(&self) -> &str {
        self.final_name().unwrap_or(&self.0)
    }
}

impl fmt::Display for UploadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_and_tricks() {
        for bad in [
            "",
            ".",
            "..",
            "../x.csv",
            "a/b.csv",
            "a\\b.csv",
            "x\0.csv",
            "a\nb.csv",
            "\u{1b}[31m.csv",
            "\u{202e}vsc.exe.csv",
            "a\u{200b}.csv",
            "a\u{2066}b\u{2069}.csv",
            "a\u{61c}.csv",
            "a\u{feff}.csv",
            ".hidden.csv",
        ] {
            assert!(UploadName::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(UploadName::parse(&"a".repeat(201)), Err(NameError::TooLong));
        assert!(UploadName::parse("vitens_2026-11.csv").is_ok());
        assert!(UploadName::parse("Bérénice lijst.csv").is_ok());
    }

    #[test]
    fn temp_names() {
        let n = UploadName::parse("a.csv.part").unwrap();
        assert_eq!(n.final_name(), Some("a.csv"));
        assert_eq!(n.effective(), "a.csv");
        assert!(UploadName::parse("a.CSV.FILEPART").unwrap().is_temp());
        assert!(!UploadName::parse("a.csv").unwrap().is_temp());
        assert!(UploadName::parse(".part").is_err());
    }
}
