//! The audit copy to syslog (docs/audit.md "Streaming to syslog") with real sockets: a UDP
//! collector and a unix datagram socket receive every event as an RFC 5424 message without
//! personal data; a TCP collector that is down costs nothing (uploads are accepted, the audit
//! log is complete, the failures are counted and warned about once) and gets the octet-counted
//! messages once it is up.

mod common;

use std::io::Read as _;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::{Server, local_file, sample_csv, text};

/// A configuration edit that sends the audit copy to `target`.
fn to(target: String) -> impl FnOnce(&mut String) {
    move |t: &mut String| t.push_str(&format!("\n[audit]\nsyslog = \"{target}\"\n"))
}

/// Uploads a sample file as vitens over SFTP; its records' personal data (surnames, streets,
/// postcodes, phone numbers), which no message may hold.
fn upload(s: &Server, name: &str) -> Vec<String> {
    let csv = sample_csv("S", "drinkwater", 5);
    let f = local_file(s, name, &csv);
    let o = s.sftp("vitens", &s.key("vitens"), &format!("put {} /inbox/{name}\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let mut personal = Vec::new();
    for line in String::from_utf8(csv).unwrap().lines().skip(1) {
        let f: Vec<&str> = line.split(';').collect();
        personal.extend([f[5], f[7], f[11], f[13]].iter().filter(|v| v.len() >= 4).map(|v| v.to_string()));
    }
    assert!(!personal.is_empty());
    personal
}

/// One RFC 5424 message taken apart: (PRI, header fields, structured data, MSG as JSON).
struct Message {
    pri: u8,
    header: Vec<String>,
    sd: String,
    event: serde_json::Value,
}

/// Parses and checks a message: `<PRI>1 TIMESTAMP HOSTNAME meldpunt PROCID MSGID [SD] JSON`.
fn parse(m: &str) -> Message {
    assert!(m.is_ascii(), "{m}");
    let rest = m.strip_prefix('<').unwrap_or_else(|| panic!("no PRI: {m}"));
    let (pri, rest) = rest.split_once('>').unwrap();
    let pri: u8 = pri.parse().unwrap();
    assert!(pri <= 191, "{m}");
    let mut parts = rest.splitn(7, ' ');
    let header: Vec<String> = (0..6).map(|_| parts.next().unwrap().to_owned()).collect();
    assert_eq!(header[0], "1", "version: {m}");
    header[1].parse::<jiff::Timestamp>().unwrap_or_else(|e| panic!("timestamp {e}: {m}"));
    assert!(!header[2].is_empty() && header[2].chars().all(|c| c.is_ascii_graphic()), "hostname: {m}");
    assert_eq!(header[3], "meldpunt", "app-name: {m}");
    assert!(header[4].parse::<u32>().is_ok(), "procid: {m}");
    let rest = parts.next().unwrap();
    let (sd, json) = rest.split_once("] ").unwrap_or_else(|| panic!("no structured data: {m}"));
    assert!(sd.starts_with("[meldpunt@32473 seq=\""), "{m}");
    let event: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(event["action"], header[5].as_str(), "msgid is the action: {m}");
    let severity = match event["outcome"].as_str().unwrap() {
        "ok" => 6,
        "denied" => 4,
        _ => 3,
    };
    assert_eq!(pri, 13 * 8 + severity, "facility log audit: {m}");
    Message { pri, header, sd: sd.to_owned(), event }
}

/// Checks the received messages against the audit log: every event with its hash, none with
/// personal data. Returns the actions seen.
fn check_against_audit(s: &Server, messages: &[String], personal: &[String]) -> Vec<String> {
    let audit = s.audit();
    for m in messages {
        for p in personal {
            assert!(!m.contains(p.as_str()), "personal data {p:?} in {m}");
        }
        let msg = parse(m);
        let seq = msg.event["seq"].as_u64().unwrap();
        let rec = audit.iter().find(|r| r.seq == seq).unwrap_or_else(|| panic!("no event {seq}"));
        assert_eq!(msg.event["hash"], rec.hash.as_str(), "{m}");
        assert!(msg.sd.contains(&format!("hash=\"{}\"", rec.hash)), "{m}");
        assert!(msg.pri > 0 && msg.header.len() == 6);
    }
    messages.iter().map(|m| parse(m).event["action"].as_str().unwrap().to_owned()).collect()
}

/// Receives datagrams with `recv` until `done` says the messages so far suffice (20 s at most).
fn gather(
    mut recv: impl FnMut(&mut [u8]) -> std::io::Result<usize>,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let (mut out, start, mut buf) = (Vec::new(), Instant::now(), vec![0u8; 65536]);
    while !done(&out) {
        assert!(start.elapsed() < Duration::from_secs(20), "not every message came: {out:#?}");
        if let Ok(n) = recv(&mut buf) {
            out.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
    }
    out
}

fn has(actions: &[&str]) -> impl Fn(&[String]) -> bool {
    let actions: Vec<String> = actions.iter().map(|a| format!(" {a} [meldpunt@")).collect();
    move |got: &[String]| actions.iter().all(|a| got.iter().any(|m| m.contains(a.as_str())))
}

#[test]
fn a_udp_collector_gets_every_event_as_rfc5424() {
    let collector = UdpSocket::bind("127.0.0.1:0").unwrap();
    collector.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let s = Server::start_with(to(format!("udp://{}", collector.local_addr().unwrap())));
    let personal = upload(&s, "udp.csv");
    let got = gather(|b| collector.recv(b), has(&["start", "login", "upload", "receipt"]));
    let actions = check_against_audit(&s, &got, &personal);
    assert!(actions.contains(&"config_load".to_owned()), "{actions:?}");
}

#[test]
fn a_unix_datagram_socket_gets_them_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sock");
    let collector = UnixDatagram::bind(&path).unwrap();
    collector.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let s = Server::start_with(to(format!("unix:{}", path.display())));
    let personal = upload(&s, "unix.csv");
    let got = gather(|b| collector.recv(b), has(&["start", "upload", "receipt"]));
    check_against_audit(&s, &got, &personal);
}

#[test]
fn a_collector_that_is_down_costs_nothing_and_gets_the_messages_once_up() {
    // A port with nothing listening on it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let s = Server::start_logged(to(format!("tcp://127.0.0.1:{port}")));
    for i in 0..3 {
        upload(&s, &format!("down-{i}.csv"));
    }
    assert_eq!(s.wait_receipts("vitens", 3).len(), 3, "every upload was accepted");
    let audit = s.audit();
    for action in ["upload", "receipt"] {
        assert_eq!(
            audit.iter().filter(|r| r.action == action).count(),
            3,
            "{action} events in the audit log"
        );
    }
    let url = format!("http://127.0.0.1:{}/metrics", s.admin_port);
    let o = std::process::Command::new("curl").args(["-sS", &url]).output().unwrap();
    let metrics = String::from_utf8(o.stdout).unwrap();
    let failed = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"meldpunt_audit_syslog_messages_total{outcome="failed"} "#))
        .unwrap_or_else(|| panic!("no failure counter:\n{metrics}"));
    assert!(failed.parse::<u64>().unwrap() >= 3, "{failed}");
    let log = std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap();
    let warned = log.lines().filter(|l| l.contains("could not be copied to syslog")).count();
    assert_eq!(warned, 1, "warned once within the minute:\n{log}");

    // The collector comes up: later events reach it, octet-counted (RFC 6587).
    let collector = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let start = Instant::now();
    let mut personal = Vec::new();
    let mut stream = loop {
        personal.extend(upload(&s, &format!("up-{}.csv", start.elapsed().as_millis())));
        collector.set_nonblocking(true).unwrap();
        if let Ok((c, _)) = collector.accept() {
            break c;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the daemon never connected");
        std::thread::sleep(Duration::from_millis(300));
    };
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    upload(&s, "after.csv");
    let mut bytes = Vec::new();
    let start = Instant::now();
    let mut messages = Vec::new();
    while !has(&["upload", "receipt"])(&messages) {
        assert!(start.elapsed() < Duration::from_secs(20), "no framed messages: {messages:#?}");
        let mut buf = [0u8; 65536];
        if let Ok(n) = stream.read(&mut buf) {
            bytes.extend_from_slice(&buf[..n]);
        }
        // Take whole frames: LENGTH SP MESSAGE.
        while let Some(sp) = bytes.iter().position(|b| *b == b' ') {
            let len: usize = std::str::from_utf8(&bytes[..sp]).unwrap().parse().expect("octet count");
            if bytes.len() < sp + 1 + len {
                break;
            }
            messages.push(String::from_utf8(bytes[sp + 1..sp + 1 + len].to_vec()).unwrap());
            bytes.drain(..sp + 1 + len);
        }
    }
    check_against_audit(&s, &messages, &personal);
}

#[test]
fn check_validates_the_setting_and_warns_of_a_collector_it_cannot_reach() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no.sock");
    let s = Server::start_with(to(format!("unix:{}", missing.display())));
    let o = common::meldpunt(&s, &["check"]);
    assert!(o.status.success(), "a collector that is down is no error: {}", text(&o));
    assert!(text(&o).contains("warning:") && text(&o).contains("no.sock"), "{}", text(&o));

    // A value that names no transport is an error with its line and fix.
    let config = std::fs::read_to_string(&s.inst.config).unwrap();
    let line = config.lines().position(|l| l.starts_with("syslog = ")).unwrap() + 1;
    std::fs::write(&s.inst.config, config.replace("syslog = \"unix:", "syslog = \"")).unwrap();
    let o = common::meldpunt(&s, &["check"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("meldpunt.toml:{line}:")), "{}", text(&o));
    assert!(text(&o).contains("udp://HOST:514"), "the fix: {}", text(&o));
}
