//! Showing audit text safely: no control character, ANSI escape or bidi override from an
//! event ever reaches a terminal or a log line as itself (log injection).

/// Whether `c` must not be shown as itself: C0/C1 controls, DEL, and the Unicode format
/// characters that reorder or hide text (bidi overrides and isolates, zero-width marks, line
/// and paragraph separators, BOM) — the same set uploads are refused for.
pub use crate::domain::chars::is_unsafe;

/// Text for a table cell: `\` and `"` are escaped, and every unsafe character is written as
/// `\n`, `\r`, `\t` or `\u{…}`.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A message for the terminal (e.g. a verification finding that quotes tampered data): only
/// unsafe characters are escaped, as `\u{…}`.
pub fn visible(s: &str) -> String {
    s.chars().map(|c| if is_unsafe(c) { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect()
}

/// A JSON value as one line of JSON in which every unsafe character is a `\uXXXX` escape
/// (serde_json already escapes C0 controls; this adds DEL, C1 and the format characters).
/// The result parses to the same value.
pub fn json(value: &impl serde::Serialize) -> String {
    let raw = serde_json::to_string(value).unwrap_or_default();
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if is_unsafe(c) {
            // Outside strings JSON has only ASCII punctuation, so `c` is inside a string.
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_unsafe_survives_and_json_round_trips() {
        let nasty = "a\nb\r\t\u{1b}[31mred\u{7}\u{9b}2J\u{202e}txt.csv\"}{\"x\":1\\";
        let t = text(nasty);
        assert!(!t.chars().any(is_unsafe), "{t}");
        assert!(t.contains("\\n") && t.contains("\\u{1b}") && t.contains("\\u{202e}") && t.contains("\\\""));
        assert_eq!(visible("a'b\u{1b}[1m\n"), "a'b\\u{1b}[1m\\u{a}");
        let v = serde_json::json!({ "name": nasty });
        let j = json(&v);
        assert!(!j.chars().any(is_unsafe), "{j}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&j).unwrap(), v);
    }

    /// A log sink the test can read back.
    #[derive(Clone, Default)]
    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_log_line_of_an_event_is_one_line_without_control_characters() {
        let dir = tempfile::tempdir().unwrap();
        let audit =
            crate::audit::Audit::open(crate::state::State::open(&dir.path().join("s.db")).unwrap()).unwrap();
        let nasty = "x\n\u{1b}[2Jfake audit line\r\u{202e}";
        let sink = Sink::default();
        let s2 = sink.clone();
        let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(move || s2.clone()).finish();
        tracing::subscriber::with_default(subscriber, || {
            // Other tests' threads may have cached "no interest" for the audit callsite while
            // no subscriber was set; ask again now that this thread has one.
            tracing::callsite::rebuild_interest_cache();
            let ev =
                crate::audit::Event::new(format!("creditor:{nasty}"), "upload", crate::audit::Outcome::Ok)
                    .object(serde_json::json!({ "file_name": nasty }));
            audit.emit_blocking(ev).unwrap();
        });
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), 1, "{out:?}");
        assert!(!out.trim_end().chars().any(is_unsafe), "{out:?}");
        assert!(out.contains("\\u{1b}[2J") || out.contains("\\u001b[2J"), "{out:?}");
    }
}
