//! Matching keys (docs/matching.md): the household a signal belongs to (its normalised address) and the
//! person within it (normalised surname plus date of birth). Pure: no I/O.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use jiff::civil::Date;

use crate::domain::signal::{Postcode, SignalRecord};
pub use crate::domain::surname::surname_key;

/// A household: postcode + huisnummer + huisletter + huisnummertoevoeging, upper case, spaces
/// and punctuation removed. The letter and the addition stay separate fields, so `12` with
/// letter `A` is another household than `12` with addition `A` (or `-A`, ` a`).
///
/// Ordered by postcode, then house number (numerically), then letter, then addition.
#[derive(Clone, Debug, PartialOrd, Ord)]
pub struct HouseholdKey {
    postcode: Postcode,
    huisnummer: u32,
    huisletter: String,
    toevoeging: String,
    /// `1234AB|12|A|3` (always four fields; derived from the others, so it never changes the
    /// order or the equality they give).
    text: String,
}

impl HouseholdKey {
    /// The household of a signal.
    pub fn of(record: &SignalRecord) -> Self {
        let letter = record.huisletter.map(String::from);
        Self::new(
            &record.postcode,
            record.huisnummer,
            letter.as_deref(),
            record.huisnummertoevoeging.as_deref(),
        )
    }

    /// Writes the key text of a signal's household into `out` (see [`HouseholdKey::text_into`]).
    pub fn record_text_into(out: &mut String, r: &SignalRecord) {
        Self::text_into(
            out,
            r.postcode.as_str(),
            r.huisnummer,
            r.huisletter,
            r.huisnummertoevoeging.as_deref(),
        );
    }

    /// The household of an address given in parts (e.g. from the command line).
    pub fn new(
        postcode: &Postcode,
        huisnummer: u32,
        huisletter: Option<&str>,
        toevoeging: Option<&str>,
    ) -> Self {
        let huisletter = address_part(huisletter);
        let toevoeging = address_part(toevoeging);
        let text = format!("{}|{}|{}|{}", postcode.as_str(), huisnummer, huisletter, toevoeging);
        Self { postcode: *postcode, huisnummer, huisletter, toevoeging, text }
    }

    /// Writes the key text of an address, exactly as [`HouseholdKey::as_str`] would give it,
    /// into `out` (cleared first): for looking a household up without building a key.
    /// `postcode` must be normalised already (as sealed records hold it).
    pub fn text_into(
        out: &mut String,
        postcode: &str,
        huisnummer: u32,
        huisletter: Option<char>,
        toevoeging: Option<&str>,
    ) {
        use fmt::Write as _;
        out.clear();
        out.push_str(postcode);
        let _ = write!(out, "|{huisnummer}|");
        push_address_part(out, huisletter.into_iter());
        out.push('|');
        push_address_part(out, toevoeging.unwrap_or("").chars());
    }

    /// The normalised key as text, e.g. `1234AB|12|A|` or `1234AB|12||3HG`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The postcode.
    pub fn postcode(&self) -> &Postcode {
        &self.postcode
    }

    /// The house number.
    pub fn huisnummer(&self) -> u32 {
        self.huisnummer
    }

    /// The normalised house letter (empty when none).
    pub fn huisletter(&self) -> &str {
        &self.huisletter
    }

    /// The normalised house number addition (empty when none).
    pub fn toevoeging(&self) -> &str {
        &self.toevoeging
    }
}

