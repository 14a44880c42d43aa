//! Writing the Prometheus text exposition format 0.0.4: a family's `# HELP` and `# TYPE`
//! lines, then its samples. Used for the in-process counters ([`super::Metrics::render`]) and
//! for the gauges the admin listener reads from the state database at scrape time.

use std::fmt::Write as _;

/// Exposition text being written: the family whose samples follow.
#[derive(Debug, Default)]
pub struct Text {
    /// The text so far.
    pub out: String,
    /// The family whose samples follow.
    pub name: &'static str,
}

impl Text {
    /// Starts the family `name` of type `kind` (`counter`, `gauge`).
    pub fn family(&mut self, name: &'static str, kind: &str, help: &str) {
        self.name = name;
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One integer sample with `labels` (none: the bare family name).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: u64) {
        self.line(labels, &value.to_string());
    }

    /// One sample that may be negative or fractional (seconds until a date, durations).
    pub fn sample_f64(&mut self, labels: &[(&str, &str)], value: f64) {
        self.line(labels, &value.to_string());
    }

    fn line(&mut self, labels: &[(&str, &str)], value: &str) {
        if labels.is_empty() {
            let _ = writeln!(self.out, "{} {value}", self.name);
            return;
        }
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let _ = writeln!(self.out, "{}{{{}}} {value}", self.name, labels.join(","));
    }
}

/// A label value as the format wants it: backslash, double quote and newline escaped.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_with_and_without_labels_escaped() {
        let mut t = Text::default();
        t.family("meldpunt_x_seconds", "gauge", "A test.");
        t.sample(&[], 3);
        t.sample_f64(&[("file", "a\"b\\c")], -1.5);
        assert_eq!(
            t.out,
            "# HELP meldpunt_x_seconds A test.\n# TYPE meldpunt_x_seconds gauge\nmeldpunt_x_seconds 3\nmeldpunt_x_seconds{file=\"a\\\"b\\\\c\"} -1.5\n"
        );
    }
}
