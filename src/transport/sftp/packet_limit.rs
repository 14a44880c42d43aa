//! The SFTP packet limit, enforced before russh-sftp reads a packet.
//!
//! russh-sftp refuses a length prefix over its maximum, but then logs a warning and reads on
//! from the middle of the refused packet: the client gets no answer, and a stream of large
//! prefixes writes a log line per four bytes. [`Limited`] sits between the channel and
//! russh-sftp and follows the packet framing (a 4-byte length, then that many bytes). At the
//! first length over [`MAX_CLIENT_PACKET`](super::MAX_CLIENT_PACKET) it sends the client one
//! line on the channel's stderr (shown by OpenSSH `sftp`), tells the session (audited once as
//! `denied_path`, op `packet`), and ends the stream: russh-sftp stops, the channel is closed,
//! and the session's open uploads are discarded. Nothing of the oversized packet is buffered.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What happens at the first oversized packet (audit and score it); called once.
pub(super) type OnOversize = Box<dyn FnOnce(u32) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Where the reader stands in the packet framing.
enum State {
    /// Inside packets: `body` bytes of the current one still to come, then a prefix of which
    /// `have` bytes were read.
    Framing { body: u64, prefix: [u8; 4], have: usize },
    /// An oversized prefix was read: the message is being sent (`sent` bytes so far).
    Refusing { message: Vec<u8>, sent: usize },
    /// The stream has ended for the reader.
    Ended,
}

/// A channel stream whose client packets are at most `max` bytes.
pub(super) struct Limited<S, E> {
    inner: S,
    stderr: E,
    max: u32,
    state: State,
    on_oversize: Option<OnOversize>,
}

impl<S, E> Limited<S, E> {
    /// Wraps `inner`; `stderr` writes the channel's extended data (stream 1).
    pub fn new(inner: S, stderr: E, max: u32, on_oversize: OnOversize) -> Self {
        let state = State::Framing { body: 0, prefix: [0; 4], have: 0 };
        Limited { inner, stderr, max, state, on_oversize: Some(on_oversize) }
    }
}

/// Follows the framing over `bytes`; the offset of the first byte of an oversized packet's
/// prefix within them (0 when it began in earlier bytes) and its length, if one was found.
fn scan(state: &mut State, max: u32, bytes: &[u8]) -> Option<(usize, u32)> {
    let State::Framing { body, prefix, have } = state else { return None };
    let mut i = 0;
    let mut prefix_at = 0usize;
    while i < bytes.len() {
        if *body > 0 {
            let take = (*body).min((bytes.len() - i) as u64);
            *body -= take;
            i += take as usize;
            continue;
        }
        if *have == 0 {
            prefix_at = i;
        }
        prefix[*have] = bytes[i];
        *have += 1;
        i += 1;
        if *have == 4 {
            *have = 0;
            let len = u32::from_be_bytes(*prefix);
            if len > max {
                return Some((prefix_at, len));
            }
            *body = u64::from(len);
        }
    }
    None
}

impl<S: AsyncRead + Unpin, E: AsyncWrite + Unpin> AsyncRead for Limited<S, E> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Ended => return Poll::Ready(Ok(())),
                State::Refusing { message, sent } => {
                    if *sent < message.len() {
                        match ready!(Pin::new(&mut this.stderr).poll_write(cx, &message[*sent..])) {
                            Ok(n) if n > 0 => *sent += n,
                            _ => this.state = State::Ended,
                        }
                        continue;
                    }
                    let _ = ready!(Pin::new(&mut this.stderr).poll_flush(cx));
                    this.state = State::Ended;
                }
                State::Framing { .. } => {
                    let start = buf.filled().len();
                    ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
                    let end = buf.filled().len();
                    let Some((at, len)) = scan(&mut this.state, this.max, &buf.filled()[start..end]) else {
                        return Poll::Ready(Ok(()));
                    };
                    // Hand russh-sftp only what came before the oversized packet; the next read
                    // ends the stream (a prefix cut short is an end of stream to it as well).
                    buf.set_filled(start + at);
                    if let Some(f) = this.on_oversize.take() {
                        tokio::spawn(f(len));
                    }
                    let message = format!(
                        "meldpunt: an SFTP packet of {len} bytes is over the limit of {} bytes (limits@openssh.com); the SFTP channel is closed\n",
                        this.max
                    );
                    this.state = State::Refusing { message: message.into_bytes(), sent: 0 };
                    if at > 0 {
                        return Poll::Ready(Ok(()));
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin, E: Unpin> AsyncWrite for Limited<S, E> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framing() -> State {
        State::Framing { body: 0, prefix: [0; 4], have: 0 }
    }

    fn packet(len: u32) -> Vec<u8> {
        let mut p = len.to_be_bytes().to_vec();
        p.resize(4 + len as usize, 7);
        p
    }

    #[test]
    fn packets_within_the_limit_pass_in_any_split() {
        let stream: Vec<u8> = [packet(5), packet(100), packet(0), packet(100)].concat();
        for split in 1..stream.len() {
            let mut st = framing();
            for piece in stream.chunks(split) {
                assert_eq!(scan(&mut st, 100, piece), None, "split {split}");
            }
        }
    }

    #[test]
    fn an_oversized_prefix_is_found_where_it_starts() {
        let stream: Vec<u8> = [packet(5), 101u32.to_be_bytes().to_vec(), vec![1; 50]].concat();
        let mut st = framing();
        assert_eq!(scan(&mut st, 100, &stream), Some((9, 101)));
        // Split inside the prefix: found in the second piece, at its start.
        let mut st = framing();
        assert_eq!(scan(&mut st, 100, &stream[..11]), None);
        assert_eq!(scan(&mut st, 100, &stream[11..]), Some((0, 101)));
    }
}
