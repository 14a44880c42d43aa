//! A `Read` wrapper that checks UTF-8 as the bytes stream past and skips a leading BOM.
//!
//! Multi-byte sequences split across reads are carried over (at most three bytes), so the
//! check is exact whatever the chunk sizes. Offsets count every byte of the input, the BOM
//! included; lines count `\n` bytes from 1.

use std::io::{self, Read};

/// The UTF-8 byte order mark.
pub(super) const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// The first invalid UTF-8 byte of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the file is not valid UTF-8 at byte {offset} (line {line})")]
pub(super) struct EncodingError {
    /// Offset of the first bad byte, counted from the very first byte of the file.
    pub offset: u64,
    /// Physical line (1-based) holding that byte.
    pub line: u64,
}

impl EncodingError {
    /// The `EncodingError` inside an I/O error, if that is what it carries.
    pub fn from_io(e: &io::Error) -> Option<EncodingError> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<EncodingError>()).copied()
    }
}

/// Validates UTF-8 of everything read through it; strips a leading BOM.
pub(super) struct Utf8Reader<R> {
    inner: R,
    /// Bytes read from `inner` so far.
    offset: u64,
    /// `\n` bytes read so far.
    newlines: u64,
    /// An incomplete multi-byte sequence at the end of the last chunk.
    carry: [u8; 4],
    carry_len: usize,
    /// The first bytes of the file, held back to look for a BOM.
    head: [u8; 3],
    head_len: usize,
    head_pos: usize,
    started: bool,
    /// A bad byte found after valid bytes of the same read: those were handed out first.
    pending: Option<EncodingError>,
}

impl<R: Read> Utf8Reader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            newlines: 0,
            carry: [0; 4],
            carry_len: 0,
            head: [0; 3],
            head_len: 0,
            head_pos: 0,
            started: false,
            pending: None,
        }
    }

    /// Reads the first three bytes (or fewer at EOF) and drops them if they are a BOM.
    fn start(&mut self) -> io::Result<()> {
        while self.head_len < BOM.len() {
            match self.inner.read(&mut self.head[self.head_len..]) {
                Ok(0) => break,
                Ok(n) => self.head_len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let head = self.head;
        self.check(&head[..self.head_len])?;
        if self.head[..self.head_len] == BOM {
            self.head_pos = self.head_len;
        }
        self.started = true;
        Ok(())
    }

    /// Checks the next chunk of the input (`chunk` empty = end of input).
    fn check(&mut self, chunk: &[u8]) -> io::Result<()> {
        let base = self.offset;
        let mut rest = chunk;
        if self.carry_len > 0 {
            let carry_start = base - self.carry_len as u64;
            if chunk.is_empty() {
                return Err(self.bad(carry_start, chunk, 0));
            }
            let need = sequence_len(self.carry[0]);
            let take = (need - self.carry_len).min(rest.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&rest[..take]);
            self.carry_len += take;
            match std::str::from_utf8(&self.carry[..self.carry_len]) {
                Ok(_) => self.carry_len = 0,
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return Err(self.bad(carry_start, chunk, 0)),
            }
            rest = &rest[take..];
        }
        if let Err(e) = std::str::from_utf8(rest) {
            let at = chunk.len() - rest.len() + e.valid_up_to();
            match e.error_len() {
                Some(_) => return Err(self.bad(base + at as u64, chunk, at)),
                None => {
                    let tail = &chunk[at..];
                    self.carry[..tail.len()].copy_from_slice(tail);
                    self.carry_len = tail.len();
                }
            }
        }
        self.offset += chunk.len() as u64;
        self.newlines += count_newlines(chunk);
        Ok(())
    }

    /// The error for a bad byte at file offset `offset`, `upto` bytes into `chunk`.
    fn bad(&self, offset: u64, chunk: &[u8], upto: usize) -> io::Error {
        let line = 1 + self.newlines + count_newlines(&chunk[..upto]);
        io::Error::new(io::ErrorKind::InvalidData, EncodingError { offset, line })
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            self.start()?;
        }
        if self.head_pos < self.head_len {
            let n = (self.head_len - self.head_pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.head_pos..self.head_pos + n]);
            self.head_pos += n;
            return Ok(n);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if let Some(e) = self.pending {
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        let n = loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other?,
            }
        };
        let carried = (self.carry, self.carry_len);
        if let Err(e) = self.check(&buf[..n]) {
            // The valid bytes before the bad one go out first, so what the reader above sees
            // (and which file error it reports) does not depend on how the input was chunked.
            let bad = EncodingError::from_io(&e).filter(|b| b.offset > self.offset).ok_or(e)?;
            let valid = (bad.offset - self.offset) as usize;
            (self.carry, self.carry_len) = carried;
            self.check(&buf[..valid])?;
            self.pending = Some(bad);
            return Ok(valid);
        }
        Ok(n)
    }
}

