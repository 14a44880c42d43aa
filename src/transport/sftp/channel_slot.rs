//! A connection's places for session channels: at most [`MAX_CHANNELS`] open at once.
//!
//! A place is given back when its [`ChannelSlot`] is dropped, whichever side closed the
//! channel: by the connection handler when a channel that never ran SFTP is closed (by the
//! client, or by us after an EOF or a refused request), and by the channel's SFTP handler when
//! its stream ends. russh calls the handler's `channel_close` only when the client closes
//! first, so a count kept there leaked a place for every channel the server closed: after four
//! SFTP channels one after another, a connection could open no more.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Session channels a connection may have open at once.
pub(super) const MAX_CHANNELS: usize = 4;

/// The open channels of one connection.
#[derive(Clone, Debug, Default)]
pub(super) struct ChannelSlots(Arc<AtomicUsize>);

impl ChannelSlots {
    /// A place for one more channel, if fewer than [`MAX_CHANNELS`] are open.
    pub(super) fn take(&self) -> Option<ChannelSlot> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < MAX_CHANNELS).then_some(n + 1))
            .ok()
            .map(|_| ChannelSlot(self.0.clone()))
    }

    /// Channels open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// One open channel's place, given back on drop.
#[derive(Debug)]
pub(super) struct ChannelSlot(Arc<AtomicUsize>);

impl Drop for ChannelSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_limited_and_given_back_on_drop() {
        let slots = ChannelSlots::default();
        let held: Vec<ChannelSlot> = (0..MAX_CHANNELS).map(|_| slots.take().unwrap()).collect();
        assert!(slots.take().is_none());
        drop(held);
        assert_eq!(slots.open(), 0);
        assert!(slots.take().is_some());
    }
}
