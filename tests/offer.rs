//! What the daemon offers, seen the way a client sees it, against pinned lists (issue 20,
//! item 7; docs/folders-and-protocols.md "Algorithms"): the SSH KEXINIT read off the wire, and
//! the TLS versions, suites and groups the HTTPS listener accepts, probed one by one with
//! `openssl s_client` (and a rustls client for the post-quantum group, which OpenSSL 3.0 lacks).
//! A change to either offer fails here until the pinned list is changed with it, on purpose.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{NO_HOST_CHECK, Server, text};

/// The SSH offer: kex, host key, ciphers and MACs (each both directions), compression.
const SSH_KEX: &[&str] = &[
    "mlkem768x25519-sha256",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ext-info-s",
    "kex-strict-s-v00@openssh.com",
];
const SSH_HOST_KEY: &[&str] = &["ssh-ed25519"];
const SSH_CIPHERS: &[&str] = &[
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-gcm@openssh.com",
    "aes256-ctr",
    "aes128-ctr",
];
const SSH_MACS: &[&str] = &["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com"];

/// The TLS offer with the demo's ECDSA server certificate (an RSA one would show the
/// `ECDHE-RSA-` twins of the TLS 1.2 suites instead; `src/transport/https/tls.rs` pins both).
const TLS_VERSIONS: &[&str] = &["TLSv1.2", "TLSv1.3"];
const TLS12_SUITES: &[&str] =
    &["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"];
