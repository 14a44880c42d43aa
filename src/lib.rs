//! meldpunt: the secure Digitaal Meldpunt for Dutch vroegsignalering.
//!
//! Data flows transport → intake → vault → batch → pickup → feedback → retention over a pure
//! domain; config, layout, state, audit and metrics are small shared services, held together
//! by the [`app::App`] context. Each module imports only those of lower layers (the table is in
//! DEVELOPERS.md and `tests/layering.rs` checks it).

pub mod admin;
pub mod app;
pub mod audit;
pub mod batch;
pub mod cli;
pub mod clients;
pub mod config;
pub mod daemon;
pub mod ddas;
pub mod demo;
pub mod domain;
pub mod durable;
pub mod feedback;
pub mod intake;
pub mod layout;
pub mod metrics;
pub mod pickup;
pub mod retention;
pub mod signature;
pub mod state;
pub mod transport;
pub mod vault;
