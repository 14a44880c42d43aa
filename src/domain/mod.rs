//! The domain: parties, signals, periods, feedback results. Plain types and pure functions, no I/O.

pub mod chars;
pub mod clients;
pub mod contact;
pub mod deliver_to;
pub mod feedback;
pub mod household;
pub mod outcome;
pub mod party;
pub mod period;
pub mod retention;
pub mod rules;
pub mod seed;
pub mod signal;
pub mod signal_view;
pub mod surname;
pub mod upload;
pub mod werkbak;
