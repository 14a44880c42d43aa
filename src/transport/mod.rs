//! Ingest: the transports that feed [`intake`](crate::intake).
//!
//! Each transport authenticates a party, maps its protocol onto the intake lifecycle
//! (`Intake::begin` → `Upload::write_at` → `finish` → `Received::commit`) and serves the
//! party's own folders (receipts, feedback, pickup) from the data layout. Transports decide
//! nothing about the contents of a file; intake does.
//!
//! - [`sftp`]: SSH/SFTP with public-key authentication (russh + russh-sftp).
//! - [`https`]: HTTPS with mutual TLS (rustls + axum).
//! - [`spool`]: a creditor's local spool folder, watched; its complete files enter the intake.
//! - [`defender`]: what both share against abuse: per-origin scores and bans, the accept
//!   gate with per-origin limits, per-party slots.

pub mod defender;
pub mod folders;
pub mod https;
pub mod sftp;
pub mod spool;
