//! The embedded default: a scratch installation with fictitious parties and data, used by
//! `meldpunt demo`, the integration tests and the benchmarks.

pub mod client;
pub mod https_client;
pub mod municipal;
pub mod pki;
pub mod sample;
pub mod setup;
