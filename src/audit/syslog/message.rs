//! One audit event as an RFC 5424 syslog message (docs/audit.md "Streaming to syslog"):
//!
//! `<PRI>1 TIMESTAMP HOSTNAME meldpunt PROCID ACTION [meldpunt@32473 seq=… actor=… outcome=… hash=…] JSON`
//!
//! - facility 13 (log audit); severity 6 (informational) for `ok`, 4 (warning) for
//!   `denied`, 3 (error) for `error`;
//! - TIMESTAMP is the event's own `ts`, MSGID its action (at most 32 characters);
//! - the structured data element `meldpunt@32473` (32473 is the enterprise number RFC 5612
//!   reserves for documentation and examples) repeats what a collector filters on;
//! - MSG is the event as `meldpunt audit export` writes it, one JSON object, with every
//!   character beyond ASCII written as `\uXXXX`, so the message is plain ASCII (no BOM).

use super::super::{Outcome, Record};

/// The facility: log audit.
const FACILITY: u8 = 13;

/// The structured data id.
pub const SD_ID: &str = "meldpunt@32473";

/// The message for `rec`, sent from `host` by process `pid`.
pub fn format(rec: &Record, host: &str, pid: u32) -> String {
    let severity = match rec.outcome {
        Outcome::Ok => 6,
        Outcome::Denied => 4,
        Outcome::Error => 3,
    };
    let pri = FACILITY * 8 + severity;
    let msgid = header_field(&rec.action, 32);
    let json = ascii_json(&serde_json::to_string(rec).unwrap_or_default());
    format!(
        "<{pri}>1 {ts} {host} meldpunt {pid} {msgid} [{SD_ID} seq=\"{seq}\" actor=\"{actor}\" outcome=\"{outcome}\" hash=\"{hash}\"] {json}",
        ts = header_field(&rec.ts, 64),
        seq = rec.seq,
        actor = param(&rec.actor),
        outcome = rec.outcome.as_str(),
        hash = param(&rec.hash),
    )
}

/// The host name for the header: printable ASCII without spaces, at most 255 characters
/// (`-`, the nil value, when there is none).
pub fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    header_field(name.trim(), 255)
}

/// A header field: printable ASCII (33–126) only, at most `max` characters, `-` when empty.
fn header_field(text: &str, max: usize) -> String {
    let s: String = text.chars().filter(|c| c.is_ascii_graphic()).take(max).collect();
    if s.is_empty() { "-".to_owned() } else { s }
}

/// A PARAM-VALUE: `"`, `\` and `]` escaped with a backslash.
fn param(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// JSON text with every non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP):
/// such characters occur only inside JSON strings, where the escape means the same.
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(actor: &str, outcome: Outcome) -> Record {
        Record {
            seq: 7,
            ts: "2026-12-04T10:00:00.123Z".into(),
            actor: actor.into(),
            auth: None,
            origin: Some("127.0.0.1:5000".into()),
            action: "login".into(),
            object: serde_json::json!({ "note": "café 😀" }),
            outcome,
            prev: "0".repeat(64),
            hash: "ab".repeat(32),
        }
    }

    #[test]
    fn header_structured_data_and_ascii_message() {
        let m = format(&record("creditor:vitens", Outcome::Denied), "host-1", 42);
        let expected = format!(
            "<108>1 2026-12-04T10:00:00.123Z host-1 meldpunt 42 login [meldpunt@32473 seq=\"7\" actor=\"creditor:vitens\" outcome=\"denied\" hash=\"{}\"] {{",
            "ab".repeat(32)
        );
        assert!(m.starts_with(&expected), "{m}");
        assert!(m.is_ascii(), "{m}");
        let json = m.split_once("] ").unwrap().1;
        let back: Record = serde_json::from_str(json).unwrap();
        assert_eq!(back, record("creditor:vitens", Outcome::Denied));
        assert!(format(&record("system", Outcome::Ok), "h", 1).starts_with("<110>1 "));
    }

    #[test]
    fn params_and_header_fields_escaped() {
        assert_eq!(param("a\"b]c\\"), "a\\\"b\\]c\\\\");
        assert_eq!(header_field("my host\u{7}", 255), "myhost");
        assert_eq!(header_field("", 255), "-");
        assert_eq!(header_field(&"x".repeat(40), 32).len(), 32);
    }
}
