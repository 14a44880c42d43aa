//! The fields of a signal record (docs/signal-file.md) and one record's raw values, format-independent.

/// A field of the signal file, in the order of the field table in docs/signal-file.md (errors are reported in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Field {
    Referentie,
    Soort,
    Fase,
    Voorletters,
    Voorvoegsel,
    Achternaam,
    Geboortedatum,
    Straatnaam,
    Huisnummer,
    Huisletter,
    Huisnummertoevoeging,
    Postcode,
    Plaatsnaam,
    Telefoonnummer,
    Email,
    Bedrag,
    Ontstaansdatum,
    Signaaldatum,
    Herinneringsdatum,
    Contactpoging,
    SchuldhulpGewezen,
    Bezwaar,
    Crisissignaal,
}

impl Field {
    /// Number of fields.
    pub const COUNT: usize = 23;

    /// Every field, in the order of the field table in docs/signal-file.md; `ALL[f as usize] == f`.
    pub const ALL: [Field; Field::COUNT] = [
        Field::Referentie,
        Field::Soort,
        Field::Fase,
        Field::Voorletters,
        Field::Voorvoegsel,
        Field::Achternaam,
        Field::Geboortedatum,
        Field::Straatnaam,
        Field::Huisnummer,
        Field::Huisletter,
        Field::Huisnummertoevoeging,
        Field::Postcode,
        Field::Plaatsnaam,
        Field::Telefoonnummer,
        Field::Email,
        Field::Bedrag,
        Field::Ontstaansdatum,
        Field::Signaaldatum,
        Field::Herinneringsdatum,
        Field::Contactpoging,
        Field::SchuldhulpGewezen,
        Field::Bezwaar,
        Field::Crisissignaal,
    ];

    /// The column / key name, lower case as in docs/signal-file.md.
    pub fn name(self) -> &'static str {
        match self {
            Field::Referentie => "referentie",
            Field::Soort => "soort",
            Field::Fase => "fase",
            Field::Voorletters => "voorletters",
            Field::Voorvoegsel => "voorvoegsel",
            Field::Achternaam => "achternaam",
            Field::Geboortedatum => "geboortedatum",
            Field::Straatnaam => "straatnaam",
            Field::Huisnummer => "huisnummer",
            Field::Huisletter => "huisletter",
            Field::Huisnummertoevoeging => "huisnummertoevoeging",
            Field::Postcode => "postcode",
            Field::Plaatsnaam => "plaatsnaam",
            Field::Telefoonnummer => "telefoonnummer",
            Field::Email => "email",
            Field::Bedrag => "bedrag",
            Field::Ontstaansdatum => "ontstaansdatum",
            Field::Signaaldatum => "signaaldatum",
            Field::Herinneringsdatum => "herinneringsdatum",
            Field::Contactpoging => "contactpoging",
            Field::SchuldhulpGewezen => "schuldhulp_gewezen",
            Field::Bezwaar => "bezwaar",
            Field::Crisissignaal => "crisissignaal",
        }
    }

    /// The field a column or key names: trimmed, case-insensitive.
    pub fn from_name(name: &str) -> Option<Field> {
        let name = name.trim();
        Field::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Whether every record must have this field (a CSV file must have its column).
    pub fn required(self) -> bool {
        matches!(
            self,
            Field::Referentie
                | Field::Soort
                | Field::Achternaam
                | Field::Huisnummer
                | Field::Postcode
                | Field::Bedrag
                | Field::Ontstaansdatum
        )
    }
}

/// One raw value as read from the file, before any checking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Raw<'a> {
    /// Absent: no column, empty after trimming, or JSON `null`.
    Absent,
    /// A JSON boolean.
    Bool(bool),
    /// A JSON array or object: never a valid value.
    Nested,
    /// Text, trimmed and non-empty (a JSON number as its decimal text).
    Text(&'a str),
}

impl<'a> Raw<'a> {
    /// The value of a piece of text: trimmed, and absent when nothing is left.
    pub fn text(s: &'a str) -> Raw<'a> {
        // Most values need no trimming: skip the Unicode-aware trim when both ends are
        // plain ASCII that is not whitespace.
        let plain = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii() && !b.is_ascii_whitespace());
        let s = if plain(s.as_bytes().first()) && plain(s.as_bytes().last()) { s } else { s.trim() };
        if s.is_empty() { Raw::Absent } else { Raw::Text(s) }
    }
}

/// The raw values of one record, indexed by field.
#[derive(Clone, Debug)]
pub(super) struct Row<'a> {
    values: [Raw<'a>; Field::COUNT],
}

impl<'a> Row<'a> {
    /// A row with every field absent.
    pub fn new() -> Self {
        Self { values: std::array::from_fn(|_| Raw::Absent) }
    }

    /// The value of `field`.
    pub fn get(&self, field: Field) -> &Raw<'a> {
        &self.values[field as usize]
    }

    /// Sets the value of `field`.
    pub fn set(&mut self, field: Field, value: Raw<'a>) {
        self.values[field as usize] = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_indexed_by_discriminant_and_names_round_trip() {
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(f as usize, i);
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        assert_eq!(Field::from_name("  PostCode "), Some(Field::Postcode));
        assert_eq!(Field::from_name("Schuldhulp_Gewezen"), Some(Field::SchuldhulpGewezen));
        assert_eq!(Field::from_name("klantnummer"), None);
    }

    #[test]
    fn raw_text_trims_and_empty_is_absent() {
        assert_eq!(Raw::text("  \t "), Raw::Absent);
        assert_eq!(Raw::text(" 12 \r"), Raw::Text("12"));
    }
}
