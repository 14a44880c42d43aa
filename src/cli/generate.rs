//! `meldpunt generate`: the man pages and shell completions, written from the command line's own
//! definition (hidden; the Debian package runs it at build time, see Cargo.toml).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `meldpunt generate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to write.
    what: What,
    /// The folder to write into (created if missing).
    #[arg(long)]
    out: PathBuf,
}

/// What `meldpunt generate` writes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum What {
    /// Shell completions: `meldpunt.bash`, `_meldpunt` (zsh) and `meldpunt.fish`.
    Completions,
    /// Man pages: `meldpunt.1` and one `meldpunt-<command>.1` per command.
    Man,
}

/// Writes the files into `--out` and names each on stdout.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)?;
    let written = match args.what {
        What::Completions => completions(&args.out)?,
        What::Man => man(&args.out)?,
    };
    for path in written {
        println!("{}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The shells a completion script is written for, with its file name.
const SHELLS: &[(Shell, &str)] =
    &[(Shell::Bash, "meldpunt.bash"), (Shell::Fish, "meldpunt.fish"), (Shell::Zsh, "_meldpunt")];

fn completions(out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut cmd = super::Cli::command();
    let mut written = Vec::new();
    for &(shell, name) in SHELLS {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "meldpunt", &mut script);
        let path = out.join(name);
        std::fs::write(&path, script)?;
        written.push(path);
    }
    Ok(written)
}

fn man(out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let cmd = super::Cli::command();
    clap_mangen::generate_to(cmd, out)?;
    let mut written = Vec::new();
    for entry in std::fs::read_dir(out)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "1") {
            written.push(path);
        }
    }
    written.sort();
    Ok(written)
}
