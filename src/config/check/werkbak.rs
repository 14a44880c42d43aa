//! `werkbakken` and `[[municipality.werkbak_rule]]` (docs/bundles.md): the queues a
//! municipality names and the rules that sort its signals into them. Every problem names its
//! line: an unknown queue, kind, phase or creditor, a rule without an outcome or with two, an
//! amount or age out of range. (An unknown field is refused by the reader, with its line.)

use std::str::FromStr;

use toml::Spanned;

use super::Checker;
use super::batch::kinds_fix;
use crate::config::file::{RawMunicipality, RawWerkbakRule};
use crate::domain::party::CreditorId;
use crate::domain::signal::{Cents, Fase, Kind};
use crate::domain::werkbak::{Conditions, Outcome, Rule};

/// The queues and rules of municipality `code`; `creditors` are the configured creditor ids.
pub(super) fn werkbakken(
    c: &mut Checker<'_>,
    code: &str,
    m: &RawMunicipality,
    creditors: &[&str],
) -> (Vec<String>, Vec<Rule>) {
    let mut queues: Vec<String> = Vec::new();
    for q in &m.werkbakken {
        let name = q.get_ref();
        if !valid_queue_name(name) {
            c.report(
                q,
                format!("'{}' is not a usable queue name", shown(name)),
                "write 1–40 characters of a-z, 0-9, '_' and '-', e.g. \"brief_en_bellen\"",
            );
        } else if queues.contains(name) {
            c.report(
                q,
                format!("queue {name} of {code} is named twice"),
                "name each queue once in werkbakken",
            );
        } else {
            queues.push(name.clone());
        }
    }
    let rules = m.werkbak_rule.iter().filter_map(|r| rule(c, code, r, &queues, creditors)).collect();
    (queues, rules)
}

/// Queue names end up in CSV cells and manifests: short, plain, never a formula.
fn valid_queue_name(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
}

/// A name safe to repeat in a message.
fn shown(s: &str) -> String {
    s.chars().take(40).map(|ch| if ch.is_control() { '?' } else { ch }).collect()
}

fn rule(
    c: &mut Checker<'_>,
    code: &str,
    raw: &Spanned<RawWerkbakRule>,
    queues: &[String],
    creditors: &[&str],
) -> Option<Rule> {
    let r = raw.get_ref();
    let outcome = match (&r.werkbak, r.leave_out) {
        (Some(q), false) if queues.contains(q.get_ref()) => Some(Outcome::Queue(q.get_ref().clone())),
        (Some(q), false) => {
            c.report(
                q,
                format!("werkbak '{}' is not one of the queues of {code}", shown(q.get_ref())),
                format!("add it to werkbakken, or write one of: {}", list_or_none(queues)),
            );
            None
        }
        (Some(q), true) => {
            c.report(
                q,
                "a rule names a werkbak and leave_out = true",
                "keep one: a queue, or leave_out = true",
            );
            None
        }
        (None, true) => Some(Outcome::LeaveOut),
        (None, false) => {
            c.report(
                raw,
                format!("a werkbak_rule of {code} says neither where its signals go nor to leave them out"),
                "add werkbak = \"<queue>\" or leave_out = true",
            );
            None
        }
    };
    let when = Conditions {
        soort: names(c, &r.soort, |s| Kind::from_str(s).ok(), kinds_fix),
        fase: names(
            c,
            &r.fase,
            |s| Fase::from_str(s).ok(),
            || "write one of: eerste, update, eindelevering".to_owned(),
        ),
        crisissignaal: r.crisissignaal,
        enkelvoudig: r.enkelvoudig,
        meervoudig: r.meervoudig,
        opeenvolgend: r.opeenvolgend,
        herhaald: r.herhaald,
        onder_drempel: r.onder_drempel,
        bekend: r.bekend,
        total_from: r.total_from.as_ref().and_then(|t| euros(c, t, "total_from")),
        total_below: r.total_below.as_ref().and_then(|t| euros(c, t, "total_below")),
        creditor: names(
            c,
            &r.creditor,
            |s| creditors.contains(&s).then(|| CreditorId::parse(s).ok()).flatten(),
            || format!("write the id of a configured creditor: {}", list_or_none(creditors)),
        ),
        age_from: r.age_from.as_ref().and_then(|a| age(c, a, "age_from")),
        age_below: r.age_below.as_ref().and_then(|a| age(c, a, "age_below")),
    };
    outcome.map(|outcome| Rule { when, outcome })
}

/// A list of names read with `parse`; each unknown one is reported with `fix`.
fn names<T>(
    c: &mut Checker<'_>,
    raw: &Option<Vec<Spanned<String>>>,
    parse: impl Fn(&str) -> Option<T>,
    fix: impl Fn() -> String,
) -> Option<Vec<T>> {
    let raw = raw.as_ref()?;
    let mut out = Vec::new();
    for n in raw {
        match parse(n.get_ref()) {
            Some(v) => out.push(v),
            None => c.report(n, format!("'{}' is not known here", shown(n.get_ref())), fix()),
        }
    }
    Some(out)
}

/// An amount in euros, 0 to 1 000 000, as cents.
pub(super) fn euros(c: &mut Checker<'_>, d: &Spanned<f64>, what: &str) -> Option<Cents> {
    let v = *d.get_ref();
    if (0.0..=1_000_000.0).contains(&v) {
        Some(Cents((v * 100.0).round() as u64))
    } else {
        c.report(d, format!("{what} is out of range"), "write an amount in euros from 0 to 1000000");
        None
    }
}

fn age(c: &mut Checker<'_>, a: &Spanned<i64>, what: &str) -> Option<u8> {
    match u8::try_from(*a.get_ref()) {
        Ok(v) if v <= 130 => Some(v),
        _ => {
            c.report(a, format!("{what} is out of range"), "write an age in years from 0 to 130");
            None
        }
    }
}

fn list_or_none<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        "(none configured)".to_owned()
    } else {
        names.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
    }
}
