//! A creditor's report written as JSON by hand, exactly as `serde_json::to_writer_pretty`
//! writes it (two-space indent, `": "` after keys, the same string escapes), but built in one
//! reusable buffer that goes to the file in large chunks: serde's formatter writes every token
//! separately, and a national month's reports are some 85 000 entries.

use std::io::{self, Write};

use super::Entry;
use crate::batch::bundle::compact::{escape_into, push_u64};

/// Bytes gathered before they go to the writer.
const CHUNK: usize = 1 << 16;

/// What stands above the entries.
pub struct Head<'a> {
    /// `YYYY-MM`.
    pub period: &'a str,
    /// Batch version.
    pub version: u32,
    /// Entries delivered.
    pub delivered: usize,
    /// Entries not delivered.
    pub not_delivered: usize,
}

/// Writes the report document (and a final newline) into `out`.
pub fn write<W: Write>(out: &mut W, head: &Head<'_>, entries: &[Entry<'_>]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(CHUNK + 1024);
    buf.extend_from_slice(b"{\n  \"period\": ");
    escape_into(&mut buf, head.period);
    buf.extend_from_slice(b",\n  \"version\": ");
    push_u64(&mut buf, head.version.into());
    buf.extend_from_slice(b",\n  \"delivered\": ");
    push_u64(&mut buf, head.delivered as u64);
    buf.extend_from_slice(b",\n  \"not_delivered\": ");
    push_u64(&mut buf, head.not_delivered as u64);
    buf.extend_from_slice(b",\n  \"signals\": [");
    for (i, e) in entries.iter().enumerate() {
        buf.extend_from_slice(if i == 0 { b"\n    {" } else { b",\n    {" });
        field(&mut buf, true, "referentie", &e.referentie);
        field(&mut buf, false, "signaal_id", &e.signaal_id);
        buf.extend_from_slice(if e.delivered {
            b",\n      \"delivered\": true"
        } else {
            b",\n      \"delivered\": false"
        });
        if let Some(g) = &e.municipality {
            field(&mut buf, false, "gemeente", g);
        }
        if let Some(d) = &e.delivered_on {
            field(&mut buf, false, "delivered_on", d);
        }
        if let Some(r) = e.reason {
            field(&mut buf, false, "reason", r.as_str());
        }
        if let Some(m) = e.message {
            field(&mut buf, false, "message", m);
        }
        buf.extend_from_slice(b"\n    }");
        if buf.len() >= CHUNK {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    if !entries.is_empty() {
        buf.extend_from_slice(b"\n  ");
    }
    buf.extend_from_slice(b"]\n}\n");
    out.write_all(&buf)
}

/// One string field of an entry (`first`: its first field).
fn field(buf: &mut Vec<u8>, first: bool, key: &str, value: &str) {
    buf.extend_from_slice(if first { b"\n      \"" } else { b",\n      \"" });
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\": ");
    escape_into(buf, value);
}

#[cfg(test)]
mod tests {
    use super::super::NotDelivered;
    use super::*;

    /// The document as serde sees it.
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        period: String,
        version: u32,
        delivered: usize,
        not_delivered: usize,
        signals: &'a [Entry<'a>],
    }

    /// What serde_json writes for the same document.
    fn serde(head: &Head<'_>, entries: &[Entry<'_>]) -> String {
        let doc = Doc {
            period: head.period.to_owned(),
            version: head.version,
            delivered: head.delivered,
            not_delivered: head.not_delivered,
            signals: entries,
        };
        serde_json::to_string_pretty(&doc).unwrap() + "\n"
    }

    fn ours(head: &Head<'_>, entries: &[Entry<'_>]) -> String {
        let mut out = Vec::new();
        write(&mut out, head, entries).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn writes_exactly_what_serde_json_writes_pretty() {
        let code = crate::domain::party::MunicipalityCode::parse("GM0363").unwrap();
        let mut entries = vec![Entry::delivered("R-1 \"quoted\" \\ tab\t", "S-1", "GM0363", "2026-10-26")];
        for (i, reason) in [
            NotDelivered::Unroutable,
            NotDelivered::MunicipalityNotConfigured,
            NotDelivered::NoAgreement,
            NotDelivered::BelowThreshold,
        ]
        .into_iter()
        .enumerate()
        {
            let routed = (i > 0).then_some(&code);
            entries.push(Entry::not_delivered(&format!("R-{i}\u{1}é"), "S-x", routed, reason));
        }
        let head = Head { period: "2026-10", version: 12, delivered: 1, not_delivered: 4 };
        assert_eq!(ours(&head, &entries), serde(&head, &entries));
        // One entry, and none.
        assert_eq!(ours(&head, &entries[..1]), serde(&head, &entries[..1]));
        let empty = Head { period: "2026-10", version: 1, delivered: 0, not_delivered: 0 };
        assert_eq!(ours(&empty, &[]), serde(&empty, &[]));
        // Across the chunk boundary.
        let many: Vec<Entry<'_>> = (0..2000).map(|_| entries[1].clone()).collect();
        assert_eq!(ours(&head, &many), serde(&head, &many));
    }
}
