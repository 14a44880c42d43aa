//! Pure path resolution in a party's virtual tree.
//!
//! The tree is two levels deep: `/`, the party's folders (`/inbox`, `/receipts`, …) and the
//! files in them. Paths are resolved purely as text — nothing here touches the disk — and
//! anything that could mean something else on a real file system is refused rather than
//! normalised: `..` anywhere, `\`, NUL and control characters, paths deeper than
//! folder/file, names of folders that do not exist in the tree. Relative paths are relative
//! to `/` (the session's working directory never changes); `.` and repeated `/` are
//! harmless and dropped.

use std::fmt;

use crate::domain::party::PartyId;

/// Longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// A folder of the virtual tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Folder {
    /// Creditor upload folder (write-only).
    Inbox,
    /// Receipts (both parties; read-only).
    Receipts,
    /// Terugmeldingen: read-only for a creditor, upload for a municipality.
    Feedback,
    /// Bundles for a municipality (read, remove).
    Pickup,
    /// A municipality's known-client list (write-only, docs/known-clients.md).
    Clients,
}

impl Folder {
    /// The folder's name in the tree (and in audit events).
    pub fn name(self) -> &'static str {
        match self {
            Folder::Inbox => "inbox",
            Folder::Receipts => "receipts",
            Folder::Feedback => "feedback",
            Folder::Pickup => "pickup",
            Folder::Clients => "clients",
        }
    }

    fn from_name(s: &str) -> Option<Folder> {
        match s {
            "inbox" => Some(Folder::Inbox),
            "receipts" => Some(Folder::Receipts),
            "feedback" => Some(Folder::Feedback),
            "pickup" => Some(Folder::Pickup),
            "clients" => Some(Folder::Clients),
            _ => None,
        }
    }

    /// The folders a party sees at `/`, in listing order.
    pub fn of(party: &PartyId) -> &'static [Folder] {
        match party {
            PartyId::Creditor(_) => &[Folder::Inbox, Folder::Receipts, Folder::Feedback],
            PartyId::Municipality(_) | PartyId::Executor(_) => {
                &[Folder::Pickup, Folder::Feedback, Folder::Receipts, Folder::Clients]
            }
        }
    }
}

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `/`.
    Root,
    /// One of the party's folders.
    Folder(Folder),
    /// A name inside a folder (not checked further: uploads parse it as an
    /// [`UploadName`](crate::domain::upload::UploadName), reads with [`plain_name`]).
    File(Folder, String),
}

impl Target {
    /// The canonical absolute path of the target (what `realpath` answers).
    pub fn to_path(&self) -> String {
        match self {
            Target::Root => "/".to_owned(),
            Target::Folder(f) => format!("/{}", f.name()),
            Target::File(f, n) => format!("/{}/{n}", f.name()),
        }
    }

    /// The folder the target is in or is, if any.
    pub fn folder(&self) -> Option<Folder> {
        match self {
            Target::Root => None,
            Target::Folder(f) | Target::File(f, _) => Some(*f),
        }
    }
}

/// Why a path was refused. Messages are for the client; they name no real paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathError {
    /// `..` somewhere in the path.
    DotDot,
    /// `\`, NUL or a control character.
    BadCharacter,
    /// Longer than [`MAX_PATH_BYTES`].
    TooLong,
    /// A first component that is not one of the party's folders.
    OutsideTree,
    /// More than folder/file.
    TooDeep,
}

impl PathError {
    /// A short stable reason for audit events.
    pub fn reason(&self) -> &'static str {
        match self {
            PathError::DotDot => "dot_dot",
            PathError::BadCharacter => "bad_character",
            PathError::TooLong => "too_long",
            PathError::OutsideTree => "outside_tree",
            PathError::TooDeep => "too_deep",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::DotDot => "'..' is not allowed in paths; use absolute paths like /inbox/file.csv",
            PathError::BadCharacter => {
                "paths may not contain '\\', NUL, control characters or invisible formatting characters \
                 (such as a right-to-left override U+202E or a zero-width space U+200B); rename the file \
                 using only letters, digits, spaces, '.', '_' and '-'"
            }
            PathError::TooLong => "the path is too long",
            PathError::OutsideTree => "no such folder; only the folders listed in / exist",
            PathError::TooDeep => "folders have no subfolders; use /folder/file",
        })
    }
}

