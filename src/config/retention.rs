//! Checking the shorter windows of `[retention]`: each in range and never longer than the
//! period's retention (`months`), which removes everything of a period anyway.

use toml::Spanned;

use super::RetentionWindows;
use super::check::Checker;
use super::file::RawRetention;

/// Days in the shortest run of `months` calendar months (28 per month), so a window in days
/// within it never outlasts the period's retention.
pub(super) fn days_in(months: u32) -> i64 {
    28 * i64::from(months)
}

/// Checks the windows against `months` (already checked); problems are located, values that
/// fail fall back to their default (or `months`, whichever is shorter).
pub(super) fn windows(c: &mut Checker<'_>, raw: &RawRetention, months: u32) -> RetentionWindows {
    let d = RetentionWindows::default();
    let mut window = |v: &Spanned<i64>, name: &str, hi: i64, default: u32, unit: &str| -> u32 {
        let x = *v.get_ref();
        let cap = hi.min(match unit {
            "days" => days_in(months),
            "hours" => days_in(months) * 24,
            _ => i64::from(months),
        });
        if x < 1 || x > hi {
            c.report(
                v,
                format!("[retention] {name} = {x} is out of range"),
                format!("write 1 to {cap} {unit}; the default is {default}"),
            );
            default.min(cap as u32)
        } else if x > cap {
            c.report(
                v,
                format!("[retention] {name} = {x} {unit} is longer than the period's retention (months = {months})"),
                format!("write at most {cap} {unit}, or raise [retention] months"),
            );
            cap as u32
        } else {
            x as u32
        }
    };
    RetentionWindows {
        rejected_days: window(&raw.rejected_days, "rejected_days", 3650, d.rejected_days, "days"),
        temp_hours: window(&raw.temp_hours, "temp_hours", 720, d.temp_hours, "hours"),
        feedback_months: window(&raw.feedback_months, "feedback_months", 120, d.feedback_months, "months"),
        batch_report_months: window(
            &raw.batch_report_months,
            "batch_report_months",
            120,
            d.batch_report_months,
            "months",
        ),
    }
}
