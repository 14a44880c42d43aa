//! The exposition text's rules and the counters.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// Parses the exposition text, checking its rules: HELP then TYPE once per family before
/// its samples, samples of a family together, valid names, no duplicate series.
fn parse(text: &str) -> BTreeMap<String, f64> {
    assert!(text.ends_with('\n'), "ends with a newline");
    let valid = |n: &str| n.chars().all(|c| c == '_' || c.is_ascii_lowercase());
    let (mut series, mut done) = (BTreeMap::new(), BTreeSet::new());
    let (mut current, mut typed) = (String::new(), false);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap().to_owned();
            assert!(valid(&name) && done.insert(name.clone()), "one HELP per family: {line}");
            (current, typed) = (name, false);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(name == current && !typed, "TYPE follows its HELP once: {line}");
            assert!(kind == "counter" || kind == "gauge", "{line}");
            assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
            typed = true;
        } else {
            let (key, value) = line.rsplit_once(' ').unwrap();
            let name = key.split('{').next().unwrap();
            assert!(typed && name == current, "sample after its family's HELP and TYPE: {line}");
            if let Some(labels) = key.strip_prefix(name).filter(|l| !l.is_empty()) {
                let inner = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}')).unwrap();
                for pair in inner.split(',') {
                    let (k, v) = pair.split_once('=').unwrap();
                    assert!(valid(k) && v.len() > 2 && v.starts_with('"') && v.ends_with('"'), "{line}");
                }
            }
            let value: f64 = value.parse().unwrap();
            assert!(series.insert(key.to_owned(), value).is_none(), "duplicate series {key}");
        }
    }
    series
}

#[test]
fn every_series_from_the_start() {
    let s = parse(&Metrics::new().render());
    assert_eq!(s.len(), 4 * 3 + 3 + 4 + 2 * 2 + 3 + 2 * 8 + 2 + 1 + 2 + 1 + 2 + 2 + 1);
    assert_eq!(s.iter().filter(|(_, v)| **v == 0.0).count(), s.len() - 1);
    assert!((1.7e9..1e11).contains(&s["meldpunt_start_time_seconds"]), "Unix seconds");
}

#[test]
fn reloads_and_syslog_copies() {
    let m = Metrics::new();
    m.reload(ReloadOutcome::Applied);
    m.reload(ReloadOutcome::Applied);
    m.reload(ReloadOutcome::Refused);
    m.syslog(SyslogOutcome::Failed);
    let s = parse(&m.render());
    assert_eq!(s[r#"meldpunt_config_reloads_total{outcome="applied"}"#], 2.0);
    assert_eq!(s[r#"meldpunt_config_reloads_total{outcome="refused"}"#], 1.0);
    assert_eq!(s[r#"meldpunt_audit_syslog_messages_total{outcome="sent"}"#], 0.0);
    assert_eq!(s[r#"meldpunt_audit_syslog_messages_total{outcome="failed"}"#], 1.0);
}

#[test]
fn unpicked_gauges() {
    let m = Metrics::new();
    m.set_unpicked(7, 2);
    let s = parse(&m.render());
    assert_eq!(s[r#"meldpunt_unpicked_bundles{when="any"}"#], 7.0);
    assert_eq!(s[r#"meldpunt_unpicked_bundles{when="before_shred"}"#], 2.0);
}

#[test]
fn counts() {
    let m = Metrics::new();
    let c = Counts { total: 10, accepted: 7, rejected: 2, not_forwarded: 1, replaced: 3 };
    m.upload_filed(Protocol::Sftp, FileStatus::AcceptedWithErrors, 1000, &c);
    m.upload_filed(Protocol::Sftp, FileStatus::AcceptedWithErrors, 24, &c);
    m.upload_filed(Protocol::Https, FileStatus::Duplicate, 5, &Counts::default());
    m.upload_filed(Protocol::Cli, FileStatus::Rejected, 7, &Counts::default());
    m.upload_aborted(Protocol::Https);
    m.login(LoginProtocol::Sftp, LoginOutcome::Ok);
    m.login(LoginProtocol::Sftp, LoginOutcome::Failed);
    m.login(LoginProtocol::Sftp, LoginOutcome::Failed);
    let s = parse(&m.render());
    let expect = [
        (r#"meldpunt_uploads_total{protocol="sftp",status="accepted_with_errors"}"#, 2.0),
        (r#"meldpunt_uploads_total{protocol="https",status="duplicate"}"#, 1.0),
        (r#"meldpunt_uploads_total{protocol="cli",status="rejected"}"#, 1.0),
        (r#"meldpunt_upload_bytes_total{protocol="sftp"}"#, 1024.0),
        (r#"meldpunt_upload_bytes_total{protocol="https"}"#, 5.0),
        (r#"meldpunt_upload_bytes_total{protocol="cli"}"#, 7.0),
        (r#"meldpunt_records_total{outcome="accepted"}"#, 14.0),
        (r#"meldpunt_records_total{outcome="rejected"}"#, 4.0),
        (r#"meldpunt_records_total{outcome="not_forwarded"}"#, 2.0),
        (r#"meldpunt_records_total{outcome="replaced"}"#, 6.0),
        (r#"meldpunt_logins_total{protocol="sftp",outcome="ok"}"#, 1.0),
        (r#"meldpunt_logins_total{protocol="sftp",outcome="failed"}"#, 2.0),
        (r#"meldpunt_uploads_aborted_total{protocol="https"}"#, 1.0),
    ];
    for (key, value) in expect {
        assert_eq!(s[key], value, "{key}");
    }
    assert_eq!(s.values().filter(|v| **v != 0.0).count(), 14, "nothing else moved (+ start time)");
}

#[test]
fn protocol_of_credential() {
    assert_eq!(Protocol::from(&Credential::SshKey("SHA256:x".into())), Protocol::Sftp);
    assert_eq!(Protocol::from(&Credential::Certificate("ab".into())), Protocol::Https);
    assert_eq!(Protocol::from(&Credential::Operator), Protocol::Cli);
}
