//! Tests of the parent module.
use std::path::PathBuf;

use jiff::civil::{DateTime, Time};
use jiff::{SignedDuration, ToSpan};

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn p(s: &str) -> Period {
    s.parse().unwrap()
}

fn ps(list: &[&str]) -> Vec<Period> {
    list.iter().map(|s| p(s)).collect()
}

/// The default batch: the 26th at 02:00.
fn cfg() -> BatchConfig {
    cfg_at(26, Time::constant(2, 0, 0, 0))
}

fn cfg_at(day: i8, time: Time) -> BatchConfig {
    BatchConfig {
        automatic: true,
        day,
        time,
        routing_table: PathBuf::from("routing.csv"),
        lookback_months: 3,
    }
}

/// A local Amsterdam wall-clock time that exists exactly once.
fn local(s: &str) -> Timestamp {
    let dt: DateTime = s.parse().unwrap();
    // `unambiguous` fails for a time in a gap or a fold.
    zone().to_ambiguous_timestamp(dt).unambiguous().unwrap()
}

const NS: SignedDuration = SignedDuration::from_nanos(1);

#[test]
fn due_at_02_00_local_in_winter_and_summer() {
    // Winter (CET, UTC+1): 2026-11-26 02:00 local = 01:00Z.
    assert_eq!(due_at(p("2026-11"), &cfg()), ts("2026-11-26T01:00:00Z"));
    assert_eq!(due_at(p("2026-11"), &cfg()), local("2026-11-26T02:00"));
    // Summer (CEST, UTC+2): 2026-06-26 02:00 local = 00:00Z.
    assert_eq!(due_at(p("2026-06"), &cfg()), ts("2026-06-26T00:00:00Z"));
    assert_eq!(due_at(p("2026-06"), &cfg()), local("2026-06-26T02:00"));
}

#[test]
fn due_periods_just_before_and_at_the_due_instant_winter() {
    let c = cfg();
    let due = ts("2026-11-26T01:00:00Z");
    let clock = FixedClock::new(due - NS);
    let done = Some(p("2026-10"));
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    assert_eq!(next_due(clock.now(), done, &c), due);
    clock.advance(NS);
    assert_eq!(due_periods(clock.now(), done, &c), ps(&["2026-11"]));
    assert_eq!(next_due(clock.now(), done, &c), due, "already due: now");
    clock.advance(1.second());
    assert_eq!(due_periods(clock.now(), done, &c), ps(&["2026-11"]));
    // 02:00 UTC is 03:00 CET: due for an hour already; 01:59 local is not yet.
    assert_eq!(due_periods(local("2026-11-26T01:59:59"), done, &c), vec![]);
}

#[test]
fn due_periods_just_before_and_at_the_due_instant_summer() {
    let c = cfg();
    let due = ts("2026-06-26T00:00:00Z");
    let clock = FixedClock::new(due - NS);
    let done = Some(p("2026-05"));
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    clock.advance(NS);
    assert_eq!(due_periods(clock.now(), done, &c), ps(&["2026-06"]));
    clock.advance(1.second());
    assert_eq!(due_periods(clock.now(), done, &c), ps(&["2026-06"]));
    // 01:00Z is 02:00 CET but 03:00 CEST: a winter offset would be an hour late.
    assert_eq!(due_periods(ts("2026-06-25T23:59:59Z"), done, &c), vec![]);
}

