//! Periods: the calendar month a file belongs to, decided in Europe/Amsterdam.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// The time zone all calendar logic uses.
pub const ZONE: &str = "Europe/Amsterdam";

/// The Amsterdam time zone (bundled tzdb, no system tzdata needed).
pub fn zone() -> TimeZone {
    // The bundled tzdb always contains Europe/Amsterdam: the feature `tzdb-bundle-always`
    // is enabled in Cargo.toml, so this lookup cannot fail.
    TimeZone::get(ZONE).expect("bundled tzdb holds Europe/Amsterdam")
}

/// A period: one calendar month, written `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    year: i16,
    month: i8,
}

impl Period {
    /// The period of a year and month (1–12).
    pub fn new(year: i16, month: i8) -> Option<Self> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year)).then_some(Self { year, month })
    }

    /// The year.
    pub fn year(self) -> i16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> i8 {
        self.month
    }

    /// The next month.
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self { year: self.year + 1, month: 1 }
        } else {
            Self { year: self.year, month: self.month + 1 }
        }
    }

    /// The previous month.
    pub fn prev(self) -> Self {
        if self.month == 1 {
            Self { year: self.year - 1, month: 12 }
        } else {
            Self { year: self.year, month: self.month - 1 }
        }
    }

    /// The first day of the month.
    pub fn first_day(self) -> Date {
        Date::new(self.year, self.month, 1).expect("a valid period has a first day")
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Text that is not a `YYYY-MM` period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a period; write YYYY-MM, e.g. 2026-11")]
pub struct PeriodParseError(pub String);

impl FromStr for Period {
    type Err = PeriodParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodParseError(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(err());
        }
        let y: i16 = y.parse().map_err(|_| err())?;
        let m: i8 = m.parse().map_err(|_| err())?;
        Period::new(y, m).ok_or_else(err)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> Self {
        p.to_string()
    }
}

/// When deliveries close: the last moment (local time) of the cutoff day that still
/// belongs to the month's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutoff {
    /// Day of the month, 1–28.
    pub day: i8,
    /// Local time on that day after which files go to the next period.
    pub time: Time,
}

impl Default for Cutoff {
    fn default() -> Self {
        Self { day: 25, time: Time::constant(23, 59, 59, 999_999_999) }
    }
}

impl Cutoff {
    /// The period a file received at `at` belongs to.
    pub fn period_of(self, at: Timestamp) -> Period {
        let local = at.to_zoned(zone()).datetime();
        let this = Period { year: local.year(), month: local.month() };
        let after = local.day() > self.day || (local.day() == self.day && local.time() > self.time);
        if after { this.next() } else { this }
    }

    /// The last moment that still belongs to `period`: its cutoff day and time, Amsterdam.
    pub fn closes_at(self, period: Period) -> Timestamp {
        let day = Date::new(period.year, period.month, self.day).unwrap_or(period.first_day());
        day.to_datetime(self.time).to_zoned(zone()).map(|z| z.timestamp()).unwrap_or_else(|_| {
            period.next().first_day().to_zoned(zone()).map_or(Timestamp::MAX, |z| z.timestamp())
        })
    }

    /// Whether deliveries for `period` are still open at `now`.
    pub fn is_open(self, period: Period, now: Timestamp) -> bool {
        now <= self.closes_at(period)
    }
}

/// The local (Amsterdam) calendar date of a moment.
pub fn local_date(at: Timestamp) -> Date {
    at.to_zoned(zone()).date()
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    // Both dates are valid civil dates within jiff's range, so the span always fits.
    let span = from.until(to).expect("difference of two civil dates");
    i64::from(span.get_days())
}

