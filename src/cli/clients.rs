//! `meldpunt clients`: known clients, privately (docs/known-clients.md). The operator makes
//! and rotates each party's key (`clients key new|rotate`); the party hashes its case system's
//! export on its own machine (`clients hash`, which needs no meldpunt configuration).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use super::ConfigArg;
use crate::audit::{Event, Outcome};
use crate::config::Config;
use crate::domain::clients::export::{self, Export};
use crate::domain::clients::{ClientKey, list, person_hashes};
use crate::vault::client_key;

/// Arguments of `meldpunt clients`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    command: ClientsCommand,
}

/// `meldpunt clients …` commands.
#[derive(Debug, clap::Subcommand)]
enum ClientsCommand {
    /// Keys (operator, on the meldpunt host): `key new`, `key rotate`.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Hash a case system's client export (CSV) into the list to upload to /clients or
    /// `PUT /v1/clients`. Runs on the party's own machine, without any meldpunt configuration;
    /// reads stdin and writes stdout unless --in / --out are given. A bad line stops it
    /// (nothing is written) unless --skip-bad-lines.
    Hash(HashArgs),
}

/// `meldpunt clients key …`.
#[derive(Debug, clap::Subcommand)]
enum KeyCommand {
    /// Make the first known-client key of a party; write the party's copy to --out.
    New(KeyArgs),
    /// Replace a party's key; its stored list stops counting and is deleted (the party must
    /// hash its export with the new key and upload it again). Writes the new copy to --out.
    Rotate(KeyArgs),
}

/// Arguments of `clients key new|rotate`.
#[derive(Debug, clap::Args)]
struct KeyArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// The party: a configured municipality's code (e.g. GM0505) or an executor's id (e.g. SDD).
    #[arg(long)]
    party: String,
    /// Where to write the party's copy of the key (a new file, mode 0600); carry it to the
    /// party out of band and delete it here afterwards.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Arguments of `clients hash`.
#[derive(Debug, clap::Args)]
struct HashArgs {
    /// The key file meldpunt's operator gave you.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The export (CSV with a header; see docs/known-clients.md); default stdin.
    #[arg(long = "in", value_name = "FILE")]
    input: Option<PathBuf>,
    /// The hashed list to upload; default stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write the list of the good lines even when some lines are bad (they are still reported).
    #[arg(long)]
    skip_bad_lines: bool,
}

/// Runs `meldpunt clients`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ClientsCommand::Key(KeyCommand::New(a)) => key(a, false),
        ClientsCommand::Key(KeyCommand::Rotate(a)) => key(a, true),
        ClientsCommand::Hash(a) => hash(a),
    }
}

/// `clients key new` (`rotate` false) or `clients key rotate`.
fn key(a: KeyArgs, rotate: bool) -> anyhow::Result<ExitCode> {
    let config = super::load_config(&a.config.config)?;
    let party = receiving_party(&config, &a.party)?;
    // The party's copy is written first, as a new file, so a taken name changes nothing.
    let mut out = crate::durable::create_new_private(&a.out).map_err(|e| {
        anyhow::anyhow!("--out {}: {e}; name a file that does not exist yet", a.out.display())
    })?;
    let app = super::open_app(&a.config.config)?;
    let made = if rotate {
        client_key::rotate(app.layout(), party)
    } else {
        client_key::create(app.layout(), party).map(|k| (None, k))
    };
    let (old, key) = match made {
        Ok(m) => m,
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(&a.out);
            return Err(e.into());
        }
    };
    out.write_all(key.to_file(party).as_bytes())?;
    out.sync_all()?;
    let id = key.id();
    if rotate {
        let removed = crate::state::clients::remove(&mut app.state().lock(), party)?;
        let ev = Event::new("operator", "clients_key_rotated", Outcome::Ok).object(json!({
            "party": party, "key_id": id, "previous": old, "removed_persons": removed,
        }));
        app.audit().emit_blocking(ev)?;
        println!(
            "known-client key of {party} rotated: {} replaced by {id}",
            old.as_deref().unwrap_or("(none)")
        );
        if removed > 0 {
            println!(
                "its stored list ({removed} persons) was made with the old key and is deleted: until {party} uploads \
                 a list hashed with the new key, no signal of {party} is marked bekend"
            );
        }
    } else {
        let ev = Event::new("operator", "clients_key_created", Outcome::Ok)
            .object(json!({ "party": party, "key_id": id }));
        app.audit().emit_blocking(ev)?;
        println!("known-client key of {party} made: id {id}");
    }
    println!(
        "{}: give this file to {party} out of band (not by e-mail), then delete it here; \
         they run `meldpunt clients hash --key FILE --in export.csv --out clients.txt`",
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The party id of `raw` if it is a configured municipality or executor.
fn receiving_party<'c>(config: &'c Config, raw: &str) -> anyhow::Result<&'c str> {
    let municipalities = config.municipalities.iter().map(|m| m.code.as_str());
    municipalities.chain(config.executors.iter().map(|e| e.id.as_str())).find(|c| *c == raw).ok_or_else(
        || {
            anyhow::anyhow!(
                "--party {raw}: not a municipality or executor in {}; write the code of a configured \
             [[municipality]] (e.g. GM0505) or the id of an [[executor]] (e.g. SDD)",
                config.source.display()
            )
        },
    )
}

/// `clients hash`.
fn hash(a: HashArgs) -> anyhow::Result<ExitCode> {
    let key_text =
        std::fs::read_to_string(&a.key).map_err(|e| anyhow::anyhow!("--key {}: {e}", a.key.display()))?;
    let key =
        ClientKey::parse_file(&key_text).map_err(|e| anyhow::anyhow!("--key {}: {e}", a.key.display()))?;
    let source = a.input.as_deref().map_or_else(|| "stdin".to_owned(), |p| p.display().to_string());
    let bytes = match &a.input {
        Some(p) => std::fs::read(p).map_err(|e| anyhow::anyhow!("--in {source}: {e}"))?,
        None => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b)?;
            b
        }
    };
    let Export { clients, problems } = export::read(&bytes).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
    for p in &problems {
        eprintln!("{source}: {p}");
    }
    if !problems.is_empty() && !a.skip_bad_lines {
        eprintln!(
            "{source}: {} bad line(s); nothing written. Fix them in the case system or the export, \
             or run again with --skip-bad-lines to leave those clients out",
            problems.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    let mut persons: Vec<_> = clients.iter().map(|c| person_hashes(&key, &c.household, &c.person)).collect();
    persons.sort_unstable();
    persons.dedup();
    let mut text = list::header(&key.id());
    text.push('\n');
    for p in &persons {
        text.push_str(&list::line(p));
        text.push('\n');
    }
    match &a.out {
        Some(p) => write_out(p, text.as_bytes())?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    eprintln!(
        "{source}: {} client line(s) hashed into {} person(s) with key {}{}",
        clients.len(),
        persons.len(),
        key.id(),
        if problems.is_empty() {
            String::new()
        } else {
            format!("; {} bad line(s) left out", problems.len())
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the hashed list to `path` atomically.
fn write_out(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::durable::write_atomic(path, bytes, false)
        .map_err(|e| anyhow::anyhow!("--out {}: {e}", path.display()))
}
