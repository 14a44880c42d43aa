//! The configuration reader `config::Config::parse` (TOML → typed config, every problem at
//! once with file:line:column). Parsed as if it were `config/meldpunt.toml`, so relative
//! certificate and key paths of the example resolve. Inputs that could name a device or
//! /proc file (`dev`, `proc`, `sys`, TOML `\u` escapes) are skipped: the reader opens the
//! files a configuration names, and /dev/zero would never end.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use meldpunt::config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let lower = text.to_ascii_lowercase();
    if ["dev", "proc", "sys", "\\u", "fd"].iter().any(|s| lower.contains(s)) {
        return;
    }
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/meldpunt.toml"));
    match Config::parse(&path, text) {
        Ok(cfg) => {
            for c in &cfg.creditors {
                assert_eq!(cfg.creditor(&c.id).map(|x| &x.id), Some(&c.id));
                assert!(cfg.is_party(c.id.as_str()));
                let _ = cfg.creditor_named(&c.name);
            }
            for m in &cfg.municipalities {
                assert!(cfg.municipality(&m.code).is_some());
            }
        }
        Err(problems) => {
            assert!(!problems.0.is_empty(), "Err without problems");
            let _ = problems.to_string();
        }
    }
});
