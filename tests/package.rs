//! The Debian package (issue 21, item 8): `scripts/deb --no-build` packs the binary this test
//! run built, and `dpkg-deb` shows the unit, the binary, the man pages, the completions and the
//! example configuration (a conffile) inside, with the maintainer scripts that create the user
//! and the data folder and do not start the service. Skipped, with a note, where cargo-deb or
//! dpkg-deb is absent (`scripts/test` installs cargo-deb).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap::CommandFactory;

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(o.status.success(), "{cmd:?} failed:\n{}{}", text(&o.stdout), text(&o.stderr));
    o
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn present(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

/// The commands a user sees in `meldpunt --help`.
fn visible_commands() -> Vec<String> {
    let cmd = meldpunt::cli::Cli::command();
    let names: Vec<String> =
        cmd.get_subcommands().filter(|c| !c.is_hide_set()).map(|c| c.get_name().to_owned()).collect();
    assert!(names.len() > 10, "too few commands: {names:?}");
    names
}

/// Builds the package from the binary of this test run into `out`; its path.
fn build_deb(out: &Path) -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_meldpunt"));
    let profile_dir = bin.parent().unwrap();
    // `cargo test --release` packs target/release; a debug run packs target/debug (cargo-deb
    // warns that it is not for releases).
    let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
        "debug" => "dev",
        other => other,
    };
    let target = profile_dir.parent().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run(Command::new(root.join("scripts/deb"))
        .args(["--no-build", "--profile", profile, "--fast", "--output"])
        .arg(out)
        .env("CARGO_TARGET_DIR", target));
    let debs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "one .deb expected in {}: {debs:?}\n{}", out.display(), text(&o.stderr));
    debs.into_iter().next().unwrap()
}

/// The line of `dpkg-deb -c` that lists `path` (`./path`), or a failure naming what is there.
fn listed<'a>(contents: &'a str, path: &str) -> &'a str {
    let name = format!("./{path}");
    contents
        .lines()
        .find(|l| l.split_whitespace().last() == Some(name.as_str()))
        .unwrap_or_else(|| panic!("{path} is not in the package:\n{contents}"))
}

/// The mode of a `dpkg-deb -c` line, and whether root owns the file.
fn mode_and_owner(line: &str) -> (&str, bool) {
    let mut fields = line.split_whitespace();
    let mode = fields.next().unwrap_or_default();
    (mode, matches!(fields.next(), Some("root/root" | "0/0")))
}

/// A text file of the unpacked package, gunzipped when packed so.
fn read_unpacked(root: &Path, path: &str) -> String {
    let plain = root.join(path);
    if plain.exists() {
        return std::fs::read_to_string(plain).unwrap();
    }
    let gz = root.join(format!("{path}.gz"));
    text(&run(Command::new("gzip").arg("-dc").arg(&gz)).stdout)
}

