//! `meldpunt demo`: the embedded default. Builds a scratch installation, starts the daemon,
//! pushes fictitious files through SFTP and HTTPS, shows the receipts, runs the batch, lets a
//! municipality pick up its bundle and send feedback, and shows where everything went.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::daemon::Daemon;
use crate::demo::client::Client;
use crate::demo::https_client::HttpsClient;
use crate::demo::sample;
use crate::demo::setup::{self, CREDITORS, OIN_CREDITOR};
use crate::intake::Receipt;

/// Arguments of `meldpunt demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the installation (default: a new folder under the system temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Leave the installation behind to go on by hand.
    #[arg(long)]
    keep: bool,
    /// Records per creditor file.
    #[arg(long, default_value_t = 200)]
    records: u64,
}

/// Runs the demo.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("meldpunt-demo-{}", ulid::Ulid::new())));
    let inst = setup::create(&dir)?;
    println!("meldpunt demo — fictitious data in {}\n", inst.dir.display());
    let mut config = super::load_config(&inst.config)?;
    if let Some(sftp) = config.sftp.as_mut() {
        sftp.listen = "127.0.0.1:0".parse().expect("valid address");
    }
    if let Some(https) = config.https.as_mut() {
        https.listen = "127.0.0.1:0".parse().expect("valid address");
    }
    config.admin_listen = "127.0.0.1:0".parse().expect("valid address");
    // The demo runs the batch itself and shows it. So that it needs no early close, it plays
    // the last month whose deliveries have closed: uploads are dated to midday of its
    // cutoff day.
    config.batch.automatic = false;
    let now = jiff::Timestamp::now();
    let played = demo_moment(config.cutoff, now);
    config.receive_backdate = now.duration_since(played);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = rt.block_on(push_everything(Arc::new(config), &inst, args.records));
    match (&result, args.keep) {
        (Ok(()), true) => println!(
            "\nThe installation is kept in {d}. Go on by hand:\n  \
             meldpunt serve --config {d}/meldpunt.toml        (SFTP on 127.0.0.1:2222, HTTPS on 127.0.0.1:8443)\n  \
             sftp -P 2222 -i {d}/clients/woonstad/ssh_ed25519 woonstad@127.0.0.1\n  \
             curl --cacert {d}/pki/ca.crt --cert {d}/clients/eneco/tls.crt --key {d}/clients/eneco/tls.key \\\n       \
             -T file.csv https://localhost:8443/v1/inbox/file.csv\n  \
             sftp -P 2222 -i {d}/clients/GM0505/ssh_ed25519 GM0505@127.0.0.1     (get/rm in /pickup, put in /feedback)\n  \
             curl --cacert {d}/pki/ca.crt --cert {d}/clients/GM0505/tls.crt --key {d}/clients/GM0505/tls.key \\\n       \
             https://localhost:8443/v1/pickup",
            d = inst.dir.display()
        ),
        _ if !args.keep => {
            let _ = std::fs::remove_dir_all(&inst.dir);
        }
        _ => {}
    }
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Midday of the cutoff day of the last period whose deliveries have closed by `now`.
fn demo_moment(cutoff: crate::domain::period::Cutoff, now: jiff::Timestamp) -> jiff::Timestamp {
    let closed = cutoff.period_of(now).prev();
    let day = jiff::civil::Date::new(closed.year(), closed.month(), cutoff.day).unwrap_or(closed.first_day());
    let midday = day.at(12, 0, 0, 0).to_zoned(crate::domain::period::zone()).map(|z| z.timestamp());
    midday.unwrap_or(now).min(cutoff.closes_at(closed))
}

