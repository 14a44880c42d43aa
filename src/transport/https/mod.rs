//! HTTPS with mutual TLS (docs/folders-and-protocols.md): creditors push signal files and read receipts and feedback;
//! municipalities pick up bundles and send feedback.
//!
//! - `tls`: the rustls configuration (TLS 1.3 / 1.2 NCSC "good" suites, no resumption) and
//!   CRL reloading; CRLs past `nextUpdate` fail every verification.
//! - `crl_watch`: the timer that reloads changed CRL files and reports stale ones.
//! - `identity`: a verified client certificate → fingerprint and OIN.
//! - `server`: accept loop, handshake, party lookup, per-request certificate guard.
//! - `routes`: the API; uploads go through [`Intake`](crate::intake::Intake) exactly as SFTP
//!   uploads do.
//! - `pickup`: `/v1/pickup` (list, ranged download, acknowledge); `feedback`: `POST /v1/feedback`.
//! - `error`: JSON error answers.

mod client_purpose;
mod crl_watch;
mod error;
mod feedback;
pub mod identity;
mod pickup;
mod routes;
mod server;
pub mod tls;

pub use server::serve;
