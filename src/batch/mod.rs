//! The monthly batch (SPEC §4–§6): read a period's sealed signals, match and classify them per
//! household, route them to municipalities and deliver bundles encrypted to each.
//!
//! - `classify`: households, persons, meervoudig / opeenvolgend / herhaald (pure).
//! - `routing`: the routing table, postcode (+ house number range) → municipality (pure + import).
//! - `schedule`: when each period's batch is due, catch-up after downtime (pure, injected clock).
pub mod classify;
pub mod routing;
pub mod schedule;