#[test]
fn october_fold_batch_in_the_repeated_hour_runs_once_at_the_earlier_instant() {
    // 2026-10-25 (last Sunday of October): 03:00 CEST → 02:00 CET, so 02:30 happens twice:
    // 02:30 CEST = 00:30Z and 02:30 CET = 01:30Z. The batch takes the earlier one.
    let c = cfg_at(25, Time::constant(2, 30, 0, 0));
    let first = ts("2026-10-25T00:30:00Z");
    let second = ts("2026-10-25T01:30:00Z");
    assert_eq!(due_at(p("2026-10"), &c), first);

    let clock = FixedClock::new(first - NS);
    let mut done = Some(p("2026-09"));
    let mut runs = Vec::new();
    for step in [NS, SignedDuration::from_mins(30), SignedDuration::from_mins(30), NS] {
        clock.advance(step);
        for q in due_periods(clock.now(), done, &c) {
            runs.push((q, clock.now()));
            done = Some(q);
        }
    }
    assert_eq!(clock.now(), second + NS, "walked past the repeated 02:30");
    assert_eq!(runs, vec![(p("2026-10"), first)]);
    assert_eq!(next_due(clock.now(), done, &c), due_at(p("2026-11"), &c));
}

#[test]
fn march_gap_batch_in_the_missing_hour_runs_once_an_hour_later() {
    // 2026-03-29 (last Sunday of March): 02:00 CET → 03:00 CEST, so 02:30 does not exist.
    // It moves forward by the gap: 03:30 CEST = 01:30Z.
    let c = cfg_at(29, Time::constant(2, 30, 0, 0));
    let due = ts("2026-03-29T01:30:00Z");
    assert_eq!(due_at(p("2026-03"), &c), due);
    assert_eq!(due, local("2026-03-29T03:30"));

    let done = Some(p("2026-02"));
    // 03:00 CEST (01:00Z) is already past the missing 02:30 on the wall, but not yet due.
    assert_eq!(due_periods(ts("2026-03-29T01:00:00Z"), done, &c), vec![]);
    assert_eq!(next_due(ts("2026-03-29T01:00:00Z"), done, &c), due);
    assert_eq!(due_periods(due - NS, done, &c), vec![]);
    assert_eq!(due_periods(due, done, &c), ps(&["2026-03"]));

    let clock = FixedClock::new(ts("2026-03-29T00:00:00Z"));
    let mut done = done;
    let mut runs = Vec::new();
    while clock.now() < ts("2026-03-29T04:00:00Z") {
        for q in due_periods(clock.now(), done, &c) {
            runs.push((q, clock.now()));
            done = Some(q);
        }
        clock.advance(sleep_for(clock.now(), done, &c));
    }
    assert_eq!(runs, vec![(p("2026-03"), due)]);
}

#[test]
fn march_gap_with_the_default_02_00() {
    // The default time 02:00 on a spring-forward Sunday is in the gap too: 03:00 CEST.
    let c = cfg_at(29, Time::constant(2, 0, 0, 0));
    assert_eq!(due_at(p("2026-03"), &c), ts("2026-03-29T01:00:00Z"));
    assert_eq!(due_at(p("2026-03"), &c), local("2026-03-29T03:00"));
}

#[test]
fn down_from_the_24th_to_the_28th_runs_the_missed_batch_once() {
    let c = cfg();
    let clock = FixedClock::new(local("2026-11-24T12:00"));
    let mut done = Some(p("2026-10"));
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    // Down; back up on the 28th.
    clock.set(local("2026-11-28T09:15"));
    assert_eq!(due_periods(clock.now(), done, &c), ps(&["2026-11"]));
    assert_eq!(next_due(clock.now(), done, &c), clock.now());
    done = Some(p("2026-11"));
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    clock.advance(1.hour());
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    assert_eq!(next_due(clock.now(), done, &c), local("2026-12-26T02:00"));
}

#[test]
fn down_for_three_months_runs_all_missed_batches_oldest_first() {
    let c = cfg();
    let done = Some(p("2026-08"));
    let now = local("2026-11-27T08:00");
    assert_eq!(due_periods(now, done, &c), ps(&["2026-09", "2026-10", "2026-11"]));
    // Before November's due time only September and October are missed.
    assert_eq!(due_periods(local("2026-11-10T08:00"), done, &c), ps(&["2026-09", "2026-10"]));
    // Across a year end.
    assert_eq!(
        due_periods(local("2027-01-27T08:00"), Some(p("2026-10")), &c),
        ps(&["2026-11", "2026-12", "2027-01"])
    );
    // After recording them one by one, nothing is left.
    let mut done = done;
    for q in due_periods(now, done, &c) {
        done = Some(q);
    }
    assert_eq!(done, Some(p("2026-11")));
    assert_eq!(due_periods(now, done, &c), vec![]);
}

