//! `[batch]` and the per-kind `[rules.<kind>]` overrides.

use std::str::FromStr;

use toml::Spanned;

use super::Checker;
use crate::config::file::RawKindRules;
use crate::domain::period::Cutoff;
use crate::domain::rules::{KindRules, Requirement, RuleSet};
use crate::domain::signal::Kind;

/// `[batch]`: a day after the cutoff, a time of day, the routing table and the lookback.
pub(super) fn batch(
    c: &mut Checker<'_>,
    raw: &crate::config::file::RawBatch,
    cutoff: Cutoff,
) -> crate::config::BatchConfig {
    let mut day = *raw.day.get_ref();
    if !(1..=28).contains(&day) || day <= i64::from(cutoff.day) {
        c.report(
            &raw.day,
            format!("batch day {day} must come after the cutoff day {} and be at most 28", cutoff.day),
            "write a day after [periods] cutoff_day, e.g. 26 (the default)",
        );
        day = i64::from(cutoff.day) + 1;
    }
    let time = match jiff::civil::Time::strptime("%H:%M", raw.time.get_ref()) {
        Ok(t) => t,
        Err(_) => {
            c.report(
                &raw.time,
                format!("'{}' is not a time of day", raw.time.get_ref()),
                "write HH:MM, e.g. \"02:00\"",
            );
            jiff::civil::Time::constant(2, 0, 0, 0)
        }
    };
    let lookback = *raw.lookback_months.get_ref();
    let lookback_months = if (0..=24).contains(&lookback) {
        lookback as u32
    } else {
        c.report(&raw.lookback_months, "lookback_months is out of range", "write 0 to 24; the default is 6");
        6
    };
    crate::config::BatchConfig {
        automatic: raw.automatic,
        day: day as i8,
        time,
        routing_table: c.resolve(raw.routing_table.get_ref()),
        lookback_months,
    }
}

/// The rule set: defaults with each `[rules.<kind>]` override merged in.
pub(super) fn rules(
    c: &mut Checker<'_>,
    raw: &std::collections::BTreeMap<Spanned<String>, RawKindRules>,
) -> RuleSet {
    let mut set = RuleSet::default();
    for (name, r) in raw {
        let Ok(kind) = Kind::from_str(name.get_ref()) else {
            c.report(name, format!("'{}' is not a kind", name.get_ref()), kinds_fix());
            continue;
        };
        let mut k: KindRules = set.for_kind(kind).clone();
        if let Some(d) = r.min_days {
            k.min_days = d;
        }
        if let Some(d) = r.max_days {
            k.max_days = (d > 0).then_some(d);
        }
        if let Some(req) = &r.requires {
            k.requires.clear();
            for q in req {
                match q.get_ref().as_str() {
                    "contactpoging" => k.requires.push(Requirement::Contactpoging),
                    "herinneringsdatum" => k.requires.push(Requirement::Herinneringsdatum),
                    "schuldhulp_gewezen" => k.requires.push(Requirement::SchuldhulpGewezen),
                    other => c.report(
                        q,
                        format!("'{other}' is not a field a kind can require"),
                        "write herinneringsdatum, contactpoging or schuldhulp_gewezen",
                    ),
                }
            }
        }
        if let Some(max) = k.max_days
            && max < k.min_days
        {
            c.report(
                name,
                format!("max_days {max} is below min_days {}", k.min_days),
                "make max_days at least min_days, or 0 for no maximum",
            );
        }
        set = set.with(kind, k);
    }
    set
}

/// The fix that lists every kind.
pub(super) fn kinds_fix() -> String {
    let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    format!("write one of: {}", all.join(", "))
}
