//! SFTP (docs/folders-and-protocols.md): public-key SSH logins, one virtual tree per party, uploads into intake.
//!
//! - `server`: the listener ([`serve`]): the defender's gate at accept, timeouts, russh tuning.
//! - `ssh`: the russh handler: authentication (`auth`), session admission (party slots in
//!   `transport/defender/party.rs`),
//!   channels (only the `sftp` subsystem).
//! - `fs`: the russh-sftp handler of one channel over the virtual tree (`paths`), with
//!   uploads in `upload` (creditors) and `feedback_upload` (municipalities), the real
//!   receipt/feedback/pickup folders in `files`, and `coverage` to tell complete transfers.
//! - `packet_limit`: SFTP packets over [`MAX_CLIENT_PACKET`] end their channel with a message,
//!   before russh-sftp reads them.
//! - `offer`: the algorithms offered in the key exchange (modern only, pinned by `tests/offer.rs`).
//! - `hostkey`: the host key ([`load_or_create_host_key`]), created on first start.
//!
//! Every handler state lives in the connection: when a client goes away its handlers are
//! dropped, and with them any upload not yet committed (nothing is processed).

mod attrs;
mod auth;
mod channel_slot;
mod feedback_upload;
mod fs;
mod hostkey;
mod killable;
mod offer;
mod packet_limit;
mod recent;
mod server;
mod session;
mod ssh;
mod upload;

#[cfg(test)]
mod tests;

pub use hostkey::load_or_create_host_key;
pub use server::{serve, serve_with_key};

/// Largest SFTP packet accepted from a client (bytes).
pub(crate) const MAX_CLIENT_PACKET: u32 = 256 * 1024;
