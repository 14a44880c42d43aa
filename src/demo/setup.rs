//! Creates the demo installation (docs/commands.md `--keep` layout): configuration, routing table,
//! each party's SSH key and each municipality's age identity.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use anyhow::Context;
use rand::RngCore;
use russh::keys::PrivateKey;
use russh::keys::ssh_key::{LineEnding, private::Ed25519Keypair};

use super::pki;
use crate::domain::signal::Kind;
use crate::durable;

/// A demo creditor: id, display name, kinds.
pub struct DemoCreditor {
    /// Id and SFTP user.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// The kind it reports.
    pub kind: Kind,
}

/// The demo creditors.
pub const CREDITORS: [DemoCreditor; 4] = [
    DemoCreditor { id: "woonstad", name: "Woonstad Rotterdam", kind: Kind::Woninghuur },
    DemoCreditor { id: "vitens", name: "Vitens", kind: Kind::Drinkwater },
    DemoCreditor { id: "zilveren-kruis", name: "Zilveren Kruis", kind: Kind::Zorgverzekering },
    DemoCreditor { id: "eneco", name: "Eneco", kind: Kind::Elektriciteit },
];

/// The demo creditor recognised by the OIN in its certificate (a PKIoverheid-style
/// certificate), and that OIN; the others are recognised by fingerprint.
pub const OIN_CREDITOR: (&str, &str) = ("zilveren-kruis", "00000001234567890000");

/// The demo municipalities: code, name.
pub const MUNICIPALITIES: [(&str, &str); 2] = [("GM0505", "Dordrecht"), ("GM0642", "Zwijndrecht")];

/// A created installation.
pub struct Installation {
    /// Its folder.
    pub dir: PathBuf,
    /// `meldpunt.toml`.
    pub config: PathBuf,
}

impl Installation {
    /// The SSH private key of a party.
    pub fn ssh_key(&self, party: &str) -> PathBuf {
        self.dir.join("clients").join(party).join("ssh_ed25519")
    }

    /// The TLS client certificate and key of a party.
    pub fn tls_pair(&self, party: &str) -> (PathBuf, PathBuf) {
        let d = self.dir.join("clients").join(party);
        (d.join("tls.crt"), d.join("tls.key"))
    }

    /// The CA certificate that client and server certificates chain to.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("pki").join("ca.crt")
    }
}

/// A fresh ed25519 key from the OS RNG.
pub fn generate_ed25519(comment: &str) -> PrivateKey {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    zeroize::Zeroize::zeroize(&mut seed);
    key.set_comment(comment);
    key
}

/// Writes an OpenSSH private key (0600) and its `.pub`.
pub fn write_ssh_key(key: &PrivateKey, path: &Path) -> anyhow::Result<()> {
    let text = key.to_openssh(LineEnding::LF)?;
    durable::write_atomic(path, text.as_bytes(), true)?;
    let public = format!("{}\n", key.public_key().to_openssh()?);
    durable::write_atomic(&path.with_extension("pub"), public.as_bytes(), false)?;
    Ok(())
}

