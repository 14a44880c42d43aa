//! Parsers for single values: each takes a raw value and returns the typed value, `None`
//! when absent, or the [`Problem`] with it. Cross-field rules live in `record.rs`.

use std::borrow::Cow;

use jiff::civil::Date;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::fields::Raw;
use super::problem::Problem;
use crate::domain::chars;
use crate::domain::signal::{Cents, Fase, Kind, Postcode};

/// Result of parsing one value: `Ok(None)` when absent.
pub(super) type Parsed<T> = Result<Option<T>, Problem>;

/// Highest `bedrag`, in cents (1 000 000 euros).
const MAX_CENTS: u64 = 100_000_000;

/// The text of a value, or `JsonType` for a JSON boolean, array or object.
fn as_text<'a>(raw: &Raw<'a>) -> Parsed<&'a str> {
    match *raw {
        Raw::Absent => Ok(None),
        Raw::Text(s) => Ok(Some(s)),
        Raw::Bool(_) | Raw::Nested => Err(Problem::JsonType),
    }
}

/// Free text of at most `max` characters, without control or invisible format characters
/// ([`chars::is_unsafe`]: bidi overrides, zero-width spaces, …), stored NFC.
pub(super) fn text<'a>(raw: &Raw<'a>, max: usize) -> Parsed<Cow<'a, str>> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    if s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        // Printable ASCII: already NFC, one byte per character, no control characters.
        if s.len() > max {
            return Err(Problem::TooLong { max });
        }
        return Ok(Some(Cow::Borrowed(s)));
    }
    if chars::has_unsafe(s) {
        return Err(Problem::Invalid);
    }
    let s = nfc(s);
    if char_len(&s) > max {
        return Err(Problem::TooLong { max });
    }
    Ok(Some(s))
}

/// The creditor's reference: 1–64 characters `[A-Za-z0-9._/-]`.
pub(super) fn referentie<'a>(raw: &Raw<'a>) -> Parsed<&'a str> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    if !s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-')) {
        return Err(Problem::Invalid);
    }
    if s.len() > 64 {
        return Err(Problem::TooLong { max: 64 });
    }
    Ok(Some(s))
}

/// A kind by its name, case-insensitive.
pub(super) fn kind(raw: &Raw<'_>) -> Parsed<Kind> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    Kind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s)).map(Some).ok_or(Problem::Invalid)
}

/// A phase by its name, case-insensitive; absent means `eerste`.
pub(super) fn fase(raw: &Raw<'_>) -> Result<Fase, Problem> {
    let Some(s) = as_text(raw)? else {
        return Ok(Fase::default());
    };
    [Fase::Eerste, Fase::Update, Fase::Eindelevering]
        .into_iter()
        .find(|f| f.as_str().eq_ignore_ascii_case(s))
        .ok_or(Problem::Invalid)
}

/// A calendar date written `YYYY-MM-DD`, year 1900 or later.
pub(super) fn date(raw: &Raw<'_>) -> Parsed<Date> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i16> {
        b[r].iter().try_fold(0i16, |n, &d| d.is_ascii_digit().then(|| n * 10 + i16::from(d - b'0')))
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(Problem::Invalid);
    }
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return Err(Problem::Invalid);
    };
    if y < 1900 {
        return Err(Problem::Invalid);
    }
    // m and d are at most 99 (two digits), so they fit an i8.
    Date::new(y, m as i8, d as i8).map(Some).map_err(|_| Problem::Invalid)
}

/// `ja`/`nee` (case-insensitive) or a JSON boolean.
pub(super) fn yes_no(raw: &Raw<'_>) -> Parsed<bool> {
    match raw {
        Raw::Absent => Ok(None),
        Raw::Bool(b) => Ok(Some(*b)),
        Raw::Text(s) if s.eq_ignore_ascii_case("ja") => Ok(Some(true)),
        Raw::Text(s) if s.eq_ignore_ascii_case("nee") => Ok(Some(false)),
        Raw::Text(_) => Err(Problem::Invalid),
        Raw::Nested => Err(Problem::JsonType),
    }
}

