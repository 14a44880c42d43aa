//! The signal-file reader, JSON Lines (`intake::validate::validate` with `Format::Jsonl`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt::intake::validate::Format;

fuzz_target!(|data: &[u8]| meldpunt_fuzz::signal_file(data, Format::Jsonl));
