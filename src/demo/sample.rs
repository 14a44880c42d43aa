//! Fictitious sample signal files for the demo, tests and benchmarks.
//!
//! Deterministic per seed. Every record is valid for the given kind and receipt date; names
//! include Dutch prefixes and diacritics. All people are invented.

use std::io::{self, Write};

use jiff::civil::Date;

use crate::domain::period::add_days;
use crate::domain::signal::Kind;

const SURNAMES: [(&str, &str); 12] = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van der", "Berg"),
    ("", "Bakker"),
    ("", "Çelik"),
    ("van", "Dijk"),
    ("", "Müller"),
    ("'t", "Hart"),
    ("", "Đorđević"),
    ("de", "Groot"),
    ("", "Smit-Öztürk"),
    ("van den", "Heuvel"),
];
const STREETS: [&str; 6] =
    ["Voorstraat", "Wijnstraat", "Krispijnseweg", "Bagijnhof", "Zuidendijk", "Spuiweg"];
const INITIALS: [&str; 6] = ["J.", "A.M.", "K.", "É.", "P.J.", "M."];

/// Postcodes of the demo households: (postcode, town). Dordrecht (GM0505) and Zwijndrecht
/// (GM0642).
pub const POSTCODES: [(&str, &str); 6] = [
    ("3311AB", "Dordrecht"),
    ("3312CD", "Dordrecht"),
    ("3314EF", "Dordrecht"),
    ("3331GH", "Zwijndrecht"),
    ("3332JK", "Zwijndrecht"),
    ("3317LM", "Dordrecht"),
];

/// A tiny deterministic generator (xorshift), so samples need no RNG state.
pub(crate) struct Xs(pub(crate) u64);

impl Xs {
    /// The next pseudo-random number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Header of sample CSV files (`;`-separated).
pub const HEADER: &str = "referentie;soort;fase;voorletters;voorvoegsel;achternaam;geboortedatum;straatnaam;huisnummer;huisletter;huisnummertoevoeging;postcode;plaatsnaam;telefoonnummer;email;bedrag;ontstaansdatum;signaaldatum;herinneringsdatum;contactpoging;schuldhulp_gewezen;bezwaar;crisissignaal";

/// Writes a valid `;`-separated CSV of `records` signals of `kind`, received on `on`.
/// `households` bounds the number of distinct addresses (so matching finds multiples).
pub fn write_csv(
    out: &mut dyn Write,
    prefix: &str,
    kind: Kind,
    records: u64,
    households: u64,
    seed: u64,
    on: Date,
) -> io::Result<()> {
    let mut rng = Xs(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    writeln!(out, "{HEADER}")?;
    let signaal = add_days(on, -1);
    for i in 0..records {
        let h = rng.next() % households.max(1);
        let (pc, town) = POSTCODES[(h % POSTCODES.len() as u64) as usize];
        let nr = 1 + (h / POSTCODES.len() as u64) % 400;
        let (vv, name) = rng.pick(&SURNAMES);
        let days = 35 + (rng.next() % 50) as i64;
        let ontstaan = add_days(signaal, -days);
        let born = add_days(on, -((20 + (rng.next() % 60) as i64) * 365));
        let cents = 5_000 + rng.next() % 400_000;
        let sociaal = if kind == Kind::Woninghuur || kind.is_energy() { "ja" } else { "" };
        writeln!(
            out,
            "{prefix}-{i:08};{kind};eerste;{ini};{vv};{name};{born};{street};{nr};;;{pc};{town};06 1234 5678;;{e},{c:02};{ontstaan};{signaal};{herinnering};{sociaal};{sociaal};nee;nee",
            ini = rng.pick(&INITIALS),
            street = rng.pick(&STREETS),
            e = cents / 100,
            c = cents % 100,
            herinnering = add_days(ontstaan, 14),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_deterministic_and_sized() {
        let on = Date::constant(2026, 11, 20);
        let mut a = Vec::new();
        let mut b = Vec::new();
        write_csv(&mut a, "X", Kind::Woninghuur, 50, 10, 7, on).unwrap();
        write_csv(&mut b, "X", Kind::Woninghuur, 50, 10, 7, on).unwrap();
        assert_eq!(a, b);
        assert_eq!(String::from_utf8(a).unwrap().lines().count(), 51);
    }
}