/// A house number, a whole number 1–99999.
pub(super) fn huisnummer(raw: &Raw<'_>) -> Parsed<u32> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::Invalid);
    }
    let n: u32 = s.parse().map_err(|_| Problem::Invalid)?;
    if (1..=99_999).contains(&n) { Ok(Some(n)) } else { Err(Problem::Invalid) }
}

/// A house letter: exactly one letter A–Z, stored upper case.
pub(super) fn huisletter(raw: &Raw<'_>) -> Parsed<char> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    match s.as_bytes() {
        [b] if b.is_ascii_alphabetic() => Ok(Some(char::from(b.to_ascii_uppercase()))),
        _ => Err(Problem::Invalid),
    }
}

/// A Dutch postcode, normalised.
pub(super) fn postcode(raw: &Raw<'_>) -> Parsed<Postcode> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    Postcode::parse(s).map(Some).ok_or(Problem::Invalid)
}

/// A phone number: at most 20 characters of digits, spaces, `+` and `-`.
pub(super) fn telefoonnummer<'a>(raw: &Raw<'a>) -> Parsed<&'a str> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    if !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'+' | b'-')) {
        return Err(Problem::Invalid);
    }
    if s.len() > 20 {
        return Err(Problem::TooLong { max: 20 });
    }
    Ok(Some(s))
}

/// An e-mail address: at most 254 characters, exactly one `@` with text on both sides.
pub(super) fn email<'a>(raw: &Raw<'a>) -> Parsed<Cow<'a, str>> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    let s = nfc(s);
    if char_len(&s) > 254 {
        return Err(Problem::TooLong { max: 254 });
    }
    let ok = match s.split_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
        None => false,
    };
    if !ok || s.chars().any(|c| c.is_whitespace() || chars::is_unsafe(c)) {
        return Err(Problem::Invalid);
    }
    Ok(Some(s))
}

/// An amount in euros: digits, optionally `.` or `,` and one or two decimals; > 0 and
/// ≤ 1 000 000. A leading minus sign is read so that it can be reported as out of range.
pub(super) fn bedrag(raw: &Raw<'_>) -> Parsed<Cents> {
    let Some(s) = as_text(raw)? else {
        return Ok(None);
    };
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = if s.len() > whole.len() { (1..=2).contains(&frac.len()) } else { frac.is_empty() };
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || !frac_ok {
        return Err(Problem::Invalid);
    }
    let whole = whole.trim_start_matches('0');
    if negative || whole.len() > 7 {
        return Err(Problem::OutOfRange);
    }
    let euros: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| Problem::Invalid)? };
    let cents: u64 = match frac.len() {
        0 => 0,
        1 => u64::from(frac.as_bytes()[0] - b'0') * 10,
        _ => frac.parse().map_err(|_| Problem::Invalid)?,
    };
    let total = euros * 100 + cents;
    if total == 0 || total > MAX_CENTS {
        return Err(Problem::OutOfRange);
    }
    Ok(Some(Cents(total)))
}

/// `s` in Unicode normalisation form C (borrowed when it already is).
fn nfc(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    }
}

