//! The party-folder model both transports serve: the virtual tree of each party
//! ([`paths`]), the real folders behind it, confined ([`files`], opened beneath the folder at
//! the system-call level by [`beneath`]), and which byte ranges of a download were sent
//! ([`coverage`]).

pub mod beneath;
pub mod coverage;
pub mod files;
pub mod paths;
