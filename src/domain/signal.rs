//! A validated arrears signal and its value types.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// The kind of arrears (`soort`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Drinking water.
    Drinkwater,
    /// Electricity.
    Elektriciteit,
    /// Gas.
    Gas,
    /// District heating.
    Warmte,
    /// Social or private rent.
    Woninghuur,
    /// Health insurance premium.
    Zorgverzekering,
}

impl Kind {
    /// Every kind, in alphabetical order.
    pub const ALL: [Kind; 6] = [
        Kind::Drinkwater,
        Kind::Elektriciteit,
        Kind::Gas,
        Kind::Warmte,
        Kind::Woninghuur,
        Kind::Zorgverzekering,
    ];

    /// The wire name, e.g. `woninghuur`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Drinkwater => "drinkwater",
            Kind::Elektriciteit => "elektriciteit",
            Kind::Gas => "gas",
            Kind::Warmte => "warmte",
            Kind::Woninghuur => "woninghuur",
            Kind::Zorgverzekering => "zorgverzekering",
        }
    }

    /// Whether this is an energy kind (electricity, gas, heat).
    pub fn is_energy(self) -> bool {
        matches!(self, Kind::Elektriciteit | Kind::Gas | Kind::Warmte)
    }
}

impl FromStr for Kind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownName(s.to_owned()))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value '{0}'")]
pub struct UnknownName(pub String);

/// The phase of a signal (`fase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fase {
    /// Energy: imminent end of supply.
    Eindelevering,
    /// First report (the default).
    #[default]
    Eerste,
    /// Update of an earlier report.
    Update,
}

impl Fase {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Fase::Eindelevering => "eindelevering",
            Fase::Eerste => "eerste",
            Fase::Update => "update",
        }
    }
}

impl FromStr for Fase {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "eindelevering" => Ok(Fase::Eindelevering),
            "eerste" => Ok(Fase::Eerste),
            "update" => Ok(Fase::Update),
            _ => Err(UnknownName(s.to_owned())),
        }
    }
}

/// A normalised Dutch postcode: four digits (first not 0) and two upper-case letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Postcode([u8; 6]);

impl Postcode {
    /// Parses `1234AB`, accepting spaces and lower case.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut b = [0u8; 6];
        let mut n = 0;
        for c in raw.chars().filter(|c| !c.is_whitespace()) {
            if n == b.len() || !c.is_ascii() {
                return None;
            }
            b[n] = c as u8;
            n += 1;
        }
        let ok = n == 6
            && b[0] != b'0'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[4..].iter().all(u8::is_ascii_alphabetic);
        ok.then(|| Self([b[0], b[1], b[2], b[3], b[4].to_ascii_uppercase(), b[5].to_ascii_uppercase()]))
    }

    /// The normalised text, e.g. `1234AB`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a postcode is ASCII")
    }
}

impl TryFrom<String> for Postcode {
    type Error = UnknownName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or(UnknownName(s))
    }
}

impl From<Postcode> for String {
    fn from(p: Postcode) -> Self {
        p.as_str().to_owned()
    }
}

/// An amount in euro cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(pub u64);

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// One accepted signal, normalised. This is what the vault seals; it never leaves it in
/// plaintext except inside an encrypted bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalRecord {
    /// The creditor's own unique reference.
    pub referentie: String,
    /// Kind of arrears.
    pub soort: Kind,
    /// Phase.
    pub fase: Fase,
    /// Initials.
    pub voorletters: Option<String>,
    /// Surname prefix (`van der`).
    pub voorvoegsel: Option<String>,
    /// Surname.
    pub achternaam: String,
    /// Date of birth.
    pub geboortedatum: Option<Date>,
    /// Street.
    pub straatnaam: Option<String>,
    /// House number, 1–99999.
    pub huisnummer: u32,
    /// House letter, upper case.
    pub huisletter: Option<char>,
    /// House number addition.
    pub huisnummertoevoeging: Option<String>,
    /// Normalised postcode.
    pub postcode: Postcode,
    /// Town.
    pub plaatsnaam: Option<String>,
    /// Phone number.
    pub telefoonnummer: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Arrears.
    pub bedrag: Cents,
    /// Date the arrears arose.
    pub ontstaansdatum: Date,
    /// Date of the signal (defaults to the day of receipt).
    pub signaaldatum: Date,
    /// Date of the written payment reminder.
    pub herinneringsdatum: Option<Date>,
    /// Personal contact was sought.
    pub contactpoging: Option<bool>,
    /// Debtor was pointed to debt help.
    pub schuldhulp_gewezen: Option<bool>,
    /// Eviction or disconnection is imminent.
    pub crisissignaal: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcode_normalises() {
        assert_eq!(Postcode::parse("1234 ab").unwrap().as_str(), "1234AB");
        assert_eq!(Postcode::parse(" 3311XX ").unwrap().as_str(), "3311XX");
        assert!(Postcode::parse("12345").is_none());
        assert!(Postcode::parse("0123AB").is_none());
        assert!(Postcode::parse("1234A").is_none());
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        assert!("huur".parse::<Kind>().is_err());
    }

    #[test]
    fn cents_display() {
        assert_eq!(Cents(123456).to_string(), "1234.56");
        assert_eq!(Cents(5).to_string(), "0.05");
    }
}
