//! `[intake]`, `[pickup]`, `[feedback]`, `[ddas]` and `[clients]`: how much may come in, how
//! long bundles and known-client lists last, and when the monthly DDAS export is dropped;
//! `[sftp] max_listing_entries`: how much of a folder a session holds.

use super::{Checker, in_range};
use crate::config::IntakeLimits;
use crate::config::file::{RawClients, RawDdas, RawFeedback, RawIntake, RawPickup, RawSftp};

/// `[intake]`: each limit raised to its floor (1 byte, a 1 MiB reorder window, a party's
/// reorder bytes at least one window), the stop grace capped at an hour; the files per period
/// 1–1,000,000, else a problem (and the default 2000).
pub(super) fn intake(c: &mut Checker<'_>, raw: &RawIntake) -> IntakeLimits {
    let window = raw.reorder_window_bytes.max(1 << 20);
    let max_files_per_period = in_range(
        c,
        &raw.max_files_per_period,
        1..=1_000_000,
        "max_files_per_period",
        "write 1 to 1000000 files per creditor and period; the default is 2000",
    )
    .unwrap_or(2000) as u64;
    IntakeLimits {
        max_file_bytes: raw.max_file_bytes.max(1),
        max_listed_errors: raw.max_listed_errors,
        reorder_window_bytes: window,
        reorder_bytes_per_party: raw.reorder_bytes_per_party.max(window),
        stop_grace: std::time::Duration::from_secs(raw.stop_grace_secs.min(3600)),
        max_files_per_period,
    }
}

/// `[pickup] retention_days`: 1–365, else the default 14.
pub(super) fn pickup_retention_days(c: &mut Checker<'_>, raw: &RawPickup) -> u32 {
    in_range(c, &raw.retention_days, 1..=365, "retention_days", "write 1 to 365 days; the default is 14")
        .unwrap_or(14) as u32
}

/// `[feedback] max_file_bytes`: 1 KiB–256 MiB, else the default 16 MiB.
pub(super) fn feedback_max_bytes(c: &mut Checker<'_>, raw: &RawFeedback) -> u64 {
    in_range(
        c,
        &raw.max_file_bytes,
        1024..=(256 << 20),
        "max_file_bytes",
        "write 1024 to 268435456 bytes; the default is 16777216 (16 MiB)",
    )
    .unwrap_or(16 << 20) as u64
}

/// `[ddas] day`: 0 (no monthly drop, the default) or a day 1–28 (every month has it).
pub(super) fn ddas_day(c: &mut Checker<'_>, raw: &RawDdas) -> u8 {
    in_range(
        c,
        &raw.day,
        0..=28,
        "[ddas] day",
        "write the day of the month (1 to 28) the previous month's DDAS export goes into the pickup folders, \
         or 0 for none (the default)",
    )
    .unwrap_or(0) as u8
}

/// `[sftp] max_listing_entries`: 100–1,000,000, else the default 10000.
pub(super) fn sftp_listing_entries(c: &mut Checker<'_>, raw: &RawSftp) -> usize {
    in_range(
        c,
        &raw.max_listing_entries,
        100..=1_000_000,
        "max_listing_entries",
        "write 100 to 1000000 folder entries per SFTP session; the default is 10000",
    )
    .unwrap_or(10_000) as usize
}

/// `[clients] max_age_days`: 0–366, else the default 45 (0: a list counts on the day of its
/// upload only).
pub(super) fn clients_max_age_days(c: &mut Checker<'_>, raw: &RawClients) -> u32 {
    in_range(
        c,
        &raw.max_age_days,
        0..=366,
        "max_age_days",
        "write 0 to 366 days (how long a known-client list counts after its upload); the default is 45",
    )
    .unwrap_or(45) as u32
}
