//! `[periods]`: the day deliveries close each month.

use super::Checker;
use crate::config::file::RawPeriods;
use crate::domain::period::Cutoff;

/// `[periods] cutoff_day`: 1–27, so the batch can run the day after; else the default.
pub(super) fn cutoff(c: &mut Checker<'_>, raw: &RawPeriods) -> Cutoff {
    let day = *raw.cutoff_day.get_ref();
    if (1..=27).contains(&day) {
        Cutoff { day: day as i8, ..Cutoff::default() }
    } else {
        c.report(
            &raw.cutoff_day,
            format!("cutoff_day {day} is out of range"),
            "write a day from 1 to 27 (the batch runs the day after); the default is 25",
        );
        Cutoff::default()
    }
}
