//! What can be wrong with one record: each problem's stable code and its message.
//!
//! Messages say what is expected and how to fix it. They never contain the submitted value
//! (the receipt may carry no personal data); only non-personal facts such as the kind, a
//! limit or the day of receipt appear.

use jiff::civil::Date;

use super::RecordError;
use super::fields::Field;
use crate::domain::signal::Kind;

/// One problem with a record, or with one field of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Problem {
    /// Birth date gives an age outside 16–120: `geboortedatum_age`.
    Age,
    /// A JSON object that gives one field twice: `<field>_duplicate`.
    Duplicate,
    /// More days in arrears than the kind allows: `arrears_too_long`.
    ArrearsTooLong { kind: Kind, max: u32 },
    /// Fewer days in arrears than the kind needs: `arrears_too_short`.
    ArrearsTooShort { kind: Kind, min: u32 },
    /// A CSV row with another number of fields than the header: `field_count`.
    FieldCount { expected: usize, found: usize },
    /// A date after the day of receipt: `<field>_future`.
    Future { received_on: Date },
    /// Wrong format: `<field>_invalid`.
    Invalid,
    /// A JSON value of the wrong type (an array or object, or a boolean where text belongs):
    /// `<field>_invalid`, with a message that says so.
    JsonType,
    /// A required field is absent: `<field>_missing`.
    Missing,
    /// A field the kind requires is absent: `<field>_missing`.
    MissingForKind(Kind),
    /// A valid kind this creditor may not send: `soort_not_allowed`.
    NotAllowed,
    /// `bedrag` not > 0 and ≤ 1 000 000: `bedrag_out_of_range`.
    OutOfRange,
    /// A JSON line that is not an object: `record_malformed`.
    RecordMalformed { column: Option<usize> },
    /// A JSON line longer than the limit: `record_too_long`.
    RecordTooLong { max: usize },
    /// The kind requires `ja`: `<field>_required`.
    Required(Kind),
    /// Too many characters: `<field>_too_long`.
    TooLong { max: usize },
}

impl Problem {
    /// The stable snake_case code of this problem in `field` (None: the whole record).
    pub fn code(self, field: Option<Field>) -> String {
        let name = field.map_or("record", Field::name);
        match self {
            Problem::Age => format!("{name}_age"),
            Problem::Duplicate => format!("{name}_duplicate"),
            Problem::ArrearsTooLong { .. } => "arrears_too_long".into(),
            Problem::ArrearsTooShort { .. } => "arrears_too_short".into(),
            Problem::FieldCount { .. } => "field_count".into(),
            Problem::Future { .. } => format!("{name}_future"),
            Problem::Invalid | Problem::JsonType => format!("{name}_invalid"),
            Problem::Missing | Problem::MissingForKind(_) => format!("{name}_missing"),
            Problem::NotAllowed => format!("{name}_not_allowed"),
            Problem::OutOfRange => format!("{name}_out_of_range"),
            Problem::RecordMalformed { .. } => "record_malformed".into(),
            Problem::RecordTooLong { .. } => "record_too_long".into(),
            Problem::Required(_) => format!("{name}_required"),
            Problem::TooLong { .. } => format!("{name}_too_long"),
        }
    }

    /// What is expected and how to fix it; `allowed` are the creditor's kinds.
    pub fn message(self, field: Option<Field>, allowed: &[Kind]) -> String {
        let name = field.map_or("record", Field::name);
        match self {
            Problem::Age => format!(
                "{name} must give an age from 16 to 120 years on the day of receipt; check the date of birth"
            ),
            Problem::JsonType => match field {
                Some(
                    Field::Contactpoging | Field::SchuldhulpGewezen | Field::Bezwaar | Field::Crisissignaal,
                ) => {
                    format!("{name} must be ja or nee (or JSON true/false), not an array or object")
                }
                _ => format!(
                    "{name} must be a JSON string (a number is read as its digits), not true/false, an \
                     array or an object; write the value between quotes"
                ),
            },
            Problem::Duplicate => format!(
                "{name} is given more than once in this object (keys are read without regard to case \
                 and surrounding spaces); give each field once"
            ),
            Problem::ArrearsTooLong { kind, max } => format!(
                "days in arrears (signaaldatum minus ontstaansdatum) may be at most {max} for {kind}; \
                 check ontstaansdatum, older arrears are not reported for this kind"
            ),
            Problem::ArrearsTooShort { kind, min } => format!(
                "days in arrears (signaaldatum minus ontstaansdatum) must be at least {min} for {kind}; \
                 check ontstaansdatum, or report the signal later"
            ),
            Problem::FieldCount { expected, found } => format!(
                "this row has {found} fields but the header has {expected}; check for a missing or extra \
                 delimiter, and put values that contain the delimiter or a line break in double quotes"
            ),
            Problem::Future { received_on } => format!(
                "{name} must not be later than the day the file was received ({received_on}); check the date"
            ),
            Problem::Invalid => invalid(field),
            Problem::Missing => format!("{name} is required; fill it in for every record"),
            Problem::MissingForKind(kind) => format!(
                "{name} is required for {kind}: give the date of the written payment reminder, like 2026-03-31"
            ),
            Problem::NotAllowed => {
                let list: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
                let list = if list.is_empty() { "none".to_owned() } else { list.join(", ") };
                format!(
                    "{name} is not one of the kinds this creditor may send ({list}); leave the record out \
                     or ask the meldpunt operator to add the kind"
                )
            }
            Problem::OutOfRange => {
                format!("{name} must be more than 0 and at most 1000000 euros; check the amount")
            }
            Problem::RecordMalformed { column } => {
                let at = column.map(|c| format!(" (error at column {c})")).unwrap_or_default();
                format!(
                    "each line must be one JSON object like {{\"referentie\":\"A-1\",\"soort\":\"gas\",...}}; \
                     this line is not{at}"
                )
            }
            Problem::RecordTooLong { max } => {
                format!("this line is longer than {max} bytes; each line must hold exactly one record")
            }
            Problem::Required(kind) => match field {
                Some(Field::Contactpoging) => format!(
                    "{name} must be ja for {kind}: personal contact with the debtor must be sought before reporting"
                ),
                _ => format!(
                    "{name} must be ja for {kind}: the debtor must be pointed to debt help before reporting"
                ),
            },
            Problem::TooLong { max } => {
                format!("{name} may be at most {max} characters; shorten it")
            }
        }
    }

