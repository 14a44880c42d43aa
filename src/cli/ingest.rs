//! `meldpunt ingest FILE --as CREDITOR`: the operator feeds a file through the same intake.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use super::ConfigArg;
use crate::domain::party::{Credential, CreditorId, VerifiedSender};
use crate::domain::upload::UploadName;
use crate::intake::{Intake, ReceiptStatus};
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
    let layout = Layout::new(&config.data_dir);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let receipt = rt.block_on(async move {
        let intake = Intake::new(crate::app::App::open(config, layout)?);
        let sender = VerifiedSender::authenticated(creditor, Credential::Operator, "local".into());
        anyhow::Ok(intake.take_local(sender, name, &args.file, args.received_at).await?)
    })?;
    print!("{}", receipt.to_text());
    Ok(if receipt.status == ReceiptStatus::Rejected { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
