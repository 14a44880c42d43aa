//! The meldpunt command line.
fn main() {}
