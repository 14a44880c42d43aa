//! `meldpunt ingest FILE --as CREDITOR`: the operator feeds a file through the same intake.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use super::ConfigArg;
use crate::domain::party::{Credential, CreditorId, VerifiedSender};
use crate::domain::upload::UploadName;
use crate::intake::{Intake, ReceiptStatus, UploadError};
use crate::layout::Layout;

/// Arguments of `meldpunt ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    /// The signal file (.csv or .jsonl).
    file: PathBuf,
    /// The creditor that sent it.
    #[arg(long = "as", value_name = "CREDITOR")]
    creditor: String,
    /// When it was received (RFC 3339), to backfill earlier periods; default now.
    #[arg(long, value_name = "RFC3339")]
    received_at: Option<jiff::Timestamp>,
}

/// Ingests the file and prints its receipt; exits non-zero if it was rejected.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Arc::new(super::load_config(&args.config.config)?);
    let creditor = CreditorId::parse(&args.creditor).map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    if config.creditor(&creditor).is_none() {
        anyhow::bail!(
            "--as: creditor '{creditor}' is not in {}; add a [[creditor]] first",
            config.source.display()
        );
    }
    let file_name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("{}: not a file name", args.file.display()))?;
    let name = UploadName::parse(file_name).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let mut file =
        std::fs::File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let layout = Layout::new(&config.data_dir);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let receipt = rt.block_on(async move {
        let intake = Intake::new(crate::app::App::open(config, layout)?);
        let sender = VerifiedSender::authenticated(creditor, Credential::Operator, "local".into());
        let mut upload = match args.received_at {
            Some(at) => intake.begin_at(sender, name, at)?,
            None => intake.begin(sender, name)?,
        };
        let mut offset = 0u64;
        loop {
            let mut buf = vec![0u8; 256 * 1024];
            let n = tokio::task::block_in_place(|| file.read(&mut buf))
                .with_context(|| format!("reading {}", args.file.display()))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            match upload.write_at(offset, buf).await {
                // Over the limit: the receipt says so.
                Err(UploadError::TooLarge { .. }) => break,
                r => r?,
            }
            offset += n as u64;
        }
        anyhow::Ok(upload.finish().await?.commit().await?)
    })?;
    print!("{}", receipt.to_text());
    Ok(if receipt.status == ReceiptStatus::Rejected { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