// The text is a one-to-one function of the fields, so equality and hashing by the text agree
// with the order by the fields (and need one comparison instead of five).
impl PartialEq for HouseholdKey {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for HouseholdKey {}

impl Hash for HouseholdKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

// Hash and Eq are those of the text, so a key can be looked up by its text.
impl Borrow<str> for HouseholdKey {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for HouseholdKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Upper case, keeping letters and digits only (spaces and punctuation removed).
fn address_part(raw: Option<&str>) -> String {
    let mut out = String::new();
    push_address_part(&mut out, raw.unwrap_or("").chars());
    out
}

/// Appends the normalised form of an address part (see [`address_part`]).
fn push_address_part(out: &mut String, raw: impl Iterator<Item = char>) {
    out.extend(raw.flat_map(char::to_uppercase).filter(|c| c.is_alphanumeric()));
}

/// A person within a household: the normalised surname and, when known, the date of birth.
///
/// Equality of keys is strict; whether two keys denote the same person is [`same_person`]
/// (a missing date of birth matches any date).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonKey {
    surname: String,
    geboortedatum: Option<Date>,
}

impl PersonKey {
    /// The person of a signal.
    pub fn of(record: &SignalRecord) -> Self {
        Self::new(record.voorvoegsel.as_deref(), &record.achternaam, record.geboortedatum)
    }

    /// The person with this surname (prefix given apart or inside `achternaam`) and birth date.
    pub fn new(voorvoegsel: Option<&str>, achternaam: &str, geboortedatum: Option<Date>) -> Self {
        Self { surname: surname_key(voorvoegsel, achternaam), geboortedatum }
    }

    /// The normalised surname, e.g. `berg, van der`.
    pub fn surname(&self) -> &str {
        &self.surname
    }

    /// The date of birth, if known.
    pub fn geboortedatum(&self) -> Option<Date> {
        self.geboortedatum
    }

