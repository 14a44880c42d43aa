//! The signal-file reader, CSV (`intake::validate::validate` with `Format::Csv`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt::intake::validate::Format;

fuzz_target!(|data: &[u8]| meldpunt_fuzz::signal_file(data, Format::Csv));
