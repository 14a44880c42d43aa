//! Writing a record line of a sealed file straight from a [`SignalView`]: the same bytes
//! `serde_json` writes for the tuple of [`super::sealed_line::FIELDS`], without going
//! through the serializer (intake writes one per accepted record, millions per large upload).

use crate::domain::signal_view::SignalView;

/// Appends the record line (with its newline) for `record`, read from upload line `line`.
pub fn write(out: &mut Vec<u8>, line: u64, r: &SignalView<'_>) {
    out.push(b'[');
    number(out, line);
    out.push(b',');
    string(out, r.referentie);
    out.push(b',');
    string(out, r.soort.as_str());
    out.push(b',');
    string(out, r.fase.as_str());
    out.push(b',');
    opt_string(out, r.voorletters.as_deref());
    out.push(b',');
    opt_string(out, r.voorvoegsel.as_deref());
    out.push(b',');
    string(out, &r.achternaam);
    out.push(b',');
    opt_date(out, r.geboortedatum);
    out.push(b',');
    opt_string(out, r.straatnaam.as_deref());
    out.push(b',');
    number(out, u64::from(r.huisnummer));
    out.push(b',');
    match r.huisletter {
        Some(c) => string(out, c.encode_utf8(&mut [0; 4])),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b',');
    opt_string(out, r.huisnummertoevoeging.as_deref());
    out.push(b',');
    string(out, r.postcode.as_str());
    out.push(b',');
    opt_string(out, r.plaatsnaam.as_deref());
    out.push(b',');
    opt_string(out, r.telefoonnummer);
    out.push(b',');
    opt_string(out, r.email.as_deref());
    out.push(b',');
    number(out, r.bedrag.0);
    out.push(b',');
    date(out, r.ontstaansdatum);
    out.push(b',');
    date(out, r.signaaldatum);
    out.push(b',');
    opt_date(out, r.herinneringsdatum);
    out.push(b',');
    opt_bool(out, r.contactpoging);
    out.push(b',');
    opt_bool(out, r.schuldhulp_gewezen);
    out.push(b',');
    opt_bool(out, Some(r.crisissignaal));
    // The reserved column.
    out.extend_from_slice(b",null]\n");
}

/// A decimal number.
fn number(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// A JSON string, escaped as `serde_json` escapes it: `"`, `\` and control characters below
/// U+0020 (as `\n`-style escapes where JSON has one, else `\u00XX` in lower-case hex).
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Without an early exit, so that the compiler checks many bytes at a time.
    if !bytes.iter().fold(false, |hit, &b| hit | (b < 0x20) | (b == b'"') | (b == b'\\')) {
        out.extend_from_slice(bytes);
    } else {
        for &b in bytes {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0C => out.extend_from_slice(b"\\f"),
                0..0x20 => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xF)]);
                }
                _ => out.push(b),
            }
        }
    }
    out.push(b'"');
}

/// A string or `null`.
fn opt_string(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A date as `"YYYY-MM-DD"` (jiff's form for the years a signal can hold).
fn date(out: &mut Vec<u8>, d: jiff::civil::Date) {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if let (Ok(y @ 0..=9999), Ok(m), Ok(day)) = (u16::try_from(y), u8::try_from(m), u8::try_from(day)) {
        let digit = |n: u16| b'0' + (n % 10) as u8;
        let (m, day) = (u16::from(m), u16::from(day));
        out.extend_from_slice(&[
            b'"',
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(day / 10),
            digit(day),
            b'"',
        ]);
    } else {
        string(out, &d.to_string());
    }
}

/// A date or `null`.
fn opt_date(out: &mut Vec<u8>, d: Option<jiff::civil::Date>) {
    match d {
        Some(d) => date(out, d),
        None => out.extend_from_slice(b"null"),
    }
}

/// `true`, `false` or `null`.
fn opt_bool(out: &mut Vec<u8>, b: Option<bool>) {
    out.extend_from_slice(match b {
        Some(true) => b"true",
        Some(false) => b"false",
        None => b"null",
    });
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::domain::signal::SignalRecord;
    use crate::vault::sealed_line::tests::record;

    /// What `serde_json` writes for the record as the tuple of the sealed-file columns.
    fn by_serde(line: u64, r: &SignalRecord) -> Vec<u8> {
        let v = serde_json::json!([
            line,
            r.referentie,
            r.soort,
            r.fase,
            r.voorletters,
            r.voorvoegsel,
            r.achternaam,
            r.geboortedatum,
            r.straatnaam,
            r.huisnummer,
            r.huisletter,
            r.huisnummertoevoeging,
            r.postcode,
            r.plaatsnaam,
            r.telefoonnummer,
            r.email,
            r.bedrag,
            r.ontstaansdatum,
            r.signaaldatum,
            r.herinneringsdatum,
            r.contactpoging,
            r.schuldhulp_gewezen,
            r.crisissignaal,
            null
        ]);
        let mut out = serde_json::to_vec(&v).unwrap();
        out.push(b'\n');
        out
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let texts = [
            "Bérg \"de\" ; Çelik",
            "back\\slash",
            "ctrl\u{1}\u{1f}\u{7f}\n\r\t\u{8}\u{c}",
            "Ðorđević 𝄞 €",
            "",
            "plain",
        ];
        let mut r = record();
        for (i, t) in texts.iter().enumerate() {
            r.achternaam = (*t).to_owned();
            r.email = Some(format!("{t}@x.nl"));
            r.voorletters = (i % 2 == 0).then(|| (*t).to_owned());
            r.huisletter = [None, Some('Z')][i % 2];
            r.geboortedatum = [None, Some(jiff::civil::date(1900, 1, 1))][i % 2];
            r.herinneringsdatum = Some([jiff::civil::date(9999, 12, 31), jiff::civil::date(33, 2, 3)][i % 2]);
            r.contactpoging = [None, Some(false), Some(true)][i % 3];
            r.crisissignaal = i % 2 == 1;
            r.bedrag = crate::domain::signal::Cents([1, 100_000_000, 4_294_967_296][i % 3]);
            for line in [0, 7, u64::MAX] {
                let mut out = Vec::new();
                write(&mut out, line, &r.view());
                assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(by_serde(line, &r)).unwrap());
            }
        }
        // An owned (normalised) value in the view writes the same as a borrowed one.
        let mut v = r.view();
        v.achternaam = Cow::Owned(r.achternaam.clone());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write(&mut a, 3, &v);
        write(&mut b, 3, &r.view());
        assert_eq!(a, b);
    }
}