const TLS13_SUITES: &[&str] =
    &["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];
const TLS_GROUPS: &[&str] = &["P-256", "P-384", "X25519"];

/// A daemon whose defender never bans loopback (the probes fail many handshakes on purpose).
fn server() -> Server {
    Server::start_with(|t| t.push_str("\n[defender]\nallow = [\"127.0.0.0/8\"]\n"))
}

/// The server's KEXINIT name-lists, read in clear before any key exchange.
fn ssh_kexinit(port: u16) -> Vec<Vec<String>> {
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    sock.write_all(b"SSH-2.0-offer_probe\r\n").unwrap();
    let mut r = BufReader::new(sock);
    let mut line = String::new();
    while !line.starts_with("SSH-") {
        line.clear();
        assert!(r.read_line(&mut line).unwrap() > 0, "no SSH banner");
    }
    let mut len = [0u8; 4];
    r.read_exact(&mut len).unwrap();
    let mut packet = vec![0u8; u32::from_be_bytes(len) as usize];
    r.read_exact(&mut packet).unwrap();
    let payload = &packet[1..packet.len() - packet[0] as usize];
    assert_eq!(payload[0], 20, "the first packet is not a KEXINIT");
    let mut at = 17; // message number, 16-byte cookie
    (0..10)
        .map(|_| {
            let n = u32::from_be_bytes(payload[at..at + 4].try_into().unwrap()) as usize;
            let list = std::str::from_utf8(&payload[at + 4..at + 4 + n]).unwrap();
            at += 4 + n;
            list.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()
        })
        .collect()
}

#[test]
fn the_ssh_offer_is_modern_and_pinned() {
    let s = server();
    let lists = ssh_kexinit(s.port);
    let (kex, host, cipher, mac) = (&lists[0], &lists[1], &lists[2], &lists[4]);
    // The rules first, so that a failure says which one broke.
    assert_eq!(
        kex.first().map(String::as_str),
        Some("mlkem768x25519-sha256"),
        "post-quantum hybrid first: {kex:?}"
    );
    assert!(kex.iter().all(|k| !k.starts_with("diffie-hellman")), "finite-field DH offered (DHEat): {kex:?}");
    assert!(kex.iter().any(|k| k == "kex-strict-s-v00@openssh.com"), "no strict kex (Terrapin): {kex:?}");
    assert!(mac.iter().all(|m| m.ends_with("-etm@openssh.com")), "encrypt-and-MAC offered: {mac:?}");
    assert!(cipher.iter().all(|c| !c.contains("cbc") && !c.contains("3des")), "CBC offered: {cipher:?}");
    // Then the whole offer, exactly.
    let pinned = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(kex, &pinned(SSH_KEX), "kex");
    assert_eq!(host, &pinned(SSH_HOST_KEY), "host key algorithms");
    assert_eq!(cipher, &pinned(SSH_CIPHERS), "ciphers client to server");
    assert_eq!(&lists[3], &pinned(SSH_CIPHERS), "ciphers server to client");
    assert_eq!(mac, &pinned(SSH_MACS), "MACs client to server");
    assert_eq!(&lists[5], &pinned(SSH_MACS), "MACs server to client");
    assert_eq!(&lists[6], &pinned(&["none"]), "compression");
    assert_eq!(&lists[7], &pinned(&["none"]), "compression");
    assert!(lists[8].is_empty() && lists[9].is_empty(), "languages");
}

/// OpenSSH `ssh` limited by `options`; its stderr.
fn ssh_refusal(s: &Server, options: &[&str]) -> String {
    let o = Command::new("ssh")
        .args(["-p", &s.port.to_string()])
        .args(NO_HOST_CHECK)
        .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"])
        .args(options)
        .args(["nobody@127.0.0.1", "true"])
        .output()
        .expect("run ssh (install openssh-client)");
    assert!(!o.status.success(), "ssh {options:?} got in");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn finite_field_dh_and_encrypt_and_mac_clients_are_refused_at_kex() {
    let s = server();
    for kex in [
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group14-sha256",
        "diffie-hellman-group-exchange-sha256",
    ] {
        let err = ssh_refusal(&s, &["-o", &format!("KexAlgorithms={kex}")]);
        assert!(err.contains("no matching key exchange method found"), "{kex}: {err}");
    }
    let err = ssh_refusal(&s, &["-o", "Ciphers=aes128-ctr", "-o", "MACs=hmac-sha2-256,hmac-sha2-512"]);
    assert!(err.contains("no matching MAC found"), "{err}");
}

#[test]
fn openssh_and_paramiko_still_log_in_with_what_is_offered() {
    let s = server();
    let key = s.key("vitens");
    let o = s.sftp_with("vitens", &key, &["-v"], "ls /\n");
    let log = text(&o);
    assert!(o.status.success(), "{log}");
    assert!(log.contains("kex: algorithm: curve25519-sha256"), "{log}");
    // paramiko has no AEAD cipher: AES-CTR with an encrypt-then-MAC MAC.
    let o = s.paramiko(
        "vitens",
        &key,
        "t, sftp = connect()\nsftp.listdir('/')\nprint(t.local_cipher, t.local_mac, t.kex_engine.NAME if hasattr(t.kex_engine, 'NAME') else '')",
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("-ctr hmac-sha2-") && out.contains("-etm@openssh.com"), "{out}");
}

/// `openssl s_client` against the HTTPS listener with the demo client certificate; the
/// negotiated (version, suite, group) if the handshake completed.
fn s_client(s: &Server, args: &[&str]) -> Option<(String, String, String)> {
    let (cert, key) = s.inst.tls_pair("vitens");
    let o = Command::new("openssl")
        .args(["s_client", "-brief", "-connect", &format!("127.0.0.1:{}", s.https_port)])
        .args(["-servername", "localhost", "-CAfile"])
        .arg(s.inst.ca_cert())
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl (install openssl)");
    let err = String::from_utf8_lossy(&o.stderr);
    if !err.contains("CONNECTION ESTABLISHED") {
        return None;
    }
    let field = |name: &str| {
        err.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_owned()).unwrap_or_default()
    };
    Some((field("Protocol version:"), field("Ciphersuite:"), group_name(&field("Server Temp Key:"))))
}

/// The group in OpenSSL's "Server Temp Key" line ("X25519, 253 bits", "ECDH, prime256v1, 256
/// bits", "DH, 2048 bits"), by the name `-groups` takes.
fn group_name(temp_key: &str) -> String {
    let known = [("X25519", "X25519"), ("X448", "X448"), ("prime256v1", "P-256"), ("secp384r1", "P-384")];
    let named = known.iter().find(|(k, _)| temp_key.contains(k)).map(|(_, n)| n.to_string());
    named
        .or_else(|| temp_key.contains("secp521r1").then(|| "P-521".into()))
        .unwrap_or_else(|| temp_key.to_owned())
}

/// What `openssl ciphers` knows for TLS 1.2 and below, every one of them.
fn every_legacy_suite() -> Vec<String> {
    let o = Command::new("openssl")
        .args(["ciphers", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("run openssl");
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .split(':')
        .filter(|c| !c.starts_with("TLS_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_tls_offer_is_ncsc_good_and_pinned() {
    let s = server();
    let mut versions = Vec::new();
    for (flag, name) in
        [("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1"), ("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")]
    {
        if s_client(&s, &[flag, "-cipher", "ALL:@SECLEVEL=0"]).is_some() {
            versions.push(name.to_owned());
        }
    }
    assert_eq!(versions, TLS_VERSIONS, "versions");

    let legacy = every_legacy_suite();
    assert!(legacy.len() > 50, "openssl knows only {legacy:?}");
    let mut tls12: Vec<String> = legacy
        .iter()
        .filter_map(|c| s_client(&s, &["-tls1_2", "-cipher", &format!("{c}:@SECLEVEL=0")]).map(|r| r.1))
        .collect();
    tls12.sort();
    assert_eq!(tls12, TLS12_SUITES, "TLS 1.2 suites");

    let mut tls13: Vec<String> = [
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    ]
    .iter()
    .filter_map(|c| s_client(&s, &["-tls1_3", "-ciphersuites", c]).map(|r| r.1))
    .collect();
    tls13.sort();
    assert_eq!(tls13, TLS13_SUITES, "TLS 1.3 suites");

    // TLS 1.3: one group at a time. TLS 1.2: each group before P-256, which an OpenSSL
    // client needs to accept the P-256 server certificate; rustls follows the client's order.
    let candidates =
        ["X25519", "X448", "P-256", "P-384", "P-521", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe8192"];
    for (version, tail) in [("-tls1_2", ":P-256"), ("-tls1_3", "")] {
        let mut groups: Vec<String> = candidates
            .iter()
            .filter_map(|g| s_client(&s, &[version, "-groups", &format!("{g}{tail}")]).map(|r| r.2))
            .collect();
        groups.sort();
        groups.dedup();
        assert_eq!(groups, TLS_GROUPS, "groups with {version}");
    }
}

/// A rustls client offering only X25519MLKEM768; the group the handshake settled on.
fn pq_handshake(s: &Server) -> Option<rustls::NamedGroup> {
    use rustls::crypto::aws_lc_rs;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let provider = rustls::crypto::CryptoProvider {
        kx_groups: vec![aws_lc_rs::kx_group::X25519MLKEM768],
        ..aws_lc_rs::default_provider()
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_file(s.inst.ca_cert()).unwrap()).unwrap();
    let (cert, key): (PathBuf, PathBuf) = s.inst.tls_pair("vitens");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![CertificateDer::from_pem_file(cert).unwrap()],
            PrivateKeyDer::from_pem_file(key).unwrap(),
        )
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", s.https_port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).ok()?;
    }
    conn.negotiated_key_exchange_group().map(|g| g.name())
}

#[test]
fn the_post_quantum_hybrid_group_is_accepted() {
    let s = server();
    assert_eq!(pq_handshake(&s), Some(rustls::NamedGroup::X25519MLKEM768));
}
