//! Whether a signal's person is on a party's client list: the batch hashes the signal's
//! household and person keys with the party's key and looks the hashes up. A missing date of
//! birth on either side matches any date, as in the batch's own grouping
//! ([`crate::domain::household::same_person`]).

use std::collections::HashSet;

use super::{ClientKey, Digest, PersonHashes, person_hashes};
use crate::domain::household::{HouseholdKey, PersonKey};

/// A party's list, ready to be asked.
#[derive(Debug)]
pub struct KnownClients {
    key: ClientKey,
    /// Every listed person by address and surname.
    names: HashSet<Digest>,
    /// Listed persons without a date of birth, by address and surname.
    undated: HashSet<Digest>,
    /// Listed persons with a date of birth, by address, surname and date.
    dated: HashSet<Digest>,
}

impl KnownClients {
    /// The list `persons`, made with `key`.
    pub fn new(key: ClientKey, persons: &[PersonHashes]) -> Self {
        let mut k =
            KnownClients { key, names: HashSet::new(), undated: HashSet::new(), dated: HashSet::new() };
        for p in persons {
            k.names.insert(p.name);
            match p.dated {
                Some(d) => k.dated.insert(d),
                None => k.undated.insert(p.name),
            };
        }
        k
    }

    /// Whether the person at the household is on the list.
    pub fn is_known(&self, household: &HouseholdKey, person: &PersonKey) -> bool {
        let h = person_hashes(&self.key, household, person);
        match h.dated {
            None => self.names.contains(&h.name),
            Some(d) => self.dated.contains(&d) || self.undated.contains(&h.name),
        }
    }

    /// How many persons the list holds by name (for logs: a count, never a hash).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::Date;

    use super::*;
    use crate::domain::signal::Postcode;

    #[test]
    fn a_missing_birth_date_on_either_side_matches_any_date() {
        let key = ClientKey::from_secret([3; 32]);
        let hh = HouseholdKey::new(&Postcode::parse("3311AB").unwrap(), 1, None, None);
        let other_hh = HouseholdKey::new(&Postcode::parse("3311AB").unwrap(), 2, None, None);
        let (d1, d2) = (Some(Date::constant(1980, 1, 1)), Some(Date::constant(1990, 1, 1)));
        let dated = PersonKey::new(None, "Berg, van der", d1);
        let undated = PersonKey::new(None, "Jansen", None);
        let list = KnownClients::new(
            key.clone(),
            &[person_hashes(&key, &hh, &dated), person_hashes(&key, &hh, &undated)],
        );
        assert_eq!(list.len(), 2);
        assert!(list.is_known(&hh, &PersonKey::new(Some("van der"), "Berg", d1)));
        assert!(list.is_known(&hh, &PersonKey::new(Some("van der"), "Berg", None)));
        assert!(!list.is_known(&hh, &PersonKey::new(Some("van der"), "Berg", d2)));
        assert!(!list.is_known(&other_hh, &PersonKey::new(Some("van der"), "Berg", d1)));
        assert!(list.is_known(&hh, &PersonKey::new(None, "JANSEN", d2)));
        assert!(!list.is_known(&hh, &PersonKey::new(None, "Jansen-Smit", None)));
        let wrong_key =
            KnownClients::new(ClientKey::from_secret([4; 32]), &[person_hashes(&key, &hh, &dated)]);
        assert!(!wrong_key.is_known(&hh, &dated));
    }
}
