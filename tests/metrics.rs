//! `/metrics` of the real daemon, scraped with curl (issue 21): the last batch run agrees with
//! the creditors' own batch reports, pickups move the pickup gauges, sessions and reloads are
//! counted, and the certificate and CRL gauges agree with what openssl reads in the files.

mod common;

#[path = "metrics/batch_pickup.rs"]
mod batch_pickup;
#[path = "metrics/pki.rs"]
mod pki;
#[path = "metrics/sessions_reloads.rs"]
mod sessions_reloads;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Server;

/// The samples of `/metrics`: series (name with labels, as written) → value.
pub fn scrape(s: &Server) -> BTreeMap<String, f64> {
    let url = format!("http://127.0.0.1:{}/metrics", s.admin_port);
    let o = Command::new("curl").args(["-sS", "--max-time", "10", &url]).output().expect("run curl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(out.insert(key.to_owned(), value).is_none(), "duplicate series {key}");
    }
    out
}

/// The value of one series, which must be there.
pub fn value(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    *m.get(key).unwrap_or_else(|| panic!("no series {key} in\n{m:#?}"))
}

/// Scrapes until `key` has `want` (20 s at most).
pub fn wait_for(s: &Server, key: &str, want: f64) {
    let start = Instant::now();
    loop {
        let m = scrape(s);
        if m.get(key) == Some(&want) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{key} never became {want}: {:?}", m.get(key));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Unix seconds now.
pub fn now() -> f64 {
    jiff::Timestamp::now().as_millisecond() as f64 / 1000.0
}
