//! Known clients of an executor (docs/known-clients.md, docs/executor.md): SDD hashes its
//! client list with its own key and uploads it into its `/clients`; Dordrecht's first work
//! queue rule sends `bekend` signals to the queue `sdd`, which goes to the executor only. After
//! a re-run, the listed person's signal is in the executor's bundle marked `bekend = ja`, and no
//! longer in Dordrecht's own.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::{Drechtsteden, SDD, drechtsteden, get_pickup, text};
use crate::common::{self, local_file};

/// The rows of a decrypted CSV bundle by the creditor's referentie: (werkbak, bekend).
fn rows(file: &Path, key: &Path) -> BTreeMap<String, (String, String)> {
    let o = Command::new("age").arg("-d").arg("-i").arg(key).arg(file).output().expect("age CLI");
    assert!(o.status.success(), "age -d {}: {}", file.display(), text(&o));
    let body = o.stdout.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&o.stdout).to_vec();
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').from_reader(&body[..]);
    let header = rdr.headers().unwrap().clone();
    let col =
        |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {header:?}"));
    let (r, w, b) = (col("referentie_signaalpartner"), col("werkbak"), col("bekend"));
    rdr.records()
        .map(|rec| rec.unwrap())
        .map(|rec| (rec[r].to_owned(), (rec[w].to_owned(), rec[b].to_owned())))
        .collect()
}

#[test]
fn an_executors_client_list_marks_and_routes_the_signals_of_its_clients() {
    let Drechtsteden { s, scratch, sdd, period } = drechtsteden();

    // Dordrecht: known clients first, to the queue that goes to the executor only.
    let config = std::fs::read_to_string(&s.inst.config).unwrap();
    let routing = "deliver_werkbak = { sdd = \"uitvoerder\", brief = \"gemeente\" }\n";
    assert!(config.contains(routing), "{config}");
    let config = config.replacen(
        routing,
        &format!("{routing}[[municipality.werkbak_rule]]\nwerkbak = \"sdd\"\nbekend = true\n"),
        1,
    );
    std::fs::write(&s.inst.config, config).unwrap();
    let check = common::meldpunt(&s, &["check"]);
    assert!(check.status.success(), "{}", text(&check));
    let reloads = || s.audit().iter().filter(|e| e.action == "config_reload").count();
    let before = reloads();
    s.signal("HUP");
    let start = std::time::Instant::now();
    while reloads() == before {
        assert!(start.elapsed().as_secs() < 20, "no reload");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // The executor's key (the operator hands it over), its export hashed on its own machine.
    let key = scratch.path().join("sdd.clients.key");
    let o = common::meldpunt(&s, &["clients", "key", "new", "--party", SDD, "--out", key.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // V-D-BR (3311AA 5) is SDD's client; 3331AA 99 is in no signal.
    let export = local_file(
        &s,
        "sdd-export.csv",
        b"postcode,huisnummer,achternaam,geboortedatum\n3311AA,5,Jansen,1970-01-01\n3331AA,99,Visser,1980-02-02\n",
    );
    let list = scratch.path().join("sdd-clients.txt");
    let o = Command::new(common::bin())
        .args(["clients", "hash", "--key"])
        .arg(&key)
        .arg("--in")
        .arg(&export)
        .arg("--out")
        .arg(&list)
        .env_remove("MELDPUNT_CONFIG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = s.sftp(SDD, &sdd.ssh, &format!("put {} /clients/clients.txt\n", list.display()));
    assert!(o.status.success(), "{}", text(&o));
    let uploads: Vec<_> = s.audit().into_iter().filter(|e| e.action == "clients_upload").collect();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(uploads[0].actor, format!("uitvoerder:{SDD}"), "{uploads:?}");

    // A re-run (v2) marks against the executor's list.
    let o = common::meldpunt(&s, &["batch", "run", "--early", "--force", "--period", &period]);
    assert!(o.status.success(), "{}", text(&o));
    let into = scratch.path().join("sdd-v2");
    let names = get_pickup(&s, &sdd, &into);
    let bundle = format!("GM0505_{period}_v2_{SDD}_signalen.csv.age");
    assert!(names.contains(&bundle), "{bundle} in {names:?}");
    let executor = rows(&into.join(&bundle), &sdd.age);
    assert_eq!(executor.get("V-D-BR"), Some(&("sdd".to_owned(), "ja".to_owned())), "{executor:?}");
    let others: Vec<_> = executor.iter().filter(|(r, (_, b))| *r != "V-D-BR" && b != "nee").collect();
    assert!(others.is_empty(), "only the listed person is bekend: {others:?}");

    // Dordrecht's own v2 no longer has it (queue sdd goes to the executor only).
    let name = format!("GM0505_{period}_v2_signalen.csv.age");
    let enc = scratch.path().join(&name);
    let (status, body) = s.curl("GM0505", &["-o", enc.to_str().unwrap()], &format!("/v1/pickup/{name}"));
    assert_eq!(status, 200, "{body}");
    let own = rows(&enc, &s.inst.dir.join("clients").join("GM0505").join("age.key"));
    assert!(!own.contains_key("V-D-BR"), "{own:?}");
    assert!(own.contains_key("V-D-BB") && own.values().all(|(_, b)| b == "nee"), "{own:?}");
}