    /// The receipt entry for this problem on `line`.
    pub fn to_error(
        self,
        line: u64,
        referentie: Option<&str>,
        field: Option<Field>,
        allowed: &[Kind],
    ) -> RecordError {
        RecordError {
            line,
            referentie: referentie.map(str::to_owned),
            field: field.map(|f| f.name().to_owned()),
            code: self.code(field),
            message: self.message(field, allowed),
        }
    }
}

/// The message for a value in the wrong format: what the field must look like.
fn invalid(field: Option<Field>) -> String {
    let Some(field) = field else {
        return "the record cannot be read".into();
    };
    let name = field.name();
    match field {
        Field::Referentie => {
            format!("{name} may only contain letters A-Z, digits and the characters . _ / -, like A-2026.001")
        }
        Field::Soort => format!(
            "{name} must be one of woninghuur, zorgverzekering, elektriciteit, gas, warmte, drinkwater"
        ),
        Field::Fase => {
            format!("{name} must be eerste, update or eindelevering (empty means eerste)")
        }
        Field::Geboortedatum | Field::Ontstaansdatum | Field::Signaaldatum | Field::Herinneringsdatum => {
            format!("{name} must be a date written YYYY-MM-DD (year 1900 or later), like 2026-03-31")
        }
        Field::Huisnummer => format!(
            "{name} must be a whole number from 1 to 99999; put a letter in huisletter and other \
             additions in huisnummertoevoeging"
        ),
        Field::Huisletter => {
            format!("{name} must be one letter A-Z, like A; put longer additions in huisnummertoevoeging")
        }
        Field::Postcode => {
            format!("{name} must be 4 digits (not starting with 0) and 2 letters, like 1234AB")
        }
        Field::Telefoonnummer => {
            format!("{name} may only contain digits, spaces, + and -, like 06 1234 5678 or +31 78 123 4567")
        }
        Field::Email => format!(
            "{name} must be one address with exactly one @ and text on both sides, without spaces, \
             like naam@example.nl"
        ),
        Field::Bedrag => format!(
            "{name} must be an amount in euros with at most 2 decimals after . or , and without \
             thousands separators or currency sign, like 1234,56"
        ),
        Field::Contactpoging | Field::SchuldhulpGewezen | Field::Bezwaar | Field::Crisissignaal => {
            format!("{name} must be ja or nee")
        }
        Field::Voorletters
        | Field::Voorvoegsel
        | Field::Achternaam
        | Field::Straatnaam
        | Field::Huisnummertoevoeging
        | Field::Plaatsnaam => {
            format!(
                "{name} must be plain text without line breaks, tabs, control characters or invisible \
                 formatting characters (such as a right-to-left override U+202E or a zero-width space \
                 U+200B); remove them and send the record again"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_field_pattern() {
        let f = Some(Field::Postcode);
        assert_eq!(Problem::Invalid.code(f), "postcode_invalid");
        assert_eq!(Problem::Missing.code(Some(Field::Bedrag)), "bedrag_missing");
        assert_eq!(Problem::OutOfRange.code(Some(Field::Bedrag)), "bedrag_out_of_range");
        assert_eq!(Problem::TooLong { max: 20 }.code(Some(Field::Voorletters)), "voorletters_too_long");
        let k = Kind::Woninghuur;
        assert_eq!(Problem::Required(k).code(Some(Field::SchuldhulpGewezen)), "schuldhulp_gewezen_required");
        assert_eq!(
            Problem::ArrearsTooShort { kind: k, min: 30 }.code(Some(Field::Ontstaansdatum)),
            "arrears_too_short"
        );
        assert_eq!(Problem::FieldCount { expected: 7, found: 8 }.code(None), "field_count");
    }

    #[test]
    fn every_invalid_message_names_its_field() {
        for f in Field::ALL {
            let m = Problem::Invalid.message(Some(f), &[]);
            assert!(m.starts_with(f.name()), "{m}");
        }
    }
}