#[test]
fn the_deb_holds_unit_binary_man_pages_completions_and_config() {
    if !present("cargo", &["deb", "--version"]) {
        println!("note: cargo-deb is absent (cargo install --locked cargo-deb); the package is not checked");
        return;
    }
    if !present("dpkg-deb", &["--version"]) {
        println!("note: dpkg-deb is absent; the package is not checked");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let deb = build_deb(&tmp.path().join("out"));

    // What `dpkg-deb -c` lists: paths, owners and modes.
    let contents = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)).stdout);
    assert_eq!(mode_and_owner(listed(&contents, "usr/bin/meldpunt")), ("-rwxr-xr-x", true));
    assert_eq!(mode_and_owner(listed(&contents, "etc/meldpunt/meldpunt.toml")), ("-rw-r-----", true));
    let unit = ["lib/systemd/system/meldpunt.service", "usr/lib/systemd/system/meldpunt.service"]
        .into_iter()
        .find(|u| contents.contains(&format!("./{u}\n")))
        .unwrap_or_else(|| panic!("no unit in the package:\n{contents}"));
    let man_pages: Vec<&str> = contents
        .lines()
        .filter_map(|l| l.split_whitespace().last()?.strip_prefix("./usr/share/man/man1/"))
        .collect();
    let man = *man_pages
        .iter()
        .find(|m| m.starts_with("meldpunt.1"))
        .unwrap_or_else(|| panic!("no meldpunt.1 in the package:\n{contents}"));
    let commands = visible_commands();
    for c in &commands {
        assert!(
            man_pages.iter().any(|m| m.starts_with(&format!("meldpunt-{c}.1"))),
            "no man page for `meldpunt {c}`: {man_pages:?}"
        );
    }
    let completions = [
        "usr/share/bash-completion/completions/meldpunt",
        "usr/share/zsh/vendor-completions/_meldpunt",
        "usr/share/fish/vendor_completions.d/meldpunt.fish",
    ];
    for c in completions {
        listed(&contents, c);
    }
    for doc in ["usr/share/doc/meldpunt/README.md", "usr/share/doc/meldpunt/docs/commands.md"] {
        listed(&contents, doc);
    }

    // The control part: the conffile and maintainer scripts that make the user and the data
    // folder and neither enable nor start the service.
    let control = tmp.path().join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert!(conffiles.lines().any(|l| l == "/etc/meldpunt/meldpunt.toml"), "conffiles: {conffiles}");
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("useradd --system"), "no system user made:\n{postinst}");
    assert!(postinst.contains("install -d -m 0700 -o meldpunt -g meldpunt /var/lib/meldpunt"), "{postinst}");
    assert!(!postinst.contains("#DEBHELPER#"), "the systemd fragment was not put in:\n{postinst}");
    // cargo-deb's fragment for `enable = false` re-enables only a unit that was enabled before.
    assert!(postinst.contains("deb-systemd-helper debian-installed meldpunt.service"), "{postinst}");
    for starts in
        ["deb-systemd-invoke start", "deb-systemd-invoke restart", "systemctl start", "enable --now"]
    {
        assert!(!postinst.contains(starts), "postinst starts or enables the service ({starts}):\n{postinst}");
    }
    assert!(control.join("postrm").exists(), "no postrm");
    let info = text(&run(Command::new("dpkg-deb").arg("-I").arg(&deb)).stdout);
    assert!(info.contains("Package: meldpunt") && info.contains("postinst"), "{info}");

    // The files themselves: the unit runs the packaged binary, the example configuration keeps
    // its data in /var/lib/meldpunt, the man page and completions name every command.
    let root = tmp.path().join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let unit_text = std::fs::read_to_string(root.join(unit)).unwrap();
    let exec: Vec<&str> = unit_text.lines().filter(|l| l.starts_with("ExecStart")).collect();
    assert!(!exec.is_empty(), "no ExecStart in the unit");
    for l in &exec {
        let program = l.split_once('=').unwrap().1.split_whitespace().next().unwrap();
        assert_eq!(program, "/usr/bin/meldpunt", "the unit runs what the package does not hold: {l}");
    }
    let version = run(Command::new(root.join("usr/bin/meldpunt")).arg("--version"));
    assert!(text(&version.stdout).starts_with("meldpunt "), "{}", text(&version.stdout));
    let toml = std::fs::read_to_string(root.join("etc/meldpunt/meldpunt.toml")).unwrap();
    assert!(
        toml.lines().any(|l| l == r#"data_dir = "/var/lib/meldpunt""#),
        "data_dir is not /var/lib/meldpunt"
    );
    let man_text = read_unpacked(&root, &format!("usr/share/man/man1/{}", man.trim_end_matches(".gz")));
    for c in &commands {
        assert!(man_text.contains(&format!("meldpunt\\-{c}(1)")), "meldpunt.1 does not name `{c}`");
    }
    for path in completions {
        let script = std::fs::read_to_string(root.join(path)).unwrap();
        for c in &commands {
            assert!(script.contains(c.as_str()), "{path} does not mention `{c}`");
        }
    }
}