/// Length of the UTF-8 sequence that starts with `lead` (a valid lead byte).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

/// Number of `\n` bytes in `bytes`. Counts in `u8` lanes over blocks of 255 bytes (no
/// overflow possible), which the compiler vectorises.
pub(super) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.chunks(255).map(|block| u64::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input delivered in reads of at most `.1` bytes.
    struct Chunked<'a>(&'a [u8], usize);
    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Reads everything through a `Utf8Reader`, with the input delivered in `chunk`-byte reads.
    fn read_all(data: &[u8], chunk: usize) -> Result<Vec<u8>, EncodingError> {
        let mut out = Vec::new();
        Utf8Reader::new(Chunked(data, chunk))
            .read_to_end(&mut out)
            .map(|_| out)
            .map_err(|e| EncodingError::from_io(&e).expect("an encoding error"))
    }

    #[test]
    fn valid_text_passes_whatever_the_chunk_size() {
        let text = "a;Ðorđević;Çelik-Öztürk\n'€ 𝄞';Müller\n".as_bytes();
        for chunk in 1..=7 {
            assert_eq!(read_all(text, chunk).unwrap(), text, "chunk {chunk}");
        }
    }

    #[test]
    fn bom_is_skipped_but_counted() {
        let mut data = BOM.to_vec();
        data.extend_from_slice(b"ab\n\xFF");
        for chunk in 1..=5 {
            assert_eq!(read_all(&data[..6], chunk).unwrap(), b"ab\n");
            assert_eq!(read_all(&data, chunk), Err(EncodingError { offset: 6, line: 2 }), "chunk {chunk}");
        }
    }

    /// Found by fuzzing (fuzz target `signal_csv`): the valid bytes before a bad one are
    /// handed out before the error, whatever the chunk size, so the reader above sees the
    /// same bytes however the input arrived.
    #[test]
    fn valid_bytes_before_a_bad_byte_come_first() {
        let data = "ab\ncd\u{e9}\u{20ac}".bytes().chain(*b"\xFFef").collect::<Vec<u8>>();
        for chunk in [1, 2, 3, 4, 5, 100] {
            let mut r = Utf8Reader::new(Chunked(&data, chunk));
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            let err = loop {
                match r.read(&mut buf) {
                    Ok(0) => panic!("no error, chunk {chunk}"),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => break EncodingError::from_io(&e).expect("an encoding error"),
                }
            };
            assert_eq!(err, EncodingError { offset: 10, line: 2 }, "chunk {chunk}");
            assert_eq!(&got[..], &data[..10], "chunk {chunk}");
        }
    }

    #[test]
    fn partial_bom_and_tiny_files_are_kept() {
        assert_eq!(read_all(b"", 1).unwrap(), b"");
        assert_eq!(read_all(b"a", 1).unwrap(), b"a");
        assert_eq!(read_all(b"\xEF\xBB\xBFx", 1).unwrap(), b"x");
        assert_eq!(read_all("\u{FEFF}".as_bytes(), 2).unwrap(), b"");
    }

    #[test]
    fn latin1_byte_is_found_at_its_offset() {
        let data = b"x;y\nR1;M\xFCller\n";
        for chunk in 1..=9 {
            assert_eq!(read_all(data, chunk), Err(EncodingError { offset: 8, line: 2 }), "chunk {chunk}");
        }
    }

    #[test]
    fn truncated_sequences_are_errors() {
        // "€" is E2 82 AC: cut after two bytes, then ASCII.
        for chunk in 1..=4 {
            assert_eq!(read_all(b"ab\xE2\x82x", chunk), Err(EncodingError { offset: 2, line: 1 }));
            // Cut at the very end of the file.
            assert_eq!(read_all(b"a\n\n\xE2\x82", chunk), Err(EncodingError { offset: 3, line: 3 }));
        }
    }

    #[test]
    fn overlong_and_surrogate_encodings_are_errors() {
        assert_eq!(read_all(b"\xC0\xAF", 1), Err(EncodingError { offset: 0, line: 1 }));
        assert_eq!(read_all(b"ok\xED\xA0\x80", 2), Err(EncodingError { offset: 2, line: 1 }));
    }
}
