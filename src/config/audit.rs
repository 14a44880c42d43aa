//! Checking `[audit]`: every setting in range, each problem located with its fix.

use std::time::Duration;

use toml::Spanned;

use super::AuditConfig;
use super::check::Checker;
use super::file::RawAudit;

/// Checks `[audit]`; out-of-range values are reported and replaced by their defaults.
pub(super) fn check(c: &mut Checker<'_>, raw: &RawAudit) -> AuditConfig {
    let d = AuditConfig::default();
    let mut range = |v: &Spanned<i64>, name: &str, lo: i64, hi: i64, default: i64, unit: &str| {
        let x = *v.get_ref();
        if (lo..=hi).contains(&x) {
            x
        } else {
            c.report(
                v,
                format!("[audit] {name} = {x} is out of range"),
                format!("write {lo} to {hi} {unit}; the default is {default}"),
            );
            default
        }
    };
    let secs = d.checkpoint_interval.as_secs() as i64;
    AuditConfig {
        checkpoint_interval: Duration::from_secs(range(
            &raw.checkpoint_interval_secs,
            "checkpoint_interval_secs",
            10,
            86_400,
            secs,
            "seconds",
        ) as u64),
        retention_months: range(&raw.retention_months, "retention_months", 1, 1200, 84, "months") as u32,
        failed_login_burst: range(
            &raw.failed_login_burst,
            "failed_login_burst",
            2,
            10_000,
            5,
            "failed logins",
        ) as usize,
        failed_login_window_mins: range(
            &raw.failed_login_window_mins,
            "failed_login_window_mins",
            1,
            1440,
            10,
            "minutes",
        ),
        unpicked_after_days: range(&raw.unpicked_after_days, "unpicked_after_days", 1, 365, 14, "days"),
        syslog: super::syslog::check(c, &raw.syslog),
    }
}