/// Creates the installation in `dir` (which must be empty or absent).
pub fn create(dir: &Path) -> anyhow::Result<Installation> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!("{} is not empty; give an empty or new folder to --dir", dir.display());
    }
    durable::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let mut toml = String::from(
        "# meldpunt demo installation — fictitious parties, NOT for production.\n\
         # Serve it with: meldpunt serve --config meldpunt.toml\n\n\
         data_dir = \"data\"\n\n[sftp]\nlisten = \"127.0.0.1:2222\"\n\n\
         [https]\nlisten = \"127.0.0.1:8443\"\ncert = \"pki/server.crt\"\nkey = \"pki/server.key\"\n\
         client_ca = [\"pki/ca.crt\"]\ncrl = [\"pki/ca.crl\"]\n\n\
         [admin]\nlisten = \"127.0.0.1:9090\"\n\n",
    );
    // The demo PKI: a CA, the server certificate, an (empty) CRL; client certificates below.
    let pki_dir = dir.join("pki");
    durable::create_private_dir(&pki_dir)?;
    let ca = pki::Ca::new("meldpunt demo CA")?;
    ca.write(&pki_dir.join("ca.crt"), &pki_dir.join("ca.key"))?;
    ca.server(&["localhost", "127.0.0.1"])?
        .write(&pki_dir.join("server.crt"), &pki_dir.join("server.key"))?;
    fs::write(pki_dir.join("ca.crl"), ca.crl(&[], 1)?)?;
    let client_cert = |party: &str, oin: Option<&str>| -> anyhow::Result<String> {
        let issued = ca.client(party, oin)?;
        let d = dir.join("clients").join(party);
        issued.write(&d.join("tls.crt"), &d.join("tls.key"))?;
        Ok(match oin {
            Some(o) => format!("oin = \"{o}\"\n"),
            None => format!("tls_fingerprints = [\"{}\"]\n", issued.fingerprint()),
        })
    };
    for c in &CREDITORS {
        let key_dir = dir.join("clients").join(c.id);
        durable::create_private_dir(&key_dir)?;
        write_ssh_key(&generate_ed25519(&format!("{}@demo", c.id)), &key_dir.join("ssh_ed25519"))?;
        let _ = write!(
            toml,
            "[[creditor]]\nid = \"{}\"\nname = \"{}\"\nphone = \"088 000 0000\"\nemail = \"vroegsignalering@{}.example\"\n\
             kinds = [\"{}\"]\nagreements = [\"*\"]\nssh_key_files = [\"clients/{}/ssh_ed25519.pub\"]\n{}\n",
            c.id,
            c.name,
            c.id,
            c.kind,
            c.id,
            client_cert(c.id, (OIN_CREDITOR.0 == c.id).then_some(OIN_CREDITOR.1))?
        );
    }
    for (code, name) in MUNICIPALITIES {
        let key_dir = dir.join("clients").join(code);
        durable::create_private_dir(&key_dir)?;
        write_ssh_key(&generate_ed25519(&format!("{code}@demo")), &key_dir.join("ssh_ed25519"))?;
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public();
        let key_text = format!(
            "# age identity of {name} ({code}); decrypts its bundles\n# public key: {recipient}\n{}\n",
            identity.to_string().expose_secret()
        );
        durable::write_atomic(&key_dir.join("age.key"), key_text.as_bytes(), true)?;
        let _ = write!(
            toml,
            "[[municipality]]\ncode = \"{code}\"\nname = \"{name}\"\nage_recipients = [\"{recipient}\"]\n\
             drempelbedrag = 100.00\nssh_key_files = [\"clients/{code}/ssh_ed25519.pub\"]\n{}\n{}",
            client_cert(code, None)?,
            if code == "GM0505" { DRECHTSTEDEN_QUEUES } else { "" }
        );
    }
    let config = dir.join("meldpunt.toml");
    fs::write(&config, toml)?;
    let mut routing = String::from("postcode;huisnummer_van;huisnummer_tot;gemeente\n");
    for (pc4, code) in [
        ("3311", "GM0505"),
        ("3312", "GM0505"),
        ("3314", "GM0505"),
        ("3317", "GM0505"),
        ("3331", "GM0642"),
        ("3332", "GM0642"),
    ] {
        let _ = writeln!(routing, "{pc4};;;{code}");
    }
    fs::write(dir.join("routing.csv"), routing)?;
    Ok(Installation { dir, config })
}

/// Dordrecht's work queues in the demo: the Drechtsteden practice (docs/bundles.md), as in
/// `config/meldpunt.toml` without its leave-out rule.
const DRECHTSTEDEN_QUEUES: &str = "werkbakken = [\"sdd\", \"brief_en_bellen\", \"brief\"]\n\
    [[municipality.werkbak_rule]]\nwerkbak = \"sdd\"\ncrisissignaal = true\n\
    [[municipality.werkbak_rule]]\nwerkbak = \"sdd\"\nfase = [\"eindelevering\"]\n\
    [[municipality.werkbak_rule]]\nwerkbak = \"brief_en_bellen\"\ntotal_from = 500.00\n\
    [[municipality.werkbak_rule]]\nwerkbak = \"brief\"\n\n";

/// A demo installation created in `dir` and opened with its configuration (for unit tests).
#[cfg(test)]
pub(crate) fn open_app(dir: &Path) -> crate::app::App {
    let inst = create(dir).expect("a demo installation");
    let config = crate::config::Config::load(&inst.config).expect("the demo configuration");
    let layout = crate::layout::Layout::new(&config.data_dir);
    crate::app::App::open(std::sync::Arc::new(config), layout).expect("the demo data folder")
}
