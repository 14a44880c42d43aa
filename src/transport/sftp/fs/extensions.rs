//! The OpenSSH extensions meldpunt serves (announced in the `version` answer):
//!
//! | extension | answer |
//! |---|---|
//! | `limits@openssh.com` | packet and read/write sizes |
//! | `posix-rename@openssh.com` | as `rename`: only of the session's own unfinished uploads |
//! | `fsync@openssh.com` | OK for an open handle: an upload is made durable when it is filed (at its close or rename), a read has nothing to sync |
//! | `statvfs@openssh.com` | the data directory's file system; names up to [`MAX_NAME_BYTES`] |
//!
//! `hardlink@openssh.com` is refused (not announced); any other is `OP_UNSUPPORTED`.

use std::collections::HashMap;

use russh_sftp::extensions::{FSYNC, HARDLINK, LIMITS, LimitsExtension, STATVFS, Statvfs};
use russh_sftp::protocol::{ExtendedReply, Packet, StatusCode};
use russh_sftp::server::{Handler, StatusReply};

use super::{Fs, failure, ok};
use crate::domain::upload::MAX_NAME_BYTES;
use crate::transport::folders::files;

/// `posix-rename@openssh.com` (russh-sftp has no constant for it).
const POSIX_RENAME: &str = "posix-rename@openssh.com";

/// The extensions announced to clients, with their versions.
pub(super) fn announced() -> HashMap<String, String> {
    [(LIMITS, "1"), (POSIX_RENAME, "1"), (FSYNC, "1"), (STATVFS, "2")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

impl Fs {
    /// Answers one `SSH_FXP_EXTENDED` request.
    pub(super) async fn extension(
        &mut self,
        id: u32,
        request: &str,
        data: &[u8],
    ) -> Result<Packet, StatusReply> {
        let mut r = data;
        match request {
            LIMITS => {
                let limits = LimitsExtension {
                    max_packet_len: u64::from(super::super::MAX_CLIENT_PACKET),
                    max_read_len: u64::from(files::MAX_READ),
                    max_write_len: u64::from(files::MAX_READ),
                    // 0 = not stated: clients keep their own pipelining depth; the limit is
                    // still enforced per session.
                    max_open_handles: 0,
                };
                reply(id, &limits)
            }
            POSIX_RENAME => {
                let (Some(old), Some(new)) = (take_string(&mut r), take_string(&mut r)) else {
                    return Err(bad_request(request));
                };
                Ok(Packet::Status(self.rename_upload(id, &old, &new).await?))
            }
            FSYNC => {
                let handle = take_string(&mut r).ok_or_else(|| bad_request(request))?;
                if !self.handles.contains_key(&handle) {
                    return Err(failure("invalid handle"));
                }
                Ok(Packet::Status(ok(id, "uploads are made durable when they are filed (closed or renamed)")))
            }
            STATVFS => {
                let path = take_string(&mut r).ok_or_else(|| bad_request(request))?;
                self.resolve("statvfs", &path).await?;
                let root = self.ctx.intake.app().layout().root().to_owned();
                let st = tokio::task::spawn_blocking(move || rustix::fs::statvfs(&root))
                    .await
                    .map_err(|_| failure("internal error"))?
                    .map_err(|e| {
                        tracing::warn!(error = %e, "statvfs of the data directory failed");
                        failure("the file system cannot be queried now; try again later")
                    })?;
                let st = Statvfs {
                    block_size: st.f_bsize,
                    fragment_size: st.f_frsize,
                    blocks: st.f_blocks,
                    blocks_free: st.f_bfree,
                    blocks_avail: st.f_bavail,
                    inodes: st.f_files,
                    inodes_free: st.f_ffree,
                    inodes_avail: st.f_favail,
                    fs_id: st.f_fsid,
                    // SSH2_FXE_STATVFS_ST_NOSUID: nothing here is executable.
                    flags: 2,
                    name_max: MAX_NAME_BYTES as u64,
                };
                reply(id, &st)
            }
            HARDLINK => {
                Err(self.refuse("hardlink", None, "links_not_allowed", "links are not allowed").await)
            }
            _ => Err(self.unimplemented()),
        }
    }
}

/// An `SSH_FXP_EXTENDED_REPLY` carrying `body`.
fn reply(id: u32, body: &impl serde::Serialize) -> Result<Packet, StatusReply> {
    let data = russh_sftp::ser::to_bytes(body).map_err(|_| failure("internal error"))?.to_vec();
    Ok(Packet::ExtendedReply(ExtendedReply { id, data }))
}

fn bad_request(request: &str) -> StatusReply {
    StatusCode::BadMessage.with_message(format!("malformed {request} request"))
}

/// Reads one SSH string (u32 length + UTF-8 bytes) from `r`.
fn take_string(r: &mut &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(r.get(..4)?.try_into().ok()?) as usize;
    let s = r.get(4..4 + len)?;
    let out = String::from_utf8(s.to_vec()).ok()?;
    *r = &r[4 + len..];
    Some(out)
}
