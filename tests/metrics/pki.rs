//! The certificate and CRL gauges against the dates openssl reads in the same files.

use std::path::Path;
use std::process::Command;

use crate::common::Server;
use crate::{now, scrape};

/// `openssl <args> -in FILE -noout -dateopt iso_8601`: its `key=value` lines.
fn openssl(kind: &str, file: &Path, fields: &[&str]) -> Vec<(String, String)> {
    let o = Command::new("openssl")
        .arg(kind)
        .arg("-in")
        .arg(file)
        .args(["-noout", "-dateopt", "iso_8601"])
        .args(fields)
        .output()
        .expect("run openssl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect()
}

/// An openssl ISO 8601 date (`2027-12-04 19:00:00Z`) as Unix seconds.
fn unix(date: &str) -> f64 {
    date.replacen(' ', "T", 1)
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{e}: {date}"))
        .as_second() as f64
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    &fields.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("no {key} in {fields:?}")).1
}

#[test]
fn certificate_and_crl_gauges_agree_with_openssl() {
    let s = Server::start();
    let m = scrape(&s);
    let at = now();
    let pki = s.inst.dir.join("pki");
    for (role, file) in [("server", pki.join("server.crt")), ("client_ca", pki.join("ca.crt"))] {
        let f = openssl("x509", &file, &["-serial", "-enddate"]);
        let serial = field(&f, "serial").trim_start_matches('0').to_ascii_lowercase();
        let until = unix(field(&f, "notAfter")) - at;
        let prefix = format!("meldpunt_tls_certificate_expiry_seconds{{role=\"{role}\",");
        let (key, v) = m
            .iter()
            .find(|(k, _)| k.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {role} certificate gauge in {m:#?}"));
        assert!(key.contains(&format!("file=\"{}\"", file.display())), "{key}");
        let label = key.split("serial=\"").nth(1).unwrap().trim_end_matches("\"}");
        assert_eq!(label.trim_start_matches('0').to_ascii_lowercase(), serial, "{key}");
        assert!((v - until).abs() < 30.0 && *v > 0.0, "{role}: gauge {v}, openssl {until}");
    }
    let crl = pki.join("ca.crl");
    let f = openssl("crl", &crl, &["-lastupdate", "-nextupdate"]);
    let label = format!("{{file=\"{}\"}}", crl.display());
    let age = m[&format!("meldpunt_crl_age_seconds{label}")];
    let next = m[&format!("meldpunt_crl_next_update_seconds{label}")];
    assert!((age - (at - unix(field(&f, "lastUpdate")))).abs() < 30.0 && age >= 0.0, "age {age}");
    assert!((next - (unix(field(&f, "nextUpdate")) - at)).abs() < 30.0 && next > 0.0, "next {next}");
    assert_eq!(m["meldpunt_crl_stale"], 0.0);
}
