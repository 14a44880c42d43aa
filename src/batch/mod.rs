//! The monthly batch (docs/periods.md–§6): read a period's sealed signals, match and classify them per
//! household, route them to municipalities and deliver bundles encrypted to each.
//!
//! - `classify`: households, persons, meervoudig / opeenvolgend / herhaald (pure).
//! - `routing`: the routing table, postcode (+ house number range) → municipality (pure + import).
//! - `schedule`: when each period's batch is due, catch-up after downtime (pure, injected clock).
//! - `signals`: a period's signals out of the vault (corrections, objections).
//! - `history`: the months before a period, reduced to what its classification asks.
//! - `known`: the known-client lists a run marks signals `bekend` against.
//! - `parallel`: a small work pool (results in input order).
//! - `phases`: phase timings of a run, logged at debug level.
//! - `bundle`: CSV and JSON bundles encrypted with age, and the plaintext manifest.
//! - `publish`: staged files into the pickup folders; what feedback and reports keep of them.
//! - `report`: each creditor's batch report (delivered or not, and why).
//! - `sort`: what each municipality takes, and into which work queue (werkbak).
//! - `run`: one period's batch from start to delivery, crash-safe and exactly once.
//! - `scheduler`: the daemon's timer that runs due batches (and missed ones at start-up).
pub mod bundle;
pub mod classify;
pub mod history;
pub mod known;
pub mod parallel;
pub mod phases;
pub mod publish;
pub mod receivers;
pub mod report;
pub mod routing;
pub mod run;
pub mod schedule;
pub mod scheduler;
pub mod signals;
pub mod sort;