#[test]
fn clock_jumping_back_after_a_batch_ran_runs_nothing_again() {
    let c = cfg();
    let due = local("2026-11-26T02:00");
    let clock = FixedClock::new(due + SignedDuration::from_mins(5));
    let mut done = Some(p("2026-10"));
    assert_eq!(due_periods(clock.now(), done, &c), ps(&["2026-11"]));
    done = Some(p("2026-11"));
    // The clock is corrected back an hour: before the due time again.
    clock.advance(-1.hour());
    assert!(clock.now() < due);
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    assert_eq!(next_due(clock.now(), done, &c), local("2026-12-26T02:00"));
    // And forward past the due time once more: still nothing.
    clock.advance(2.hours());
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    // Even a jump back by more than a month runs nothing that is done.
    clock.set(local("2026-10-27T12:00"));
    assert_eq!(due_periods(clock.now(), done, &c), vec![]);
    assert_eq!(sleep_for(clock.now(), done, &c), MAX_SLEEP);
}

#[test]
fn fresh_installation_runs_only_the_latest_due_period() {
    let c = cfg();
    // On the 27th: this month's batch came due yesterday.
    assert_eq!(due_periods(local("2026-11-27T10:00"), None, &c), ps(&["2026-11"]));
    // On the 10th: last month's batch is the latest due one; nothing older.
    assert_eq!(due_periods(local("2026-11-10T10:00"), None, &c), ps(&["2026-10"]));
    // On the 26th, just before and at 02:00.
    assert_eq!(due_periods(local("2026-11-26T01:59:59"), None, &c), ps(&["2026-10"]));
    assert_eq!(due_periods(local("2026-11-26T02:00"), None, &c), ps(&["2026-11"]));
    // In January, the latest due period is December of the year before.
    assert_eq!(due_periods(local("2027-01-05T10:00"), None, &c), ps(&["2026-12"]));
    // Something is due at once; after recording it, the next month's time.
    let now = local("2026-11-10T10:00");
    assert_eq!(next_due(now, None, &c), now);
    assert_eq!(sleep_for(now, None, &c), Duration::ZERO);
    assert_eq!(next_due(now, Some(p("2026-10")), &c), local("2026-11-26T02:00"));
}

#[test]
fn sleep_for_is_capped_and_never_negative() {
    let c = cfg();
    let done = Some(p("2026-10"));
    let due = local("2026-11-26T02:00");
    assert_eq!(sleep_for(due - SignedDuration::from_secs(10), done, &c), Duration::from_secs(10));
    assert_eq!(sleep_for(due - SignedDuration::from_hours(10), done, &c), MAX_SLEEP);
    assert_eq!(sleep_for(due, done, &c), Duration::ZERO);
    assert_eq!(sleep_for(due + SignedDuration::from_hours(1), done, &c), Duration::ZERO);
}

#[test]
fn a_daemon_sleeping_until_next_due_runs_each_period_once_at_its_due_time() {
    // Sleeping exactly until next_due (no cap) across two years lands on every due instant.
    let c = cfg();
    let clock = FixedClock::new(ts("2026-01-01T00:00:00Z"));
    let mut done = Some(p("2025-12"));
    let mut runs = Vec::new();
    while clock.now() < ts("2028-01-01T00:00:00Z") {
        for q in due_periods(clock.now(), done, &c) {
            runs.push((q, clock.now()));
            done = Some(q);
        }
        clock.set(next_due(clock.now(), done, &c));
    }
    let mut q = p("2026-01");
    for (period, at) in &runs {
        assert_eq!((*period, *at), (q, due_at(q, &c)));
        q = q.next();
    }
    assert_eq!(runs.len(), 24);
}

