//! A sealed file on its way into the vault: written under `vault/tmp`, finished, then filed
//! into its period. Until it is filed it discards itself when dropped, so no path through
//! intake or an erasure can leave a temporary sealed file behind or file one twice.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{VaultError, io_err};
use crate::durable;

/// Bytes gathered before a write to the sealed file.
const WRITE_BUFFER: usize = 256 * 1024;

/// An age writer sealing into a temporary file of the vault.
type SealWriter = age::stream::StreamWriter<BufWriter<File>>;

/// A temporary file that is removed when dropped, unless it was moved away first.
struct TmpFile {
    path: PathBuf,
    kept: bool,
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "could not remove temporary sealed file")
            }
        }
    }
}

/// Where a sealed file goes when it is filed: its period's folder and its name there.
struct Destination {
    dir: PathBuf,
    path: PathBuf,
}

/// A sealed file being written. [`Sealing::finish`] makes it a [`SealedTmp`]; dropping it
/// instead discards what was written.
pub struct Sealing {
    writer: SealWriter,
    tmp: TmpFile,
    to: Destination,
}

impl Sealing {
    /// Starts sealing to `recipient` into the new file `tmp`, to be filed as `to` in `dir`.
    pub(super) fn create(
        recipient: &age::x25519::Recipient,
        tmp: PathBuf,
        dir: PathBuf,
        to: PathBuf,
    ) -> Result<Sealing, VaultError> {
        let file = durable::create_new_private(&tmp).map_err(io_err(&tmp))?;
        let tmp = TmpFile { path: tmp, kept: false };
        let enc =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient)).map_err(
                |e| VaultError::Io { path: tmp.path.clone(), source: io::Error::other(e.to_string()) },
            )?;
        // age writes whole 64 KiB chunks: a small buffer gathers a few of them per write(2)
        // without holding a large one for every upload in flight.
        let writer = enc.wrap_output(BufWriter::with_capacity(WRITE_BUFFER, file)).map_err(io_err(&tmp.path))?;
        Ok(Sealing { writer, tmp, to: Destination { dir, path: to } })
    }

    /// The temporary file being written.
    pub fn path(&self) -> &Path {
        &self.tmp.path
    }

    /// Finishes it: age trailer, flush, fsync. On an error the file is discarded.
    pub fn finish(self) -> Result<SealedTmp, VaultError> {
        let Sealing { writer, tmp, to } = self;
        let buf = writer.finish().map_err(io_err(&tmp.path))?;
        let file = buf
            .into_inner()
            .map_err(|e| VaultError::Io { path: tmp.path.clone(), source: e.into_error() })?;
        file.sync_all().map_err(io_err(&tmp.path))?;
        Ok(SealedTmp { tmp, to })
    }
}

impl Write for Sealing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// A finished, durable sealed file still in `vault/tmp`. [`SealedTmp::file`] moves it into
/// its period; dropping it instead discards it.
pub struct SealedTmp {
    tmp: TmpFile,
    to: Destination,
}

impl SealedTmp {
    /// Moves it into its period's folder (durably) and returns where it is now.
    pub fn file(mut self) -> Result<PathBuf, VaultError> {
        let Destination { dir, path } = &self.to;
        durable::create_private_dir(dir).map_err(io_err(dir))?;
        fs::rename(&self.tmp.path, path).map_err(io_err(path))?;
        self.tmp.kept = true;
        durable::sync_dir(dir).map_err(io_err(dir))?;
        Ok(path.clone())
    }
}
