//! A compact JSON writer for the bundle, written by hand: it gives exactly what
//! `serde_json::to_writer` gives (no white space, the same string escapes), but builds the
//! text in one reusable buffer that goes to the (encrypting) writer in large chunks, where
//! serde's formatter writes every token separately. (Compact, not pretty-printed: indentation
//! made a national bundle 1.7 times as large, and every byte is hashed twice, encrypted,
//! written and downloaded; `jq .` shows it indented.)

use std::fmt::{self, Write as _};
use std::io::{self, Write};

/// Bytes gathered before they go to the writer.
const CHUNK: usize = 1 << 16;

/// Writes compact JSON into `out`, in chunks of about [`CHUNK`] bytes.
pub struct Compact<'w, W: Write + ?Sized> {
    out: &'w mut W,
    buf: Vec<u8>,
    /// Scratch text for values shown with `Display`.
    text: String,
}

impl<'w, W: Write + ?Sized> Compact<'w, W> {
    /// A writer into `out`.
    pub fn new(out: &'w mut W) -> Self {
        Compact { out, buf: Vec::with_capacity(CHUNK + 4096), text: String::new() }
    }

    /// Opens an object (`{`) or array (`[`).
    pub fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
    }

    /// Closes the innermost object (`}`) or array (`]`); sends a full buffer on.
    pub fn close(&mut self, bracket: u8) -> io::Result<()> {
        self.buf.push(bracket);
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Starts the value of `key` in an object (`first`: its first key). Keys are plain ASCII.
    pub fn key(&mut self, first: bool, key: &str) {
        self.element(first);
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    /// Starts an element of an array (`first`: its first element).
    pub fn element(&mut self, first: bool) {
        if !first {
            self.buf.push(b',');
        }
    }

    /// JSON text made elsewhere (a whole value, as it is).
    pub fn raw(&mut self, json: &[u8]) {
        self.buf.extend_from_slice(json);
    }

    /// A string, escaped as serde_json escapes it.
    pub fn str(&mut self, s: &str) {
        escape_into(&mut self.buf, s);
    }

    /// A string that needs no escapes (ids, codes, a validated postcode).
    pub fn plain(&mut self, s: &str) {
        debug_assert!(!needs_escape(s.as_bytes()), "{s:?}");
        self.buf.push(b'"');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(b'"');
    }

    /// An optional string (`null` when absent).
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// `null`.
    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    /// `true` or `false`.
    pub fn bool(&mut self, b: bool) {
        self.buf.extend_from_slice(if b { b"true" } else { b"false" });
    }

    /// An optional `true` or `false`.
    pub fn opt_bool(&mut self, b: Option<bool>) {
        match b {
            Some(b) => self.bool(b),
            None => self.null(),
        }
    }

    /// An unsigned integer.
    pub fn u64(&mut self, n: u64) {
        push_u64(&mut self.buf, n);
    }

    /// A signed integer.
    pub fn i64(&mut self, n: i64) {
        if n < 0 {
            self.buf.push(b'-');
        }
        push_u64(&mut self.buf, n.unsigned_abs());
    }

    /// A value shown with `Display`, as a string (serde's `collect_str`).
    pub fn shown(&mut self, v: impl fmt::Display) {
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        write!(text, "{v}").expect("a String takes any text");
        self.str(&text);
        self.text = text;
    }

    /// A date as a string (`YYYY-MM-DD`, as jiff shows it).
    pub fn date(&mut self, d: jiff::civil::Date) {
        if (0..=9999).contains(&d.year()) {
            self.buf.push(b'"');
            push_date(&mut self.buf, d);
            self.buf.push(b'"');
        } else {
            self.shown(d);
        }
    }

    /// An optional date (`null` when absent).
    pub fn opt_date(&mut self, d: Option<jiff::civil::Date>) {
        match d {
            Some(d) => self.date(d),
            None => self.null(),
        }
    }

    /// Cents as euros with a decimal comma (`1234,56`), as a string.
    pub fn euros(&mut self, cents: u64) {
        self.buf.push(b'"');
        push_euros(&mut self.buf, cents);
        self.buf.push(b'"');
    }

    /// Ends the document with a newline and sends the rest on.
    pub fn finish(mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)
    }
}

/// Appends a date as jiff shows it (`YYYY-MM-DD` for years 0–9999, by hand).
pub(super) fn push_date(buf: &mut Vec<u8>, d: jiff::civil::Date) {
    if (0..=9999).contains(&d.year()) {
        let mut text = *b"0000-00-00";
        digits(&mut text[0..4], d.year().unsigned_abs().into());
        digits(&mut text[5..7], d.month().unsigned_abs().into());
        digits(&mut text[8..10], d.day().unsigned_abs().into());
        buf.extend_from_slice(&text);
    } else {
        write!(buf, "{d}").expect("a Vec takes any bytes");
    }
}

/// Appends cents as euros with a decimal comma (`1234,56`), as [`super::Euros`] shows them.
pub(super) fn push_euros(buf: &mut Vec<u8>, cents: u64) {
    push_u64(buf, cents / 100);
    let mut two = [b',', 0, 0];
    digits(&mut two[1..3], cents % 100);
    buf.extend_from_slice(&two);
}

/// Writes `n` zero-padded into all of `out`.
fn digits(out: &mut [u8], mut n: u64) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Appends `n` in decimal.
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut text = [0u8; 20];
    let mut i = text.len();
    loop {
        i -= 1;
        text[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&text[i..]);
}

/// Whether a JSON string of `bytes` needs an escape (a control, `"` or `\\`). Checked without
/// an early exit, so the compiler can check many bytes at once.
fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |any, &b| any | (b < 0x20) | (b == b'"') | (b == b'\\'))
}

/// Appends `s` as a JSON string, escaped as serde_json escapes: `"` and `\`, the short forms
/// `\b \t \n \f \r`, other controls below 0x20 as `\u00xx` (lower-case hex); everything else
/// (DEL and all non-ASCII included) as it is.
pub fn escape_into(buf: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escape.
    if !needs_escape(bytes) {
        buf.extend_from_slice(bytes);
        buf.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        buf.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0x08 => buf.extend_from_slice(b"\\b"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            0x0c => buf.extend_from_slice(b"\\f"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

#[cfg(test)]
mod tests;