async fn push_everything(
    config: Arc<crate::config::Config>,
    inst: &setup::Installation,
    records: u64,
) -> anyhow::Result<()> {
    let daemon = Daemon::start(config).await?;
    let addr = daemon.sftp_addr().context("the demo needs SFTP enabled")?;
    let https = daemon.https_addr().context("the demo needs HTTPS enabled")?;
    println!("daemon started: SFTP on {addr}, HTTPS (mutual TLS) on {https}\n");
    let played = jiff::Timestamp::now()
        .checked_sub(daemon.app().config().receive_backdate)
        .unwrap_or(jiff::Timestamp::now());
    let today = crate::domain::period::local_date(played);
    let period = daemon.app().config().cutoff.period_of(played);
    println!(
        "the demo plays period {period}, whose deliveries have closed: its uploads are dated {today} (Amsterdam), \
         so its batch can run now as the daemon runs it after the cutoff\n"
    );

    for (i, c) in CREDITORS.iter().enumerate() {
        let mut data = Vec::new();
        let prefix = c.id.chars().next().unwrap_or('X').to_ascii_uppercase().to_string();
        sample::write_csv(&mut data, &prefix, c.kind, records, records * 3, i as u64 + 1, today)?;
        let name = format!("{}_{period}.csv", c.id);
        if c.id == OIN_CREDITOR.0 {
            let (cert, key) = inst.tls_pair(c.id);
            let client = HttpsClient::new(https, &inst.ca_cert(), &cert, &key)?;
            let answer = client.request("PUT", &format!("/v1/inbox/{name}"), &data).await?;
            anyhow::ensure!(
                answer.status == 201,
                "HTTPS upload answered {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
            println!(
                "{:<15} pushed {name} over HTTPS ({} records, {} bytes; certificate recognised by its OIN; 201 with the receipt)",
                c.id,
                records,
                data.len()
            );
            continue;
        }
        let client = Client::connect(addr, c.id, &inst.ssh_key(c.id)).await?;
        client.put(&data, &format!("/inbox/{name}")).await?;
        println!("{:<15} pushed {name} over SFTP ({} records, {} bytes)", c.id, records, data.len());
        if c.id == "vitens" {
            client.put(&data, &format!("/inbox/{}_{period}_again.csv", c.id)).await?;
            println!("{:<15} pushed the same bytes again (a duplicate)", c.id);
        }
        if c.id == "woonstad" {
            let fixes = corrections(&data);
            let part = format!("/inbox/{}_{period}_correcties.csv.part", c.id);
            client.put(&fixes, &part).await?;
            client.rename(&part, part.trim_end_matches(".part")).await?;
            println!("{:<15} pushed a correction file as .part and renamed it", c.id);
        }
        client.close().await?;
    }

    println!("\nreceipts, fetched back over SFTP from /receipts:");
    println!(
        "{:<15} {:<38} {:<21} {:>6} {:>8} {:>8} {:>6} {:>8}",
        "creditor", "file", "status", "total", "accepted", "rejected", "objec.", "replaced"
    );
    for c in &CREDITORS {
        let client = Client::connect(addr, c.id, &inst.ssh_key(c.id)).await?;
        let mut receipts = Vec::new();
        for name in client.list("/receipts").await? {
            if name.ends_with(".receipt.json") {
                let r: Receipt = serde_json::from_slice(&client.read(&format!("/receipts/{name}")).await?)?;
                receipts.push(r);
            }
        }
        receipts.sort_by(|a, b| a.file_id.cmp(&b.file_id));
        for r in receipts {
            let n = &r.records;
            println!(
                "{:<15} {:<38} {:<21} {:>6} {:>8} {:>8} {:>6} {:>8}",
                c.id, r.file_name, r.status, n.total, n.accepted, n.rejected, n.not_forwarded, n.replaced
            );
            for e in r.errors.iter().take(5) {
                println!(
                    "{:<15}   line {:>3} {:<14} {:<24} {}",
                    "",
                    e.line.unwrap_or(0),
                    e.field.as_deref().unwrap_or("-"),
                    e.code,
                    e.message
                );
            }
        }
        client.close().await?;
    }
    let batch_cfg = &daemon.app().config().batch;
    println!(
        "\nthe monthly batch for {period}, run now by hand (the daemon runs it on day {} at {}):",
        batch_cfg.day,
        batch_cfg.time.strftime("%H:%M")
    );
    let app = daemon.app().clone();
    let summary = tokio::task::spawn_blocking(move || {
        let cx = crate::batch::run::Context::new(&app, "operator");
        crate::batch::run::run(
            &cx,
            crate::batch::run::Options { period, dry_run: false, force: false, early: false },
            &mut |_| {},
        )
    })
    .await??;
    print!("{}", super::batch::table(&summary));
    println!("\nthe municipal side:");
    crate::demo::municipal::pickup_and_feedback(addr, https, inst, "GM0505", period).await?;
    let data = inst.dir.join("data");
    println!("\nwhere it went (period {period}):");
    println!(
        "  sealed intake     {}/vault/{period}/<file-id>.age   (age, to keys/periods/{period})",
        data.display()
    );
    println!(
        "  receipts          {}/parties/<creditor>/receipts/   (and batch_{period}.json)",
        data.display()
    );
    println!(
        "  bundles           {}/parties/<GMxxxx>/pickup/<GM>_{period}_v1_signalen.{{csv,json}}.age + _manifest.json",
        data.display()
    );
    println!(
        "                    decrypt: age -d -i {}/clients/GM0505/age.key <file>.age",
        inst.dir.display()
    );
    println!("  feedback          {}/parties/<creditor>/feedback/terugmelding_<date>.csv", data.display());
    println!("  audit chain       {}/state.db (table audit)", data.display());
    daemon.stop().await;
    Ok(())
}

/// A correction file: three corrected records, one invalid postcode, one missing amount, one
/// objection, taken from the original file's first lines.
fn corrections(original: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(original);
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap_or(sample::HEADER));
    let col = |name: &str| sample::HEADER.split(';').position(|h| h == name).expect("known column");
    for (i, line) in lines.take(6).enumerate() {
        let mut f: Vec<String> = line.split(';').map(str::to_owned).collect();
        match i {
            0..=2 => f[col("bedrag")] = "1234,56".into(),
            3 => f[col("postcode")] = "12345".into(),
            4 => f[col("bedrag")] = String::new(),
            _ => f[col("bezwaar")] = "ja".into(),
        }
        out.push_str(&f.join(";"));
        out.push('\n');
    }
    out.into_bytes()
}
