//! The party-folder model both transports serve: the virtual tree of each party
//! ([`paths`]), the real folders behind it, confined ([`files`]), and which byte ranges of a
//! download were sent ([`coverage`]).

pub mod coverage;
pub mod files;
pub mod paths;
