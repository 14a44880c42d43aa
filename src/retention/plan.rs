//! Which periods have passed their retention (SPEC §9), as a pure function of the date.
//!
//! A period `P` ends when the next one begins (the first day of the month after `P`); its
//! retention of `keep_months` runs from there. A period is only shredded when no batch still
//! to run needs it as history: the oldest batch still to run is for `next_batch`, whose
//! *opeenvolgend* lookback reaches back `lookback_months`, so periods from
//! `next_batch - lookback_months` on are kept whatever their age (a daemon that was down and
//! catches up late still finds its history).

use jiff::ToSpan;
use jiff::civil::Date;

use crate::domain::period::Period;

/// The first day on which `p` may be shredded, by retention alone.
pub fn shred_from(p: Period, keep_months: u32) -> Date {
    let end = p.next().first_day();
    end.checked_add(i64::from(keep_months).months()).unwrap_or(Date::MAX)
}

/// The oldest period a batch still to run needs: `next_batch` minus the lookback.
pub fn oldest_needed(next_batch: Period, lookback_months: u32) -> Period {
    (0..lookback_months).fold(next_batch, |p, _| p.prev())
}

/// The periods of `held` that are past retention on `today` and needed by no batch still to run.
pub fn expired(
    held: &[Period],
    today: Date,
    keep_months: u32,
    next_batch: Period,
    lookback_months: u32,
) -> Vec<Period> {
    let keep_from = oldest_needed(next_batch, lookback_months);
    let mut out: Vec<Period> =
        held.iter().copied().filter(|p| today >= shred_from(*p, keep_months) && *p < keep_from).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        s.parse().unwrap()
    }

    #[test]
    fn a_period_goes_six_months_after_it_ends() {
        assert_eq!(shred_from(p("2026-05"), 6), Date::constant(2026, 12, 1));
        assert_eq!(shred_from(p("2026-12"), 6), Date::constant(2027, 7, 1));
        assert_eq!(shred_from(p("2026-05"), 0), Date::constant(2026, 6, 1));
    }

    #[test]
    fn across_a_year_exactly_the_expired_periods_go_and_lookback_survives() {
        // Periods 2026-01 … 2026-12 are held; every batch runs on time.
        let held: Vec<Period> = (1..=12).map(|m| Period::new(2026, m).unwrap()).collect();
        let mut day = Date::constant(2026, 1, 1);
        let mut last = Vec::new();
        while day <= Date::constant(2027, 12, 31) {
            // On the 26th the batch of the current month runs; before that, the batch still
            // to run is this month's, after it next month's.
            let this = Period::new(day.year(), day.month()).unwrap();
            let next_batch = if day.day() >= 26 { this.next() } else { this };
            let gone = expired(&held, day, 6, next_batch, 6);
            for g in &gone {
                assert!(day >= shred_from(*g, 6), "{g} shredded early on {day}");
                // The next batch's lookback never loses a period.
                assert!(*g < oldest_needed(next_batch, 6), "{g} still needed on {day}");
            }
            // Once gone, a period stays gone (monotone).
            assert!(last.iter().all(|l| gone.contains(l)), "{day}: {last:?} vs {gone:?}");
            last = gone;
            day = day.tomorrow().unwrap();
        }
        assert_eq!(last, held, "by the end of 2027 all of 2026 is gone");
        assert_eq!(
            expired(&held, Date::constant(2026, 11, 30), 6, p("2026-11"), 6),
            [p("2026-01"), p("2026-02"), p("2026-03"), p("2026-04")]
        );
        assert_eq!(
            expired(&held, Date::constant(2026, 12, 1), 6, p("2026-12"), 6),
            [p("2026-01"), p("2026-02"), p("2026-03"), p("2026-04"), p("2026-05")]
        );
    }

    #[test]
    fn a_late_batch_keeps_its_history_past_retention() {
        let held = [p("2026-04"), p("2026-05"), p("2026-06")];
        // It is 2027-01-10, but the daemon was down: the batch of 2026-11 has not run yet.
        let gone = expired(&held, Date::constant(2027, 1, 10), 6, p("2026-11"), 6);
        assert_eq!(gone, [p("2026-04")], "2026-05 and 2026-06 are the lookback of 2026-11");
    }
}
