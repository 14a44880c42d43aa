//! `meldpunt status`: where the installation stands, for the operator — which period files
//! go to now, the batch schedule, each period held (files, batch, shred date) and the bundles
//! municipalities have not picked up. Read-only; ids, codes, dates and counts only. The facts
//! are gathered once ([`facts`]) and shown as text ([`text`]) or as JSON (`--json`).

use std::process::ExitCode;

use jiff::Timestamp;

use super::ConfigArg;
use crate::layout::Layout;
use crate::state::State;

pub mod facts;
pub mod text;

/// Arguments of `meldpunt status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
    /// One JSON document (keys in docs/commands.md) instead of text.
    #[arg(long)]
    json: bool,
    /// Describe the installation as at this moment (RFC 3339) instead of now.
    #[arg(long, hide = true)]
    at: Option<Timestamp>,
}

/// Runs `meldpunt status`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&args.config.config)?;
    let layout = Layout::new(&config.data_dir);
    let db = layout.state_db();
    if !db.exists() {
        if args.json {
            let doc = serde_json::json!({
                "version": facts::VERSION,
                "installed": false,
                "data_dir": config.data_dir.display().to_string(),
            });
            println!("{doc}");
        } else {
            println!(
                "no installation at {} yet: `meldpunt serve --config {}` makes it",
                config.data_dir.display(),
                args.config.config.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let state = State::open(&db)?;
    let now = args.at.unwrap_or_else(Timestamp::now);
    let status = facts::gather(&config, &layout, &state, now)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", text::render(&status)?);
    }
    Ok(ExitCode::SUCCESS)
}