/// Whole years of age on `on` for someone born on `born`.
pub fn age_on(born: Date, on: Date) -> i64 {
    let mut age = i64::from(on.year()) - i64::from(born.year());
    if (on.month(), on.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

/// `date` plus `days` days, saturating at the calendar's end.
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(days.days()).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn cutoff_is_inclusive_to_the_last_second_local() {
        let c = Cutoff::default();
        // 2026-11-25 23:59:59 CET = 22:59:59Z
        assert_eq!(c.period_of(ts("2026-11-25T22:59:59Z")).to_string(), "2026-11");
        assert_eq!(c.period_of(ts("2026-11-25T23:00:00Z")).to_string(), "2026-12");
        assert_eq!(c.period_of(ts("2026-12-26T10:00:00Z")).to_string(), "2027-01");
        // Summer time: 2026-06-25 23:59:59 CEST = 21:59:59Z
        assert_eq!(c.period_of(ts("2026-06-25T21:59:59Z")).to_string(), "2026-06");
        assert_eq!(c.period_of(ts("2026-06-25T22:00:00Z")).to_string(), "2026-07");
    }

    #[test]
    fn a_period_closes_at_its_cutoff_and_agrees_with_period_of() {
        let c = Cutoff::default();
        let p: Period = "2026-11".parse().unwrap();
        let closes = c.closes_at(p);
        assert_eq!(closes, ts("2026-11-25T22:59:59.999999999Z"));
        assert_eq!(c.period_of(closes), p);
        assert!(c.is_open(p, closes) && !c.is_open(p, ts("2026-11-25T23:00:00Z")));
        let summer: Period = "2026-06".parse().unwrap();
        assert_eq!(c.period_of(c.closes_at(summer)), summer);
        assert_eq!(c.period_of(ts("2026-06-25T22:00:00Z")), summer.next());
    }

    #[test]
    fn periods_parse_and_step() {
        let p: Period = "2026-12".parse().unwrap();
        assert_eq!(p.next().to_string(), "2027-01");
        assert_eq!(p.next().prev(), p);
        assert!("2026-13".parse::<Period>().is_err());
        assert!("2026-1".parse::<Period>().is_err());
    }

    #[test]
    fn day_and_age_arithmetic() {
        let a = Date::constant(2026, 1, 31);
        let b = Date::constant(2026, 3, 2);
        assert_eq!(days_between(a, b), 30);
        assert_eq!(age_on(Date::constant(2010, 11, 23), Date::constant(2026, 11, 22)), 15);
        assert_eq!(age_on(Date::constant(2010, 11, 22), Date::constant(2026, 11, 22)), 16);
    }

    /// An Amsterdam wall-clock time that exists exactly once, as an instant.
    fn local(s: &str) -> Timestamp {
        let dt: jiff::civil::DateTime = s.parse().unwrap();
        zone().to_ambiguous_timestamp(dt).unambiguous().unwrap()
    }

    #[test]
    fn cutoff_25th_23_59_59_local_is_p_and_26th_00_00_00_is_p_plus_1() {
        let c = Cutoff::default();
        for (at, period) in [
            // Winter (CET) and summer (CEST), stated in local time rather than UTC.
            ("2026-11-25T23:59:59", "2026-11"),
            ("2026-11-25T23:59:59.999999999", "2026-11"),
            ("2026-11-26T00:00:00", "2026-12"),
            ("2026-06-25T23:59:59", "2026-06"),
            ("2026-06-26T00:00:00", "2026-07"),
            // The first moment of a month and the year end.
            ("2026-12-01T00:00:00", "2026-12"),
            ("2026-12-25T23:59:59", "2026-12"),
            ("2026-12-26T00:00:00", "2027-01"),
            ("2026-12-31T23:59:59", "2027-01"),
            // The cutoff day inside a month with a DST change (2026-10-25 and 2026-03-29).
            ("2026-10-25T23:59:59", "2026-10"),
            ("2026-10-26T00:00:00", "2026-11"),
            ("2026-03-25T23:59:59", "2026-03"),
            ("2026-03-26T00:00:00", "2026-04"),
        ] {
            assert_eq!(c.period_of(local(at)).to_string(), period, "at {at}");
        }
        // A configured cutoff day moves the boundary with it.
        let c = Cutoff { day: 20, ..Cutoff::default() };
        assert_eq!(c.period_of(local("2026-11-20T23:59:59")).to_string(), "2026-11");
        assert_eq!(c.period_of(local("2026-11-21T00:00:00")).to_string(), "2026-12");
    }
}
