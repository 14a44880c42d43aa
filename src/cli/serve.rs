//! `meldpunt serve`: run the daemon until SIGTERM or Ctrl-C.
//!
//! SIGHUP reloads the configuration (`daemon/reload.rs`); it never stops the daemon (its
//! default action would, with no `stop` event).

use std::process::ExitCode;
use std::sync::Arc;

use super::ConfigArg;
use crate::daemon::Daemon;

/// Arguments of `meldpunt serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
}

/// Runs the daemon in the foreground.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = Arc::new(super::load_config(&args.config.config)?);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // The handlers are in place before the readiness line: a stop sent right after it
        // is a clean stop, not a kill.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        let daemon = Daemon::start(config).await?;
        // Machine-readable readiness line (tests and scripts read the bound ports from it).
        println!("meldpunt ready {}", daemon.ready_line());
        loop {
            tokio::select! {
                _ = int.recv() => break,
                _ = term.recv() => break,
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: reloading the configuration");
                    daemon.reload();
                }
            }
        }
        tracing::info!("stopping");
        daemon.stop().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
