//! Delivery to municipalities after the batch: pickups recorded and acknowledged, picked-up
//! bundles removed after `[pickup] retention_days`, and unpicked bundles watched.
//!
//! The bundles themselves are written by the batch ([`crate::batch::bundle`]); the protocols
//! (SFTP `/pickup`, HTTPS `/v1/pickup`) read and remove them through the confined file access
//! of `transport/folders` and report here.

pub mod expire;
pub mod folder;
pub mod record;
pub mod unpicked;