#[test]
fn a_daemon_waking_every_max_sleep_survives_clock_jumps() {
    // Wake at most every MAX_SLEEP from September to year end (both DST changes are
    // crossed in October), with the wall clock stepping back an hour right after October's
    // batch and jumping forward two days past November's due time.
    let c = cfg_at(25, Time::constant(2, 30, 0, 0));
    let clock = FixedClock::new(ts("2026-09-20T00:00:00Z"));
    let mut done = Some(p("2026-08"));
    let mut runs = Vec::new();
    let (mut jumped_back, mut jumped_forward) = (false, false);
    while clock.now() < ts("2027-01-01T00:00:00Z") {
        for q in due_periods(clock.now(), done, &c) {
            runs.push((q, clock.now()));
            done = Some(q);
        }
        if !jumped_back && done == Some(p("2026-10")) {
            jumped_back = true;
            clock.advance(-1.hour());
        }
        if !jumped_forward && clock.now() > local("2026-11-24T12:00") {
            jumped_forward = true;
            clock.advance(48.hours());
            continue;
        }
        let nap = sleep_for(clock.now(), done, &c);
        assert!(nap <= MAX_SLEEP);
        clock.advance(nap);
    }
    assert!(jumped_back && jumped_forward);
    let periods: Vec<Period> = runs.iter().map(|(q, _)| *q).collect();
    assert_eq!(periods, ps(&["2026-09", "2026-10", "2026-11", "2026-12"]));
    assert_eq!(runs[0].1, due_at(p("2026-09"), &c));
    assert_eq!(runs[1].1, due_at(p("2026-10"), &c));
    assert_eq!(runs[1].1, ts("2026-10-25T00:30:00Z"), "the earlier 02:30 of the fold");
    // November's due time was jumped over: it ran at the first wake-up after the jump.
    assert!(runs[2].1 > due_at(p("2026-11"), &c));
    assert!(runs[2].1 <= due_at(p("2026-11"), &c) + 48.hours());
    assert_eq!(runs[3].1, due_at(p("2026-12"), &c));
}

#[test]
fn latest_due_period_is_this_month_or_the_one_before() {
    let c = cfg();
    assert_eq!(latest_due(local("2026-11-01T00:00"), &c), Some(p("2026-10")));
    assert_eq!(latest_due(local("2026-11-30T23:59:59"), &c), Some(p("2026-11")));
    assert_eq!(latest_due(local("2027-01-01T00:00"), &c), Some(p("2026-12")));
    // Before periods start there is nothing to do, and the clock never panics us.
    let ancient = ts("1850-06-01T00:00:00Z");
    assert_eq!(due_periods(ancient, None, &c), vec![]);
    assert_eq!(next_due(ancient, None, &c), due_at(p("1900-01"), &c));
    assert_eq!(due_periods(Timestamp::MAX, Some(p("9999-11")), &c), ps(&["9999-12"]));
    assert_eq!(next_due(Timestamp::MAX, Some(p("9999-12")), &c), Timestamp::MAX);
}

#[test]
fn clocks() {
    let fixed = FixedClock::new(ts("2026-11-26T01:00:00Z"));
    fixed.advance(90.minutes());
    assert_eq!(fixed.now(), ts("2026-11-26T02:30:00Z"));
    fixed.advance(SignedDuration::from_secs(-30));
    assert_eq!(fixed.now(), ts("2026-11-26T02:29:30Z"));
    fixed.set(ts("2020-01-01T00:00:00Z"));
    let shared: std::sync::Arc<dyn Clock> = std::sync::Arc::new(fixed);
    assert_eq!(shared.now(), ts("2020-01-01T00:00:00Z"));
    let before = Timestamp::now();
    let system = SystemClock.now();
    assert!(system >= before);
}
