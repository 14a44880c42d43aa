//! The worker's side of an upload's channel: its chunks in order, each passed on to the back
//! thread to be hashed once it has been read.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use tokio::sync::mpsc;

use super::{Msg, back};

/// A `Read` over the chunks of an upload; every chunk, once read, goes to the back thread to
/// be hashed, and is counted. Chunks are shared (`Arc`): a helper thread may still be
/// checking part of one the back thread hashes.
pub(super) struct ChannelReader {
    rx: mpsc::Receiver<Msg>,
    cur: Arc<Vec<u8>>,
    /// Read position in `cur`.
    pos: usize,
    back: SyncSender<back::Msg>,
    /// Bytes received.
    pub bytes: u64,
    ended: bool,
}

impl ChannelReader {
    /// A reader of `rx` that hands what it has read to `back`.
    pub fn new(rx: mpsc::Receiver<Msg>, back: SyncSender<back::Msg>) -> ChannelReader {
        ChannelReader { rx, cur: Arc::default(), pos: 0, back, bytes: 0, ended: false }
    }

    /// Hands the current chunk to the back thread.
    fn pass_on(&mut self) {
        let chunk = std::mem::take(&mut self.cur);
        self.pos = 0;
        if !chunk.is_empty() {
            // A closed back thread only happens when this worker is failing anyway.
            let _ = self.back.send(back::Msg::Hash(chunk));
        }
    }

    /// Hands over the last chunk and lets the back thread finish.
    pub fn finish(mut self) {
        self.pass_on();
    }

    /// The next chunk in order (`None` at the end), handing the one before to the back
    /// thread. Bytes of the current chunk not yet read are skipped.
    pub fn next_chunk(&mut self) -> io::Result<Option<Arc<Vec<u8>>>> {
        if self.ended {
            return Ok(None);
        }
        loop {
            match self.rx.blocking_recv() {
                Some(Msg::Data(v)) if v.is_empty() => {}
                Some(Msg::Data(v)) => {
                    self.pass_on();
                    self.bytes += v.len() as u64;
                    self.cur = Arc::new(v);
                    self.pos = self.cur.len();
                    return Ok(Some(self.cur.clone()));
                }
                Some(Msg::End) => {
                    self.ended = true;
                    return Ok(None);
                }
                None => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "upload aborted")),
            }
        }
    }

    /// Reads what is left of the upload, so that all of it is hashed.
    pub fn drain(&mut self) -> io::Result<()> {
        while self.next_chunk()?.is_some() {}
        Ok(())
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.cur.len() {
            if self.next_chunk()?.is_none() {
                return Ok(0);
            }
            self.pos = 0;
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
