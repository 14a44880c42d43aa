//! `meldpunt batch run [--period P] [--dry-run] [--force]`: a period's batch by hand.

use std::io::IsTerminal;
use std::process::ExitCode;

use super::ConfigArg;
use crate::batch::run::{self, Options, Summary};
use crate::domain::period::Period;

/// Arguments of `meldpunt batch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    command: BatchCommand,
}

/// `meldpunt batch …` commands.
#[derive(Debug, clap::Subcommand)]
enum BatchCommand {
    /// Match, classify and deliver a period's signals (default: the last period whose
    /// deliveries have closed).
    Run(RunArgs),
}

/// Arguments of `meldpunt batch run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The period, YYYY-MM.
    #[arg(long)]
    period: Option<Period>,
    /// Show what would be delivered; deliver nothing.
    #[arg(long)]
    dry_run: bool,
    /// Deliver a delivered period again, as a new bundle version.
    #[arg(long)]
    force: bool,
    /// Run a period whose deliveries have not closed yet, closing it now: files that arrive
    /// later for it go into the next period.
    #[arg(long)]
    early: bool,
}

/// Runs `meldpunt batch`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let BatchCommand::Run(a) = args.command;
    let app = super::open_app(&a.config.config)?;
    let config = app.config();
    let period = a.period.unwrap_or_else(|| config.cutoff.period_of(jiff::Timestamp::now()).prev());
    let cx = super::operator(&app);
    // Known-client lists past their age are expired (and audited) before the run, as the
    // daemon does hourly; the run would not count them either way.
    if !a.dry_run {
        for e in crate::clients::expire(&app, jiff::Timestamp::now())? {
            eprintln!(
                "warning: the known-client list of {} ({} persons) is older than [clients] max_age_days and no longer counts; {} should upload a new one",
                e.party, e.persons, e.party
            );
        }
    }
    // A progress bar on a terminal: two reading steps, then one step per municipality and one
    // per executor's bundle of a municipality.
    let steps: u64 = config
        .municipalities
        .iter()
        .map(|m| 1 + u64::from(crate::batch::receivers::executor(&config, m).is_some()))
        .sum();
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(steps + 2)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = |line: &str| {
        bar.inc(1);
        bar.set_message(line.to_owned());
    };
    let result =
        run::run(&cx, Options { period, dry_run: a.dry_run, force: a.force, early: a.early }, &mut progress);
    bar.finish_and_clear();
    let summary = result?;
    print!("{}", table(&summary));
    Ok(ExitCode::SUCCESS)
}

/// The summary table printed at the end.
pub fn table(s: &Summary) -> String {
    let mut out = format!(
        "batch {} v{}{}\n{:<8} {:<16} {:>10} {:>8} {:>11} {:>10} {:>12} {:>9} {:>13}\n",
        s.period,
        s.version,
        if s.dry_run { " (dry run: nothing delivered)" } else { "" },
        "gemeente",
        "naam",
        "households",
        "signals",
        "enkelvoudig",
        "meervoudig",
        "opeenvolgend",
        "herhaald",
        "onder_drempel"
    );
    // Each municipality's own bundle, then what executors receive for the municipalities
    // they serve (`<executor>:<GM>`).
    let executors = s.executors.iter().map(|(e, code, c)| (format!("{e}:{code}"), "(uitvoerder)", c));
    for (code, name, c) in
        s.municipalities.iter().map(|(code, name, c)| (code.to_string(), name.as_str(), c)).chain(executors)
    {
        out.push_str(&format!(
            "{:<8} {:<16} {:>10} {:>8} {:>11} {:>10} {:>12} {:>9} {:>13}\n",
            code,
            name,
            c.households,
            c.signals,
            c.enkelvoudig,
            c.meervoudig,
            c.opeenvolgend,
            c.herhaald,
            c.onder_drempel
        ));
    }
    // Work queues, for municipalities that sort their signals.
    for (code, _, c) in s.municipalities.iter().filter(|(_, _, c)| !c.per_werkbak.is_empty()) {
        let sorted: u64 = c.per_werkbak.values().sum();
        let mut queues: Vec<String> = c.per_werkbak.iter().map(|(q, n)| format!("{q} {n}")).collect();
        if sorted < c.signals {
            queues.push(format!("(no queue) {}", c.signals - sorted));
        }
        out.push_str(&format!("{code} werkbakken: {}\n", queues.join(", ")));
    }
    out.push_str(&format!(
        "not delivered (unroutable, no agreement, or left out by the municipality; listed in each creditor's /receipts/batch_{}.json): {}\n",
        s.period, s.not_delivered
    ));
    out
}
