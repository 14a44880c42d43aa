//! Live configuration (docs/commands.md, `serve`): SIGHUP and a change of the configuration
//! or a file it names reload it without a restart; a removed key is refused and its open
//! session closed; a broken change leaves the old configuration serving; SIGHUP never stops
//! the daemon. Every reload is audited as `config_reload`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, local_file, sample_csv};
use meldpunt::audit::{Outcome, Record};

/// A new SSH key pair in `dir`: the private key's path and the public key line.
fn new_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "reload-test", "-f"])
        .arg(&key)
        .status()
        .expect("run ssh-keygen (openssh-client)");
    assert!(st.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public.trim().to_owned())
}

/// A creditor `id` with one SSH key, as configuration text.
fn creditor(id: &str, public: &str) -> String {
    format!(
        "\n[[creditor]]\nid = \"{id}\"\nname = \"Nieuw {id}\"\nkinds = [\"drinkwater\"]\nagreements = [\"*\"]\nssh_keys = [\"{public}\"]\n"
    )
}

/// Uploads a small valid file as `user`; whether the server took it.
fn upload(s: &Server, user: &str, key: &Path, name: &str) -> bool {
    let f = local_file(s, name, &sample_csv("R", "drinkwater", 3));
    let o = s.sftp(user, key, &format!("put {} /inbox/{name}\n", f.display()));
    o.status.success()
}

/// The `config_reload` events so far.
fn reloads(s: &Server) -> Vec<Record> {
    s.audit().into_iter().filter(|r| r.action == "config_reload").collect()
}

