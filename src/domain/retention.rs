//! Retention arithmetic (docs/storage-and-retention.md), pure: which periods are past their retention on a date,
//! and whether a shorter window (days, hours, calendar months) has passed at a moment.
//!
//! A period `P` ends when the next one begins (the first day of the month after `P`); its
//! retention of `keep_months` runs from there. A period is only shredded when no batch still
//! to run needs it as history: the oldest batch still to run is for `next_batch`, whose
//! *opeenvolgend* lookback reaches back `lookback_months`, so periods from
//! `next_batch - lookback_months` on are kept whatever their age (a daemon that was down and
//! catches up late still finds its history).

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::domain::period::{Period, zone};

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

/// Whether `days` days of 24 hours have passed since `since` at `now`.
pub fn days_passed(since: Timestamp, now: Timestamp, days: u32) -> bool {
    hours_passed(since, now, days.saturating_mul(24))
}

/// Whether `hours` hours have passed since `since` at `now`.
pub fn hours_passed(since: Timestamp, now: Timestamp, hours: u32) -> bool {
    since.checked_add(SignedDuration::from_hours(i64::from(hours))).is_ok_and(|due| now >= due)
}

/// Whether `months` calendar months (Amsterdam time) have passed since `since` at `now`.
pub fn months_passed(since: Timestamp, now: Timestamp, months: u32) -> bool {
    since.to_zoned(zone()).checked_add(i64::from(months).months()).is_ok_and(|due| now >= due.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn days_and_hours_count_from_the_moment_not_a_second_early() {
        let at = t("2026-03-01T10:00:00Z");
        assert!(!days_passed(at, t("2026-03-31T09:59:59Z"), 30));
        assert!(days_passed(at, t("2026-03-31T10:00:00Z"), 30));
        assert!(!hours_passed(at, t("2026-03-02T09:59:59Z"), 24));
        assert!(hours_passed(at, t("2026-03-02T10:00:00Z"), 24));
        // Across the change to summer time (2026-03-29) a day is still 24 hours.
        assert!(!days_passed(t("2026-03-28T12:00:00Z"), t("2026-03-29T11:59:59Z"), 1));
    }

    #[test]
    fn months_are_calendar_months_in_amsterdam() {
        // 31 January + 1 month = 28 February (jiff clamps), local midnight.
        let at = t("2026-01-30T23:30:00Z"); // 2026-01-31 00:30 in Amsterdam
        assert!(!months_passed(at, t("2026-02-27T23:29:59Z"), 1));
        assert!(months_passed(at, t("2026-02-27T23:30:00Z"), 1));
        // Three months from 15 May 12:00 (summer time) to 15 August 12:00.
        let at = t("2026-05-15T10:00:00Z");
        assert!(!months_passed(at, t("2026-08-15T09:59:59Z"), 3));
        assert!(months_passed(at, t("2026-08-15T10:00:00Z"), 3));
        // From summer to winter time the local hour is kept.
        assert!(!months_passed(at, t("2026-11-15T10:59:59Z"), 6));
        assert!(months_passed(at, t("2026-11-15T11:00:00Z"), 6));
    }

    #[test]
    fn a_day_by_day_walk_removes_each_kind_exactly_on_its_day() {
        let at = t("2026-05-26T00:00:00Z");
        let mut first = [None; 3];
        let mut day = t("2026-05-26T00:00:00Z");
        while day < t("2027-01-01T00:00:00Z") {
            for (i, due) in [days_passed(at, day, 30), months_passed(at, day, 3), hours_passed(at, day, 24)]
                .into_iter()
                .enumerate()
            {
                if due && first[i].is_none() {
                    first[i] = Some(day);
                }
                // Once due, always due.
                assert!(first[i].is_none() || due, "{i} on {day}");
            }
            day = day.checked_add(SignedDuration::from_hours(1)).unwrap();
        }
        assert_eq!(first[0], Some(t("2026-06-25T00:00:00Z")));
        // 26 May 02:00 in Amsterdam + 3 months = 26 August 02:00 Amsterdam.
        assert_eq!(first[1], Some(t("2026-08-26T00:00:00Z")));
        assert_eq!(first[2], Some(t("2026-05-27T00:00:00Z")));
    }

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
