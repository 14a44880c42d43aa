//! Known clients, privately (docs/known-clients.md): a party's client list as keyed hashes of
//! the very household and person keys the batch matches on, so meldpunt can mark a signal
//! `bekend` without ever holding the list in the clear. Pure: no I/O.
//!
//! - [`key`]: the per-party secret (32 random bytes) and its short id;
//! - [`export`]: reading a case system's export (CSV) into persons;
//! - [`list`]: the hashed-list file a party uploads (a header, one line per person);
//! - [`known`]: the set the batch asks whether a signal's person is on the list.

pub mod export;
pub mod key;
pub mod known;
pub mod list;

use hmac::{Hmac, Mac};
use jiff::civil::Date;
use sha2::Sha256;

use super::household::{HouseholdKey, PersonKey};
pub use key::ClientKey;

/// One keyed hash (HMAC-SHA-256).
pub type Digest = [u8; 32];

/// What one listed person hashes to: the person at the address by surname alone, and, when
/// the date of birth is known, by surname and date. Two hashes because the batch treats a
/// missing date of birth as matching any date (docs/matching.md "Person key").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonHashes {
    /// HMAC over the household key and the surname key.
    pub name: Digest,
    /// HMAC over the household key, the surname key and the date of birth, if known.
    pub dated: Option<Digest>,
}

/// Domain tag in front of every hashed message, with the format version.
const TAG: &[u8] = b"meldpunt-clients/1";

/// The keyed hash of one household text, surname key and (possibly empty) date text.
fn hmac(key: &ClientKey, household: &str, surname: &str, date: &str) -> Digest {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.secret()).expect("HMAC takes any key length");
    for part in [TAG, household.as_bytes(), surname.as_bytes(), date.as_bytes()] {
        // Length-prefixed, so no two different tuples give the same message.
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The hashes of a person at a household, under `key`: the same keys the batch groups on
/// ([`HouseholdKey`], [`PersonKey`]), so a name written `Berg, van der` hashes as
/// `van der Berg`.
pub fn person_hashes(key: &ClientKey, household: &HouseholdKey, person: &PersonKey) -> PersonHashes {
    hashes_of(key, household.as_str(), person.surname(), person.geboortedatum())
}

/// [`person_hashes`] from the household's key text and the surname's comparison form.
pub fn hashes_of(key: &ClientKey, household: &str, surname: &str, born: Option<Date>) -> PersonHashes {
    PersonHashes {
        name: hmac(key, household, surname, ""),
        dated: born.map(|d| hmac(key, household, surname, &d.to_string())),
    }
}

/// Whether a list uploaded at `uploaded_at` still counts at `now`: it stops counting once it
/// is more than `max_age_days` days old (`[clients] max_age_days`).
pub fn still_counts(uploaded_at: jiff::Timestamp, now: jiff::Timestamp, max_age_days: u32) -> bool {
    now.duration_since(uploaded_at) <= jiff::SignedDuration::from_hours(24 * i64::from(max_age_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_counts_for_max_age_days() {
        let t0: jiff::Timestamp = "2026-11-01T10:00:00Z".parse().unwrap();
        let day = jiff::SignedDuration::from_hours(24);
        assert!(still_counts(t0, t0 + day * 45, 45));
        assert!(!still_counts(t0, t0 + day * 45 + jiff::SignedDuration::from_secs(1), 45));
        assert!(still_counts(t0, t0, 0));
        assert!(!still_counts(t0, t0 + jiff::SignedDuration::from_secs(1), 0));
    }
    use crate::domain::signal::Postcode;

    #[test]
    fn the_same_person_written_differently_hashes_the_same() {
        let key = ClientKey::from_secret([7; 32]);
        let pc = Postcode::parse("3311 ab").unwrap();
        let hh = HouseholdKey::new(&pc, 12, Some("a"), None);
        let born = Some(Date::constant(1980, 5, 1));
        let a = person_hashes(&key, &hh, &PersonKey::new(Some("van der"), "Berg", born));
        let b = person_hashes(&key, &hh, &PersonKey::new(None, "Berg, van der", born));
        assert_eq!(a, b);
        assert!(a.dated.is_some());
        let other_key = ClientKey::from_secret([8; 32]);
        assert_ne!(person_hashes(&other_key, &hh, &PersonKey::new(None, "Berg, van der", born)), a);
        let undated = person_hashes(&key, &hh, &PersonKey::new(None, "van der Berg", None));
        assert_eq!((undated.name, undated.dated), (a.name, None));
        // The parts are length-prefixed: moving a character between them changes the hash.
        assert_ne!(hmac(&key, "ab", "c", ""), hmac(&key, "a", "bc", ""));
    }
}
