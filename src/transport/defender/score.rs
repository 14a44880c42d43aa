//! Scores per origin address (pure): points for scored events within a window, and the
//! length of a ban that grows with each repeat.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Points of each origin within its current window.
#[derive(Debug, Default)]
pub struct Scores {
    by_origin: HashMap<IpAddr, Tally>,
}

#[derive(Debug, Clone, Copy)]
struct Tally {
    since: Instant,
    points: u32,
}

impl Scores {
    /// Adds `points` for `ip` at `now`; `true` exactly when they reach `threshold` (the score
    /// then starts again from zero, so one crossing makes one ban).
    pub fn add(&mut self, ip: IpAddr, now: Instant, window: Duration, threshold: u32, points: u32) -> bool {
        let t = self.by_origin.entry(ip).or_insert(Tally { since: now, points: 0 });
        if now.duration_since(t.since) > window {
            *t = Tally { since: now, points: 0 };
        }
        t.points = t.points.saturating_add(points);
        if t.points >= threshold {
            self.by_origin.remove(&ip);
            return true;
        }
        false
    }

    /// Forgets `ip` (its ban was lifted).
    pub fn forget(&mut self, ip: IpAddr) {
        self.by_origin.remove(&ip);
    }

    /// Drops the windows that ended before `now` (keeps the table small).
    pub fn prune(&mut self, now: Instant, window: Duration) {
        self.by_origin.retain(|_, t| now.duration_since(t.since) <= window);
    }

    /// Origins with points now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.by_origin.len()
    }
}

/// Seconds of ban number `strikes` (1 for the first): `first`, doubled for each repeat, at
/// most `max`.
pub fn ban_length(first: Duration, max: Duration, strikes: u32) -> Duration {
    let doubling = 1u32.checked_shl(strikes.saturating_sub(1).min(31)).unwrap_or(u32::MAX);
    first.saturating_mul(doubling).min(max).max(first.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_within_the_window_bans_once() {
        let (mut s, t0, w) = (Scores::default(), Instant::now(), Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(!s.add(ip, t0, w, 3, 1));
        assert!(!s.add(other, t0, w, 3, 1));
        assert!(!s.add(ip, t0 + Duration::from_secs(10), w, 3, 1));
        assert!(s.add(ip, t0 + Duration::from_secs(20), w, 3, 1), "third point in the window");
        assert!(!s.add(ip, t0 + Duration::from_secs(21), w, 3, 1), "starts again after a ban");
        // Points older than the window do not count.
        assert!(!s.add(other, t0 + Duration::from_secs(61), w, 3, 1));
        assert!(!s.add(other, t0 + Duration::from_secs(62), w, 3, 1));
        s.prune(t0 + Duration::from_secs(200), w);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn repeat_bans_last_longer() {
        let (m, h) = (Duration::from_secs(600), Duration::from_secs(3600));
        assert_eq!(ban_length(m, h, 1), m);
        assert_eq!(ban_length(m, h, 2), 2 * m);
        assert_eq!(ban_length(m, h, 3), 4 * m);
        assert_eq!(ban_length(m, h, 4), h, "at most the maximum");
        assert_eq!(ban_length(m, h, 400), h);
    }
}