/// Length in characters.
fn char_len(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Raw<'_> {
        Raw::Text(s)
    }

    #[test]
    fn bedrag_formats() {
        assert_eq!(bedrag(&t("12,50")), Ok(Some(Cents(1250))));
        assert_eq!(bedrag(&t("12.5")), Ok(Some(Cents(1250))));
        assert_eq!(bedrag(&t("1000000")), Ok(Some(Cents(100_000_000))));
        assert_eq!(bedrag(&t("0,01")), Ok(Some(Cents(1))));
        assert_eq!(bedrag(&t("007")), Ok(Some(Cents(700))));
        for bad in ["1.000,00", "12,505", "12,", ",5", "€ 12", "1 000", "12a", "1e3", "+5"] {
            assert_eq!(bedrag(&t(bad)), Err(Problem::Invalid), "{bad}");
        }
        for out in ["0", "0,00", "-5", "-5,00", "1000000,01", "99999999999999999999"] {
            assert_eq!(bedrag(&t(out)), Err(Problem::OutOfRange), "{out}");
        }
        assert_eq!(bedrag(&Raw::Bool(true)), Err(Problem::JsonType));
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(date(&t("2026-02-28")), Ok(Some(Date::constant(2026, 2, 28))));
        for bad in ["2026-02-30", "2026-2-28", "28-02-2026", "2026/02/28", "1899-12-31", "2026-02-28T00:00"] {
            assert_eq!(date(&t(bad)), Err(Problem::Invalid), "{bad}");
        }
    }

    #[test]
    fn text_counts_characters_and_normalises() {
        let decomposed = "Mu\u{308}ller";
        assert_eq!(text(&t(decomposed), 200), Ok(Some("Müller".into())));
        assert_eq!(text(&t("Ðorđević"), 8), Ok(Some("Ðorđević".into())));
        assert_eq!(text(&t("Ðorđević"), 7), Err(Problem::TooLong { max: 7 }));
        assert_eq!(text(&t("a\nb"), 20), Err(Problem::Invalid));
        for hidden in
            ["Jan\u{202e}sen", "Jan\u{200b}sen", "\u{2066}Jansen\u{2069}", "Jansen\u{feff}", "Jan\u{ad}sen"]
        {
            assert_eq!(text(&t(hidden), 20), Err(Problem::Invalid), "{hidden:?}");
        }
        assert_eq!(email(&t("a\u{200b}@b.nl")), Err(Problem::Invalid));
        assert_eq!(text(&Raw::Bool(false), 20), Err(Problem::JsonType));
    }

    #[test]
    fn small_fields() {
        assert_eq!(huisnummer(&t("012")), Ok(Some(12)));
        for bad in ["0", "100000", "12a", "-1", "1.5", "99999999999"] {
            assert_eq!(huisnummer(&t(bad)), Err(Problem::Invalid), "{bad}");
        }
        assert_eq!(huisletter(&t("b")), Ok(Some('B')));
        assert_eq!(huisletter(&t("bis")), Err(Problem::Invalid));
        assert_eq!(huisletter(&t("é")), Err(Problem::Invalid));
        assert_eq!(yes_no(&t("JA")), Ok(Some(true)));
        assert_eq!(yes_no(&Raw::Bool(false)), Ok(Some(false)));
        assert_eq!(yes_no(&t("yes")), Err(Problem::Invalid));
        assert_eq!(kind(&t("Woninghuur")), Ok(Some(Kind::Woninghuur)));
        assert_eq!(fase(&Raw::Absent), Ok(Fase::Eerste));
        assert_eq!(referentie(&t("A-1/2026_x.y")), Ok(Some("A-1/2026_x.y")));
        assert_eq!(referentie(&t("A 1")), Err(Problem::Invalid));
        assert_eq!(referentie(&t(&"x".repeat(65))), Err(Problem::TooLong { max: 64 }));
        assert_eq!(email(&t("a@b.nl")), Ok(Some("a@b.nl".into())));
        for bad in ["a@@b", "@b", "a@", "ab", "a b@c.nl"] {
            assert_eq!(email(&t(bad)), Err(Problem::Invalid), "{bad}");
        }
        assert_eq!(telefoonnummer(&t("+31 6-1234 5678")), Ok(Some("+31 6-1234 5678")));
        assert_eq!(telefoonnummer(&t("06 (1234)")), Err(Problem::Invalid));
        assert_eq!(telefoonnummer(&t("0612345678901234567890")), Err(Problem::TooLong { max: 20 }));
    }
}
