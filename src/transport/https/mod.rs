//! HTTPS with mutual TLS (docs/folders-and-protocols.md): creditors push signal files and read receipts and feedback;
//! municipalities pick up bundles and send feedback.
//!
//! - `tls`: the rustls configuration (TLS 1.3 / 1.2 NCSC "good" suites, no resumption) and
//!   its reloading; CRLs past `nextUpdate` fail every verification.
//! - `crl_watch`: the timer (and the daemon's nudge) that reloads a changed certificate, key,
//!   CA or CRL file and reports stale CRLs.
//! - `identity`: a verified client certificate → fingerprint and OIN.
//! - `server`: accept loop, handshake, party lookup, per-request certificate guard.
//! - `routes`: the API; uploads go through [`Intake`](crate::intake::Intake) exactly as SFTP
//!   uploads do.
//! - `pickup`: `/v1/pickup` (list, ranged download, acknowledge); `feedback`: `POST /v1/feedback`.
//! - `taken`: which byte ranges of a pickup file a municipality has taken (acknowledged by its
//!   TCP, over one request or several), and so when a download counts.
//! - `wire`: a connection's byte counts, what the client did after a response, and what the
//!   kernel says the peer acknowledged (`tcp_table`: `/proc/self/net/tcp`).
//! - `error`: JSON error answers.

mod client_purpose;
mod clients;
mod crl_watch;
mod error;
mod feedback;
pub mod identity;
mod pickup;
mod routes;
mod server;
mod taken;
mod tcp_table;
pub mod tls;
mod wire;

pub use server::serve;
