//! The municipal half of the demo: a municipality picks up its bundle over SFTP, checks it
//! against the manifest, decrypts it with its age identity, acknowledges it, and sends a
//! terugmelding over HTTPS; the creditors then read what came back to them.

use std::io::Read as _;
use std::net::SocketAddr;
use std::str::FromStr as _;

use anyhow::Context;
use sha2::{Digest, Sha256};

use super::client::Client;
use super::https_client::HttpsClient;
use super::setup::{CREDITORS, Installation};
use crate::domain::feedback::Resultaat;
use crate::domain::period::Period;

/// Results the demo municipality reports, in turn.
const RESULTS: [Resultaat; 6] = [
    Resultaat::HulpGeaccepteerd,
    Resultaat::GeenContact,
    Resultaat::AlBetaaldOfRegeling,
    Resultaat::Overleden,
    Resultaat::QuickFix,
    Resultaat::NietOpgepaktAndereReden,
];

/// Signals the demo gives feedback on.
const FEEDBACK_LINES: usize = 12;

/// Decrypts an age file with the identity in `key_file`.
fn decrypt(cipher: &[u8], key_file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let text =
        std::fs::read_to_string(key_file).with_context(|| format!("reading {}", key_file.display()))?;
    let line =
        text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-")).context("no age identity in the file")?;
    let identity = age::x25519::Identity::from_str(line).map_err(anyhow::Error::msg)?;
    let dec = age::Decryptor::new(cipher)?;
    let mut out = Vec::new();
    dec.decrypt(std::iter::once(&identity as &dyn age::Identity))?.read_to_end(&mut out)?;
    Ok(out)
}

/// Picks up `code`'s bundle for `period` over SFTP and sends feedback over HTTPS.
pub async fn pickup_and_feedback(
    sftp: SocketAddr,
    https: SocketAddr,
    inst: &Installation,
    code: &str,
    period: Period,
) -> anyhow::Result<()> {
    let client = Client::connect(sftp, code, &inst.ssh_key(code)).await?;
    let base = format!("/pickup/{code}_{period}_v1");
    let manifest: serde_json::Value =
        serde_json::from_slice(&client.read(&format!("{base}_manifest.json")).await?)?;
    let csv_name = format!("{code}_{period}_v1_signalen.csv.age");
    let listed = manifest["files"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == csv_name.as_str()))
        .context("the manifest lists no CSV bundle")?;
    let cipher = client.read(&format!("/pickup/{csv_name}")).await?;
    let sha = hex::encode(Sha256::digest(&cipher));
    anyhow::ensure!(listed["sha256"] == sha.as_str(), "the bundle does not match its manifest");
    let plain = decrypt(&cipher, &inst.dir.join("clients").join(code).join("age.key"))?;
    client.remove(&format!("/pickup/{csv_name}")).await?;
    client.close().await?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(plain.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&plain));
    let headers = rdr.headers()?.clone();
    let col =
        |name: &str| headers.iter().position(|h| h == name).with_context(|| format!("no {name} column"));
    let cols = [col("signaal_id")?, col("signaalpartner")?, col("referentie_signaalpartner")?];
    let rows: Vec<[String; 3]> =
        rdr.records().map(|r| r.map(|r| cols.map(|c| r[c].to_owned()))).collect::<Result<_, _>>()?;
    println!(
        "{code:<15} picked up {csv_name} over SFTP ({} bytes, sha256 as in the manifest), decrypted it with its age key: {} signals; removed it (= acknowledged)",
        cipher.len(),
        rows.len()
    );
    if let Some(queues) = manifest["counts"]["per_werkbak"].as_object() {
        let queues: Vec<String> = queues.iter().map(|(q, n)| format!("{q} {n}")).collect();
        println!("{code:<15} its work queues (werkbakken) in the manifest: {}", queues.join(", "));
    }

    // Half the lines name the signal by its id, half by the creditor and its reference (as a
    // case system that knows the claim by the creditor's reference would).
    let today = crate::domain::period::local_date(jiff::Timestamp::now());
    let mut file = String::from("signaal_id;signaalpartner;referentie_signaalpartner;resultaat;datum\n");
    for (i, ([id, partner, referentie], r)) in
        rows.iter().take(FEEDBACK_LINES).zip(RESULTS.iter().cycle()).enumerate()
    {
        if i % 2 == 0 {
            file.push_str(&format!("{id};;;{r};{today}\n"));
        } else {
            file.push_str(&format!(";{partner};{referentie};{r};{today}\n"));
        }
    }
    let (cert, key) = inst.tls_pair(code);
    let web = HttpsClient::new(https, &inst.ca_cert(), &cert, &key)?;
    let answer = web.request("POST", "/v1/feedback?name=terugmelding.csv", file.as_bytes()).await?;
    anyhow::ensure!(
        answer.status == 201,
        "feedback answered {}: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    let r = answer.json()?;
    println!(
        "{code:<15} sent a terugmelding over HTTPS (POST /v1/feedback): {} lines, status {}, routed to {} creditor(s)",
        r["lines"]["total"],
        r["status"].as_str().unwrap_or("?"),
        r["routed_to_creditors"]
    );

    println!(
        "\nwhat the creditors got back (their /feedback; reasons about the person show as niet_opgepakt):"
    );
    for c in &CREDITORS {
        let client = Client::connect(sftp, c.id, &inst.ssh_key(c.id)).await?;
        for name in client.list("/feedback").await? {
            let text = client.read(&format!("/feedback/{name}")).await?;
            println!("{:<15} /feedback/{name}", c.id);
            for line in String::from_utf8_lossy(&text).lines() {
                println!("{:<15}   {line}", "");
            }
        }
        client.close().await?;
    }
    Ok(())
}