/// Waits until there are more than `n` `config_reload` events and returns the newest.
fn next_reload(s: &Server, n: usize) -> Record {
    let start = Instant::now();
    loop {
        let mut all = reloads(s);
        if all.len() > n {
            return all.pop().unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no config_reload event after {n}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Appends `text` to the file at `path` in place (as an editor that rewrites it would).
fn append(path: &Path, text: &str) {
    let mut t = std::fs::read_to_string(path).unwrap();
    t.push_str(text);
    std::fs::write(path, t).unwrap();
}

#[test]
fn sighup_adds_a_creditor_that_uploads_without_a_restart() {
    let mut s = Server::start();
    // Only the signal can make the daemon read the change.
    let real = s.config_behind_symlink();
    let before = reloads(&s).len();

    let (key, public) = new_key(s.tmp.path(), "nieuw");
    append(&real, &creditor("nieuw", &public));
    std::thread::sleep(Duration::from_secs(1));
    assert!(!upload(&s, "nieuw", &key, "early.csv"), "a creditor was admitted before the reload");

    s.signal("HUP");
    let ev = next_reload(&s, before);
    assert_eq!(ev.outcome, Outcome::Ok, "{:?}", ev.object);
    assert_eq!(ev.object["trigger"], "sighup");
    assert_eq!(ev.object["parties_added"], serde_json::json!(["nieuw"]), "{}", ev.object);
    assert!(ev.object["keys_added"][0].as_str().unwrap().starts_with("nieuw SHA256:"), "{}", ev.object);
    assert!(upload(&s, "nieuw", &key, "after.csv"), "the new creditor could not upload after SIGHUP");
    assert_eq!(s.wait_receipts("nieuw", 1).len(), 1);
    // The creditors already configured are served as before.
    assert!(upload(&s, "vitens", &s.key("vitens"), "vitens.csv"));

    // More signals, one right after another: the daemon keeps serving and stops cleanly.
    for _ in 0..5 {
        s.signal("HUP");
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(s.running(), "SIGHUP stopped the daemon");
    assert!(upload(&s, "nieuw", &key, "later.csv"));
    s.terminate();
}

#[test]
fn a_file_change_adds_a_creditor_without_a_signal() {
    let s = Server::start();
    let before = reloads(&s).len();
    let (key, public) = new_key(s.tmp.path(), "watched");
    append(&s.inst.config, &creditor("watched", &public));
    let ev = next_reload(&s, before);
    assert_eq!(ev.outcome, Outcome::Ok, "{:?}", ev.object);
    assert_eq!(ev.object["trigger"], "file_change");
    assert_eq!(ev.object["parties_added"], serde_json::json!(["watched"]), "{}", ev.object);
    assert!(upload(&s, "watched", &key, "watched.csv"), "the new creditor could not upload");
    assert_eq!(s.wait_receipts("watched", 1).len(), 1);
}

/// Opens a session, writes `open` to `$FLAG`, then lists the inbox every 200 ms until that
/// fails and writes `closed` to `$FLAG` (or `still open` after 15 s).
const HOLD_SESSION: &str = r#"
import time
t, sftp = connect()
open(os.environ["FLAG"], "w").write("open")
end = time.time() + 15
state = "still open"
while time.time() < end:
    try:
        sftp.listdir("/inbox")
    except Exception:
        state = "closed"
        break
    time.sleep(0.2)
open(os.environ["FLAG"], "w").write(state)
"#;

#[test]
fn a_removed_key_is_refused_and_its_open_session_closed() {
    let s = Server::start();
    let flag = s.tmp.path().join("flag");
    let mut client =
        s.paramiko_spawn("vitens", &s.key("vitens"), HOLD_SESSION, &[("FLAG", flag.display().to_string())]);
    let start = Instant::now();
    while std::fs::read_to_string(&flag).unwrap_or_default() != "open" {
        assert!(start.elapsed() < Duration::from_secs(20), "the session did not open");
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = reloads(&s).len();
    // Vitens replaces its key: the key file the configuration names now holds another key.
    // (The old private key is kept apart: OpenSSH refuses a key whose .pub beside it differs.)
    let old_key = s.tmp.path().join("vitens-old");
    std::fs::copy(s.key("vitens"), &old_key).unwrap();
    let (new_key_path, public) = new_key(s.tmp.path(), "vitens-new");
    std::fs::write(s.inst.dir.join("clients/vitens/ssh_ed25519.pub"), format!("{public}\n")).unwrap();

    let ev = next_reload(&s, before);
    assert_eq!(ev.outcome, Outcome::Ok, "{:?}", ev.object);
    let removed = ev.object["keys_removed"].as_array().unwrap();
    assert!(
        removed.len() == 1 && removed[0].as_str().unwrap().starts_with("vitens SHA256:"),
        "{}",
        ev.object
    );
    assert_eq!(ev.object["sessions_closed"]["vitens"], 1, "{}", ev.object);

    assert!(client.wait().unwrap().success());
    assert_eq!(
        std::fs::read_to_string(&flag).unwrap(),
        "closed",
        "the session of the removed key stayed open"
    );
    let f = local_file(&s, "old-key.csv", &sample_csv("R", "drinkwater", 3));
    let o = s.sftp("vitens", &old_key, &format!("put {} /inbox/\n", f.display()));
    assert!(!o.status.success(), "the removed key still logs in: {}", common::text(&o));
    let refused = |r: &Record| {
        r.action == "login" && r.outcome == Outcome::Denied && r.object["reason"] == "key_not_registered"
    };
    assert!(s.audit().iter().any(refused), "the refused login was not audited");
    assert!(upload(&s, "vitens", &new_key_path, "new-key.csv"), "the new key does not log in");
}

#[test]
fn a_broken_change_is_refused_and_the_old_configuration_keeps_serving() {
    let mut s = Server::start_logged(|_| {});
    let before = reloads(&s).len();
    let (key, public) = new_key(s.tmp.path(), "broken");
    // Two problems: an id that is not a valid creditor id, and a kind that does not exist.
    let bad = creditor("Not Valid", &public) + &creditor("broken", &public).replace("drinkwater", "bier");
    append(&s.inst.config, &bad);
    let ev = next_reload(&s, before);
    assert_eq!(ev.outcome, Outcome::Error, "{:?}", ev.object);
    assert!(ev.object["problems"].as_u64().unwrap() >= 2, "{}", ev.object);

    s.signal("HUP");
    let ev = next_reload(&s, before + 1);
    assert_eq!((ev.outcome, ev.object["trigger"].as_str()), (Outcome::Error, Some("sighup")));
    assert!(s.running(), "a broken configuration stopped the daemon");
    assert!(upload(&s, "woonstad", &s.key("woonstad"), "still.csv"), "the old configuration stopped serving");
    assert!(!upload(&s, "broken", &key, "broken.csv"), "part of a refused configuration was applied");
    let log = std::fs::read_to_string(s.log.as_ref().unwrap()).unwrap();
    let refused = log.lines().filter(|l| l.contains("configuration reload refused")).count();
    assert!(refused >= 2, "not every problem was logged:\n{log}");
    s.terminate();
}