/// Resolves a client path for `party`.
pub fn resolve(party: &PartyId, path: &str) -> Result<Target, PathError> {
    if path.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong);
    }
    if path.chars().any(|c| c == '\\' || crate::domain::chars::is_unsafe(c)) {
        return Err(PathError::BadCharacter);
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.contains(&"..") {
        return Err(PathError::DotDot);
    }
    match parts.as_slice() {
        [] => Ok(Target::Root),
        [folder, rest @ ..] => {
            let folder = Folder::from_name(folder)
                .filter(|f| Folder::of(party).contains(f))
                .ok_or(PathError::OutsideTree)?;
            match rest {
                [] => Ok(Target::Folder(folder)),
                // The canonical path (what realpath answers) must resolve too.
                [name] if folder.name().len() + name.len() + 2 > MAX_PATH_BYTES => Err(PathError::TooLong),
                [name] => Ok(Target::File(folder, (*name).to_owned())),
                _ => Err(PathError::TooDeep),
            }
        }
    }
}

/// Whether `name` is a file name meldpunt itself could have written into a folder: one
/// component, not hidden, no separators or control characters. Used before touching the
/// real folder; names failing it are answered as "no such file".
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !crate::domain::chars::has_unsafe(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::party::{CreditorId, MunicipalityCode};

    fn creditor() -> PartyId {
        PartyId::Creditor(CreditorId::parse("woonstad").unwrap())
    }

    fn municipality() -> PartyId {
        PartyId::Municipality(MunicipalityCode::parse("GM0505").unwrap())
    }

    fn file(f: Folder, n: &str) -> Result<Target, PathError> {
        Ok(Target::File(f, n.to_owned()))
    }

    #[test]
    fn root_and_folders() {
        let c = creditor();
        for root in ["", ".", "/", "//", "/.", "./", "/./.", "///./"] {
            assert_eq!(resolve(&c, root), Ok(Target::Root), "{root:?}");
        }
        assert_eq!(resolve(&c, "/inbox"), Ok(Target::Folder(Folder::Inbox)));
        assert_eq!(resolve(&c, "/inbox/"), Ok(Target::Folder(Folder::Inbox)));
        assert_eq!(resolve(&c, "inbox"), Ok(Target::Folder(Folder::Inbox)));
        assert_eq!(resolve(&c, "./receipts/."), Ok(Target::Folder(Folder::Receipts)));
        assert_eq!(resolve(&c, "/feedback"), Ok(Target::Folder(Folder::Feedback)));
    }

    #[test]
    fn files() {
        let c = creditor();
        assert_eq!(resolve(&c, "/inbox/a.csv"), file(Folder::Inbox, "a.csv"));
        assert_eq!(resolve(&c, "inbox/a.csv"), file(Folder::Inbox, "a.csv"));
        assert_eq!(resolve(&c, "/inbox//a.csv"), file(Folder::Inbox, "a.csv"));
        assert_eq!(resolve(&c, "/inbox/./a.csv"), file(Folder::Inbox, "a.csv"));
        assert_eq!(resolve(&c, "/receipts/01J.receipt.json"), file(Folder::Receipts, "01J.receipt.json"));
        assert_eq!(resolve(&c, "/inbox/Bérénice lijst.csv"), file(Folder::Inbox, "Bérénice lijst.csv"));
        assert_eq!(resolve(&c, "/inbox/a.csv").unwrap().to_path(), "/inbox/a.csv");
    }

    #[test]
    fn dot_dot_anywhere_is_refused() {
        let c = creditor();
        for p in [
            "..",
            "/..",
            "../",
            "/../x",
            "/../../etc/passwd",
            "/inbox/..",
            "/inbox/../receipts",
            "/inbox/../x.csv",
            "inbox/../../x",
            "/receipts/../../woonstad/receipts/x",
            "/../woonstad/receipts/x",
            "/inbox/a/../b",
            "/inbox/x/..",
        ] {
            assert_eq!(resolve(&c, p), Err(PathError::DotDot), "{p:?}");
        }
        // A name that merely contains dots is a name.
        assert_eq!(resolve(&c, "/inbox/a..csv"), file(Folder::Inbox, "a..csv"));
        assert_eq!(resolve(&c, "/inbox/..."), file(Folder::Inbox, "..."));
    }

    #[test]
    fn outside_the_tree_is_refused() {
        let c = creditor();
        for p in [
            "//etc/passwd",
            "/etc/passwd",
            "/etc",
            "/x.csv",
            "x.csv",
            "/parties",
            "/pickup",
            "/Inbox",
            "/inbox.",
            "/ inbox",
            "/data/state.db",
            "/home",
        ] {
            let r = resolve(&c, p);
            assert!(matches!(r, Err(PathError::OutsideTree)), "{p:?} → {r:?}");
        }
        let m = municipality();
        assert_eq!(resolve(&m, "/inbox"), Err(PathError::OutsideTree));
        assert_eq!(resolve(&m, "/pickup"), Ok(Target::Folder(Folder::Pickup)));
        assert_eq!(resolve(&m, "/feedback/t.csv"), file(Folder::Feedback, "t.csv"));
    }

    #[test]
    fn too_deep_is_refused() {
        let c = creditor();
        for p in ["/inbox/a/b", "/inbox/sub/x.csv", "/receipts/a/b/c", "inbox/a/b/"] {
            assert_eq!(resolve(&c, p), Err(PathError::TooDeep), "{p:?}");
        }
    }

    #[test]
    fn odd_characters_are_refused() {
        let c = creditor();
        for p in [
            "\\inbox\\x.csv",
            "/inbox\\..\\receipts",
            "/inbox/x\\y.csv",
            "/inbox/x\0.csv",
            "/inbox\0/x",
            "/inbox/a\nb.csv",
            "/inbox/\u{1b}[31m.csv",
            "/inbox/x\r",
            "/inbox/\u{7f}",
        ] {
            assert_eq!(resolve(&c, p), Err(PathError::BadCharacter), "{p:?}");
        }
        assert_eq!(resolve(&c, &format!("/inbox/{}", "a".repeat(MAX_PATH_BYTES))), Err(PathError::TooLong));
    }

    /// Found by fuzzing (fuzz target `sftp_path`): a relative path within the limit whose
    /// canonical form (`/` in front) was over it resolved, but what realpath answered did not.
    #[test]
    fn canonical_path_over_the_limit_is_refused() {
        let c = creditor();
        let name = "a".repeat(MAX_PATH_BYTES - "inbox/".len());
        let relative = format!("inbox/{name}");
        assert_eq!(relative.len(), MAX_PATH_BYTES);
        assert_eq!(resolve(&c, &relative), Err(PathError::TooLong));
        let fits = format!("inbox/{}", &name[1..]);
        let target = resolve(&c, &fits).unwrap();
        assert_eq!(resolve(&c, &target.to_path()), Ok(target));
    }

    #[test]
    fn plain_names() {
        assert!(plain_name("01JD.receipt.json"));
        assert!(plain_name("terugmelding_2026-11-24.csv"));
        for bad in ["", ".", "..", ".hidden", "a/b", "a\\b", "a\0b", "a\nb", &"x".repeat(256)] {
            assert!(!plain_name(bad), "{bad:?}");
        }
    }
}
