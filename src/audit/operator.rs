//! Who the operator really is: the `auth` of an `operator` event names the OS user that ran
//! the command and, when known, the person behind it (docs/audit.md): `uid:<n>`, then
//! `sudo:<name>` from `SUDO_USER` and `login:<n>` from the kernel's login uid
//! (`/proc/self/loginuid`, which `sudo` and `su` do not change).

use std::os::unix::fs::MetadataExt;

/// The kernel's value of `/proc/self/loginuid` for a process outside any login session.
const NO_LOGIN_UID: u32 = u32::MAX;

/// The longest `SUDO_USER` recorded; a longer or odd one is recorded as `sudo:?`.
const MAX_NAME: usize = 64;

/// The operator's identity for the `auth` field, e.g. `uid:0 sudo:alice login:1000`.
pub fn identity() -> String {
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid().to_string()).unwrap_or_else(|_| "?".into());
    let sudo = std::env::var_os("SUDO_USER").map(|v| v.to_string_lossy().into_owned());
    let login =
        std::fs::read_to_string("/proc/self/loginuid").ok().and_then(|t| t.trim().parse::<u32>().ok());
    compose(&uid, sudo.as_deref(), login)
}

/// `uid:<uid>`, then `sudo:<name>` (a name outside `[A-Za-z0-9._-]` as `?`, so nothing a
/// caller puts in the environment can disguise the record), then `login:<n>` unless unset.
fn compose(uid: &str, sudo: Option<&str>, login: Option<u32>) -> String {
    let mut out = format!("uid:{uid}");
    if let Some(name) = sudo.filter(|n| !n.is_empty()) {
        let plain = name.len() <= MAX_NAME
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        out.push_str(if plain { " sudo:" } else { " sudo:?" });
        if plain {
            out.push_str(name);
        }
    }
    if let Some(n) = login.filter(|n| *n != NO_LOGIN_UID) {
        out.push_str(&format!(" login:{n}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::compose;

    #[test]
    fn parts() {
        assert_eq!(compose("0", None, None), "uid:0");
        assert_eq!(compose("0", Some("alice"), Some(1000)), "uid:0 sudo:alice login:1000");
        assert_eq!(compose("1000", Some(""), Some(u32::MAX)), "uid:1000");
        assert_eq!(compose("0", Some("bob\n uid:5"), None), "uid:0 sudo:?");
        assert_eq!(compose("0", Some(&"a".repeat(65)), None), "uid:0 sudo:?");
    }
}
