//! meldpunt: the secure Digitaal Meldpunt for Dutch vroegsignalering.
//!
//! Data flows ingest → intake → vault → batch → deliver → feedback → retention; the domain
//! types are free of I/O, and audit and config are small shared services.

pub mod admin;
pub mod app;
pub mod audit;
pub mod batch;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod domain;
pub mod durable;
pub mod feedback;
pub mod intake;
pub mod layout;
pub mod metrics;
pub mod pickup;
pub mod retention;
pub mod state;
pub mod transport;
pub mod vault;
