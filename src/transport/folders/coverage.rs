//! Which byte ranges of a file a client has read or written, to tell a complete download
//! (or a gapless upload) from a partial one, whatever order the requests came in.

/// Most separate ranges tracked; a client scattering more than this is not tracked further
/// (its transfer then never counts as complete).
const MAX_RANGES: usize = 1024;

/// Sorted, merged half-open byte ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    ranges: Vec<(u64, u64)>,
    overflow: bool,
}

impl Coverage {
    /// Adds `len` bytes at `offset`.
    pub fn add(&mut self, offset: u64, len: u64) {
        if len == 0 {
            return;
        }
        let (mut start, mut end) = (offset, offset.saturating_add(len));
        // Ranges that touch or overlap [start, end) merge into it.
        let first = self.ranges.partition_point(|&(_, e)| e < start);
        let mut last = first;
        while last < self.ranges.len() && self.ranges[last].0 <= end {
            start = start.min(self.ranges[last].0);
            end = end.max(self.ranges[last].1);
            last += 1;
        }
        if first == last && self.ranges.len() >= MAX_RANGES {
            self.overflow = true;
            return;
        }
        self.ranges.splice(first..last, [(start, end)]);
    }

    /// Whether every byte of `0..size` was covered (an empty file always is).
    pub fn covers(&self, size: u64) -> bool {
        size == 0 || (!self.overflow && self.ranges.first().is_some_and(|&(s, e)| s == 0 && e >= size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_pieces_complete_the_file() {
        let mut c = Coverage::default();
        c.add(200, 100);
        c.add(0, 100);
        assert!(!c.covers(300));
        c.add(100, 100);
        assert!(c.covers(300));
        assert!(!c.covers(301));
        c.add(50, 10); // overlap changes nothing
        assert_eq!(c.ranges, [(0, 300)]);
    }

    #[test]
    fn gaps_and_overflow() {
        let mut c = Coverage::default();
        assert!(c.covers(0));
        c.add(1, 10);
        assert!(!c.covers(11), "byte 0 missing");
        let mut scattered = Coverage::default();
        for i in 0..(MAX_RANGES as u64 + 10) {
            scattered.add(i * 10 + 5, 1);
        }
        scattered.add(0, 100_000);
        assert!(!scattered.covers(100_000), "overflowed coverage never counts as complete");
    }
}