    /// The same surname with this date of birth.
    pub fn with_geboortedatum(&self, geboortedatum: Option<Date>) -> Self {
        Self { surname: self.surname.clone(), geboortedatum }
    }
}

/// Whether two keys denote the same person: equal surname keys, and equal dates of birth
/// where both have one.
pub fn same_person(a: &PersonKey, b: &PersonKey) -> bool {
    a.surname == b.surname
        && match (a.geboortedatum, b.geboortedatum) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::signal::{Cents, Fase, Kind};

    fn record(postcode: &str, nr: u32, letter: Option<char>, add: Option<&str>) -> SignalRecord {
        SignalRecord {
            referentie: "R1".into(),
            soort: Kind::Woninghuur,
            fase: Fase::Eerste,
            voorletters: None,
            voorvoegsel: None,
            achternaam: "Jansen".into(),
            geboortedatum: None,
            straatnaam: None,
            huisnummer: nr,
            huisletter: letter,
            huisnummertoevoeging: add.map(String::from),
            postcode: Postcode::parse(postcode).unwrap(),
            plaatsnaam: None,
            telefoonnummer: None,
            email: None,
            bedrag: Cents(100),
            ontstaansdatum: Date::constant(2026, 1, 1),
            signaaldatum: Date::constant(2026, 3, 1),
            herinneringsdatum: None,
            contactpoging: None,
            schuldhulp_gewezen: None,
            crisissignaal: false,
        }
    }

    fn key(postcode: &str, nr: u32, letter: Option<char>, add: Option<&str>) -> HouseholdKey {
        HouseholdKey::of(&record(postcode, nr, letter, add))
    }

    #[test]
    fn postcode_spelling_is_one_household() {
        assert_eq!(key("1234 ab", 12, None, None), key("1234AB", 12, None, None));
        assert_eq!(key("1234 ab", 12, None, None).as_str(), "1234AB|12||");
    }

    #[test]
    fn letter_and_addition_are_kept_apart() {
        let letter = key("1234AB", 12, Some('A'), None);
        let letter_lower = key("1234AB", 12, Some('a'), None);
        let add_space = key("1234AB", 12, None, Some(" A"));
        let add_dash = key("1234AB", 12, None, Some("-a"));
        assert_eq!(letter, letter_lower);
        assert_eq!(letter.as_str(), "1234AB|12|A|");
        assert_eq!(add_space, add_dash);
        assert_eq!(add_space.as_str(), "1234AB|12||A");
        assert_ne!(letter, add_space);
        assert_ne!(letter, key("1234AB", 12, None, None));
        assert_ne!(key("1234AB", 12, None, None), key("1234AB", 1, None, Some("2")));
    }

    #[test]
    fn addition_drops_spaces_and_punctuation() {
        assert_eq!(key("1234AB", 7, Some('b'), Some("3 hg")), key("1234AB", 7, Some('B'), Some("3-H.G")));
        assert_eq!(key("1234AB", 7, Some('b'), Some("3 hg")).to_string(), "1234AB|7|B|3HG");
        assert_eq!(key("1234AB", 7, None, Some(" - ")), key("1234AB", 7, None, None));
    }

    #[test]
    fn key_text_without_a_key_is_the_same_text() {
        let mut buf = String::from("left over");
        for (nr, letter, add) in
            [(12, None, None), (7, Some('b'), Some("3-h.g")), (1, Some('ß'), Some(" é "))]
        {
            let k = key("1234AB", nr, letter, add);
            HouseholdKey::text_into(&mut buf, "1234AB", nr, letter, add);
            assert_eq!(buf, k.as_str());
        }
    }

    #[test]
    fn household_order_is_postcode_then_number_numerically() {
        let mut keys = [
            key("1234AC", 1, None, None),
            key("1234AB", 10, None, None),
            key("1234AB", 9, Some('A'), None),
            key("1234AB", 9, None, Some("1")),
            key("1234AB", 9, None, None),
        ];
        keys.sort();
        let text: Vec<&str> = keys.iter().map(HouseholdKey::as_str).collect();
        assert_eq!(text, ["1234AB|9||", "1234AB|9||1", "1234AB|9|A|", "1234AB|10||", "1234AC|1||"]);
    }

    #[test]
    fn household_key_from_parts_equals_key_of_record() {
        let pc = Postcode::parse("1234ab").unwrap();
        assert_eq!(
            HouseholdKey::new(&pc, 12, Some("a"), Some("bis")),
            key("1234AB", 12, Some('A'), Some("BIS"))
        );
        let k = HouseholdKey::new(&pc, 12, None, Some("2"));
        assert_eq!(
            (k.postcode().as_str(), k.huisnummer(), k.huisletter(), k.toevoeging()),
            ("1234AB", 12, "", "2")
        );
    }

    #[test]
    fn prefix_is_folded_into_the_surname() {
        let a = PersonKey::new(Some("van der"), "Berg", None);
        let b = PersonKey::new(None, "Berg, van der", None);
        let c = PersonKey::new(None, "Van Der Bérg", None);
        let d = PersonKey::new(None, "Berg van der", None);
        let e = PersonKey::new(Some("Van der"), "BERG", None);
        assert_eq!(a.surname(), "berg, van der");
        for k in [&b, &c, &d, &e] {
            assert_eq!(k, &a);
            assert!(same_person(k, &a));
        }
        assert_ne!(PersonKey::new(None, "Berg", None), a);
        assert_ne!(PersonKey::new(Some("van den"), "Berg", None), a);
    }

    #[test]
    fn birth_date_decides_where_both_have_one() {
        let d1 = Date::constant(1980, 5, 1);
        let d2 = Date::constant(2004, 5, 1);
        let with1 = PersonKey::new(None, "Jansen", Some(d1));
        let with2 = PersonKey::new(None, "Jansen", Some(d2));
        let without = PersonKey::new(None, "jansen", None);
        assert!(!same_person(&with1, &with2));
        assert!(same_person(&with1, &without));
        assert!(same_person(&without, &with2));
        assert!(same_person(&with1, &PersonKey::new(None, "JANSEN", Some(d1))));
        assert!(!same_person(&with1, &PersonKey::new(None, "Janssen", Some(d1))));
        assert_eq!(without.with_geboortedatum(Some(d1)), with1);
    }

    #[test]
    fn person_key_of_record() {
        let mut r = record("1234AB", 1, None, None);
        r.voorvoegsel = Some("de".into());
        r.achternaam = "Bóer".into();
        r.geboortedatum = Some(Date::constant(1990, 2, 3));
        let k = PersonKey::of(&r);
        assert_eq!((k.surname(), k.geboortedatum()), ("boer, de", Some(Date::constant(1990, 2, 3))));
    }
}
