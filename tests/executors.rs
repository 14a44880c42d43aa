//! Executors (issue 23, docs/executor.md): the regional service SDD serves Dordrecht (GM0505)
//! and Zwijndrecht (GM0642). Dordrecht sends by work queue: `sdd` to the executor only, `brief`
//! to itself only, the rest (`brief_en_bellen`) to both (`deliver_to = "beide"`); Zwijndrecht
//! sends everything to the executor. Creditor `oasen` has an agreement with Dordrecht only.
//! Each party picks up over real SFTP and HTTPS and decrypts with the `age` CLI; each holds
//! exactly its signals, by referentie. The executor's feedback is accepted for its own signals
//! and reaches the creditor; a signal it did not receive is refused.

mod common;
#[path = "executors/ddas.rs"]
mod ddas;
#[path = "executors/known.rs"]
mod known;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, local_file, run_batch, text};

const SDD: &str = "SDD";

/// Keys of a party made for this test: SSH key, age identity file and its recipient.
struct Keys {
    ssh: PathBuf,
    age: PathBuf,
    recipient: String,
}

fn keys(dir: &Path, party: &str) -> Keys {
    let d = dir.join(party);
    std::fs::create_dir_all(&d).unwrap();
    let ssh = d.join("ssh_ed25519");
    meldpunt::demo::setup::write_ssh_key(&meldpunt::demo::setup::generate_ed25519(party), &ssh).unwrap();
    let age = d.join("age.key");
    let o = Command::new("age-keygen").arg("-o").arg(&age).output().expect("age-keygen (package age)");
    assert!(o.status.success(), "{}", text(&o));
    let o = Command::new("age-keygen").arg("-y").arg(&age).output().unwrap();
    let recipient = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    assert!(recipient.starts_with("age1"), "{recipient}");
    Keys { ssh, age, recipient }
}

/// One signal line: referentie, postcode, house number, amount, crisis.
fn line(r: &str, postcode: &str, nr: u32, bedrag: &str, crisis: bool) -> String {
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let ontstaan = today.checked_sub(jiff::Span::new().days(60)).unwrap();
    let herinnering = today.checked_sub(jiff::Span::new().days(40)).unwrap();
    let crisis = if crisis { "ja" } else { "nee" };
    format!(
        "{r};drinkwater;eerste;J.;;Jansen;1970-01-01;Dorpsstraat;{nr};;;{postcode};Dordrecht;;;{bedrag};{ontstaan};;{herinnering};ja;ja;nee;{crisis}\n"
    )
}

fn csv(lines: &[String]) -> Vec<u8> {
    let mut out = format!("{}\n", meldpunt::demo::sample::HEADER);
    for l in lines {
        out += l;
    }
    out.into_bytes()
}

/// A bundle row: signal id, the creditor's referentie, municipality code, `meervoudig`.
#[derive(Debug)]
struct Row {
    id: String,
    referentie: String,
    gemeente: String,
    meervoudig: String,
}

/// Decrypts the CSV bundle `file` with the `age` CLI and the identity `key`; its rows.
fn decrypt_csv(file: &Path, key: &Path) -> Vec<Row> {
    let o = Command::new("age").arg("-d").arg("-i").arg(key).arg(file).output().expect("age CLI");
    assert!(o.status.success(), "age -d {}: {}", file.display(), text(&o));
    let plain = String::from_utf8(o.stdout).unwrap();
    let plain = plain.strip_prefix('\u{feff}').expect("a BOM");
    let mut lines = plain.lines();
    let header: Vec<&str> = lines.next().unwrap().split(';').collect();
    let col =
        |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (i, r, g, m) =
        (col("signaal_id"), col("referentie_signaalpartner"), col("gemeente"), col("meervoudig"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(';').collect();
            Row {
                id: f[i].to_owned(),
                referentie: f[r].to_owned(),
                gemeente: f[g].to_owned(),
                meervoudig: f[m].to_owned(),
            }
        })
        .collect()
}

fn referenties(rows: &[Row]) -> BTreeSet<String> {
    rows.iter().map(|r| r.referentie.clone()).collect()
}

/// The signal id of the row with referentie `r`.
fn id_of(rows: &[Row], r: &str) -> String {
    rows.iter().find(|row| row.referentie == r).unwrap_or_else(|| panic!("no row {r}")).id.clone()
}

/// Downloads the executor's whole `/pickup` over OpenSSH `sftp` into `into`; the names.
fn get_pickup(s: &Server, sdd: &Keys, into: &Path) -> BTreeSet<String> {
    std::fs::create_dir_all(into).unwrap();
    let o = s.sftp(SDD, &sdd.ssh, &format!("lcd {}\nls -1 /pickup\nget /pickup/*\n", into.display()));
    assert!(o.status.success(), "{}", text(&o));
    std::fs::read_dir(into).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The installation of this test, its batch delivered: the demo's creditors and municipalities,
/// creditor `oasen` (agreement with Dordrecht only) and executor SDD, with their signals.
struct Drechtsteden {
    s: Server,
    scratch: tempfile::TempDir,
    sdd: Keys,
    period: String,
}

fn drechtsteden() -> Drechtsteden {
    let scratch = tempfile::tempdir().unwrap();
    let sdd = keys(scratch.path(), SDD);
    let oasen = keys(scratch.path(), "oasen");
    let sdd_pub = sdd.ssh.with_extension("pub");
    let oasen_pub = oasen.ssh.with_extension("pub");
    let s = Server::start_with(|t| {
        // Dordrecht: by work queue; Zwijndrecht: everything to the executor.
        *t = t.replacen(
            "werkbakken = [\"sdd\", \"brief_en_bellen\", \"brief\"]\n",
            "werkbakken = [\"sdd\", \"brief_en_bellen\", \"brief\"]\ndeliver_to = \"beide\"\n\
             deliver_werkbak = { sdd = \"uitvoerder\", brief = \"gemeente\" }\n",
            1,
        );
        let zwijndrecht = t.find("code = \"GM0642\"").expect("GM0642 in the demo");
        t.insert_str(zwijndrecht, "deliver_to = \"uitvoerder\"\n");
        *t += &format!(
            "[[creditor]]\nid = \"oasen\"\nname = \"Oasen\"\nkinds = [\"drinkwater\"]\nagreements = [\"GM0505\"]\n\
             ssh_key_files = [\"{}\"]\n\n\
             [[executor]]\nid = \"SDD\"\nname = \"Sociale Dienst Drechtsteden\"\nserves = [\"GM0505\", \"GM0642\"]\n\
             age_recipients = [\"{}\"]\nssh_key_files = [\"{}\"]\n",
            oasen_pub.display(),
            sdd.recipient,
            sdd_pub.display()
        );
    });
    // The executor's client certificate, from the demo CA, added to its block.
    let pki = s.inst.dir.join("pki");
    let ca = meldpunt::demo::pki::Ca::from_pem(
        &std::fs::read_to_string(pki.join("ca.crt")).unwrap(),
        &std::fs::read_to_string(pki.join("ca.key")).unwrap(),
    )
    .unwrap();
    let cert = ca.client(SDD, None).unwrap();
    let (crt, key) = s.inst.tls_pair(SDD);
    std::fs::create_dir_all(crt.parent().unwrap()).unwrap();
    cert.write(&crt, &key).unwrap();
    let mut config = std::fs::read_to_string(&s.inst.config).unwrap();
    config += &format!("tls_fingerprints = [\"{}\"]\n", cert.fingerprint());
    std::fs::write(&s.inst.config, config).unwrap();
    let check = common::meldpunt(&s, &["check"]);
    assert!(check.status.success(), "meldpunt check: {}", text(&check));
    // A live reload (SIGHUP; a watched change of the file may reload it as well).
    s.signal("HUP");
    let start = std::time::Instant::now();
    while !s.audit().iter().any(|e| e.action == "config_reload" && e.object.to_string().contains("SDD tls:"))
    {
        assert!(start.elapsed().as_secs() < 20, "the configuration was not reloaded");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // Dordrecht postcodes 3311, Zwijndrecht 3331. Dordrecht's queues: crisis → sdd,
    // household total ≥ 500 → brief_en_bellen, else brief.
    let vitens = csv(&[
        line("V-D-SDD", "3311AA", 1, "200,00", true),
        line("V-D-BB", "3311AA", 3, "800,00", false),
        line("V-D-BR", "3311AA", 5, "200,00", false),
        line("V-Z-1", "3331AA", 1, "300,00", false),
        line("V-Z-2", "3331AA", 3, "900,00", false),
    ]);
    let oasen_csv = csv(&[
        line("O-D-1", "3311AA", 7, "150,00", false),
        line("O-D-2", "3311AA", 9, "150,00", true),
        // No agreement with Zwijndrecht; O-Z-2 shares V-Z-1's household.
        line("O-Z-1", "3331AA", 5, "150,00", false),
        line("O-Z-2", "3331AA", 1, "150,00", false),
    ]);
    for (party, key, bytes) in [("vitens", s.key("vitens"), vitens), ("oasen", oasen.ssh.clone(), oasen_csv)]
    {
        let f = local_file(&s, &format!("{party}.csv"), &bytes);
        let o = s.sftp(party, &key, &format!("put {} /inbox/{party}.csv\n", f.display()));
        assert!(o.status.success(), "{}", text(&o));
    }
    for party in ["vitens", "oasen"] {
        let r = s.wait_receipts(party, 1);
        assert_eq!(r[0]["status"], "accepted", "{party}: {}", r[0]);
    }
    let period = run_batch(&s).to_string();

    Drechtsteden { s, scratch, sdd, period }
}

#[test]
fn executor_and_municipalities_each_get_exactly_their_signals() {
    let Drechtsteden { s, scratch, sdd, period } = drechtsteden();
    // The executor picks up over SFTP.
    let got = scratch.path().join("got-sdd");
    let names = get_pickup(&s, &sdd, &got);
    let expected: BTreeSet<String> = ["GM0505", "GM0642"]
        .iter()
        .flat_map(|gm| {
            ["signalen.csv.age", "signalen.json.age", "manifest.json"]
                .map(|suffix| format!("{gm}_{period}_v1_{SDD}_{suffix}"))
        })
        .collect();
    assert_eq!(names, expected, "the executor's pickup folder");
    let sdd_dordrecht =
        decrypt_csv(&got.join(format!("GM0505_{period}_v1_{SDD}_signalen.csv.age")), &sdd.age);
    let sdd_zwijndrecht =
        decrypt_csv(&got.join(format!("GM0642_{period}_v1_{SDD}_signalen.csv.age")), &sdd.age);
    assert_eq!(referenties(&sdd_dordrecht), set(&["V-D-SDD", "V-D-BB", "O-D-2"]));
    assert!(sdd_dordrecht.iter().all(|r| r.gemeente == "GM0505"), "{sdd_dordrecht:?}");
    assert_eq!(referenties(&sdd_zwijndrecht), set(&["V-Z-1", "V-Z-2"]), "no O-Z-*: no agreement");
    assert!(sdd_zwijndrecht.iter().all(|r| r.gemeente == "GM0642"));
    // O-Z-2 was left out before classification: V-Z-1's household is not meervoudig.
    assert!(
        sdd_zwijndrecht.iter().any(|r| r.referentie == "V-Z-1" && r.meervoudig == "nee"),
        "{sdd_zwijndrecht:?}"
    );
    // The JSON bundle, the same signals grouped by household, says its municipality too.
    let json = got.join(format!("GM0642_{period}_v1_{SDD}_signalen.json.age"));
    let o = Command::new("age").arg("-d").arg("-i").arg(&sdd.age).arg(&json).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["gemeente"], "GM0642", "{doc}");
    let in_json: BTreeSet<String> = doc["huishoudens"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["personen"].as_array().unwrap().iter())
        .flat_map(|p| p["signalen"].as_array().unwrap().iter())
        .map(|sig| sig["referentie_signaalpartner"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(in_json, set(&["V-Z-1", "V-Z-2"]));
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(got.join(format!("GM0505_{period}_v1_{SDD}_manifest.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["executor"], SDD);
    assert_eq!(manifest["municipality"], "GM0505");
    assert_eq!(manifest["counts"]["signals"], 3);
    // Encrypted to the executor only: Dordrecht's key does not open it.
    let dordrecht_key = s.inst.dir.join("clients/GM0505/age.key");
    let o = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&dordrecht_key)
        .arg(got.join(format!("GM0505_{period}_v1_{SDD}_signalen.csv.age")))
        .output()
        .unwrap();
    assert!(!o.status.success(), "Dordrecht decrypted the executor's bundle");

    // Dordrecht picks up over HTTPS: its own bundle holds only what goes to it.
    let (code, body) = s.curl("GM0505", &[], "/v1/pickup");
    assert_eq!(code, 200, "{body}");
    let listing: serde_json::Value = serde_json::from_str(&body).unwrap();
    let listed: BTreeSet<String> =
        listing["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_owned()).collect();
    assert!(listed.iter().all(|n| !n.contains(SDD)), "{listed:?}");
    let own = scratch.path().join("GM0505.csv.age");
    let name = format!("GM0505_{period}_v1_signalen.csv.age");
    let (code, body) = s.curl("GM0505", &["-o", own.to_str().unwrap()], &format!("/v1/pickup/{name}"));
    assert_eq!(code, 200, "{body}");
    let dordrecht = decrypt_csv(&own, &dordrecht_key);
    assert_eq!(referenties(&dordrecht), set(&["V-D-BB", "V-D-BR", "O-D-1"]));

    // Zwijndrecht picks up over SFTP: everything went to the executor, so a manifest with zero
    // counts and no bundle files.
    let o = s.sftp("GM0642", &s.key("GM0642"), "ls -1 /pickup\n");
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains(&format!("GM0642_{period}_v1_manifest.json")), "{out}");
    assert!(!out.contains(".age"), "Zwijndrecht got a bundle file: {out}");
    let zw: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.data().join(format!("parties/GM0642/pickup/GM0642_{period}_v1_manifest.json")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(zw["counts"]["signals"], 0, "{zw}");
    assert_eq!(zw["to_executor"], serde_json::json!({"executor": SDD, "signals": 2}), "{zw}");

    // The executor over HTTPS: the same files, byte for byte, and the download is recorded.
    let (code, body) = s.curl(SDD, &[], "/v1/pickup");
    assert_eq!(code, 200, "{body}");
    let via_https = scratch.path().join("sdd-https.csv.age");
    let name = format!("GM0642_{period}_v1_{SDD}_signalen.csv.age");
    let (code, body) = s.curl(SDD, &["-o", via_https.to_str().unwrap()], &format!("/v1/pickup/{name}"));
    assert_eq!(code, 200, "{body}");
    assert_eq!(std::fs::read(&via_https).unwrap(), std::fs::read(got.join(&name)).unwrap());
    // The first pickup (over SFTP) is noted in the executor's manifest.
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.data().join(format!("parties/{SDD}/pickup/GM0642_{period}_v1_{SDD}_manifest.json")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(m["picked_up"][&name]["how"], "download:sftp", "{m}");

    // Feedback from the executor over SFTP: two of its own signals (one per municipality it
    // serves), and one that went to Dordrecht only.
    let z1 = id_of(&sdd_zwijndrecht, "V-Z-1");
    let dsdd = id_of(&sdd_dordrecht, "V-D-SDD");
    let br = id_of(&dordrecht, "V-D-BR");
    let today = meldpunt::domain::period::local_date(jiff::Timestamp::now());
    let feedback = format!(
        "signaal_id;resultaat;datum;signaalpartner;referentie_signaalpartner\n\
         {z1};hulp_geaccepteerd;{today};;\n{dsdd};al_bekend_schuldhulpverlening;{today};;\n{br};quick_fix;{today};;\n\
         ;quick_fix;{today};vitens;V-Z-2\n;quick_fix;{today};vitens;V-D-BR\n"
    );
    let f = local_file(&s, "terugmelding.csv", feedback.as_bytes());
    let o = s.sftp(SDD, &sdd.ssh, &format!("put {} /feedback/terugmelding.csv\n", f.display()));
    assert!(o.status.success(), "{}", text(&o));
    let receipts: Vec<serde_json::Value> =
        std::fs::read_dir(s.data().join(format!("parties/{SDD}/receipts")))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".receipt.json"))
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    let r = &receipts[0];
    assert_eq!(r["status"], "accepted_with_errors", "{r}");
    assert_eq!(r["lines"]["accepted"], 3, "{r}");
    // By reference: the executor's own V-Z-2 is found, Dordrecht's own V-D-BR is not.
    assert_eq!(r["errors"][1]["line"], 6, "{r}");
    assert_eq!(r["errors"][1]["code"], "referentie_unknown", "{r}");
    assert_eq!(r["errors"][0]["line"], 4, "{r}");
    assert_eq!(r["errors"][0]["code"], "signaal_id_other_gemeente", "{r}");
    // Over HTTPS the executor reads that receipt, and may not send signals.
    let (code, body) = s.curl(SDD, &[], "/v1/receipts");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r["file_id"].as_str().unwrap()), "{body}");
    let (code, body) = s.curl(SDD, &["-X", "PUT", "--data-binary", "x"], "/v1/inbox/x.csv");
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("creditor_only"), "{body}");
    // It reaches the creditor, with what the creditor may see.
    let fb_dir = s.data().join("parties/vitens/feedback");
    let files: Vec<PathBuf> = std::fs::read_dir(&fb_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let routed = std::fs::read_to_string(&files[0]).unwrap();
    assert!(routed.contains("V-Z-1;hulp_geaccepteerd;"), "{routed}");
    assert!(routed.contains("V-D-SDD;niet_opgepakt;"), "{routed}");
    assert!(routed.contains("V-Z-2;opgepakt;"), "{routed}");
    assert!(!routed.contains("V-D-BR"), "{routed}");

    // Zwijndrecht did not receive V-Z-1 itself (the executor did): its feedback is refused.
    let (code, body) = s.curl(
        "GM0642",
        &["-X", "POST", "--data-binary", &format!("signaal_id;resultaat;datum\n{z1};quick_fix;{today}\n")],
        "/v1/feedback?name=t.csv",
    );
    assert_eq!(code, 201, "{body}");
    let receipt: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(receipt["status"], "rejected", "{receipt}");
    assert_eq!(receipt["errors"][0]["code"], "signaal_id_other_gemeente", "{receipt}");

    // A forced re-run is a new version for the executor too, superseding the first.
    let o = common::meldpunt(&s, &["batch", "run", "--early", "--force", "--period", &period]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("SDD:GM0642"), "the summary lists the executor: {}", text(&o));
    let v2: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.data().join(format!("parties/{SDD}/pickup/GM0642_{period}_v2_{SDD}_manifest.json")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!((v2["version"].as_u64(), v2["supersedes"].as_u64()), (Some(2), Some(1)), "{v2}");
    assert_eq!(v2["counts"]["signals"], 2, "{v2}");

    // The audit names the executor as itself.
    let events = s.audit();
    for action in ["login", "pickup", "feedback"] {
        assert!(
            events.iter().any(|e| e.actor == "uitvoerder:SDD" && e.action == action),
            "no {action} event by uitvoerder:SDD"
        );
    }

    // The executor's feedback receipts follow `[retention] feedback_months` (3) like a
    // municipality's: kept two months on, gone four months on.
    let receipts = s.data().join(format!("parties/{SDD}/receipts"));
    let count = || std::fs::read_dir(&receipts).unwrap().count();
    let held = count();
    assert!(held >= 2, "receipt JSON, text and signature");
    for (months, left) in [(2, held), (4, 0)] {
        let at = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .checked_add(jiff::Span::new().months(months));
        let at = at.unwrap().timestamp().to_string();
        let o = common::meldpunt(&s, &["shred", "--at", &at]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(count(), left, "{months} months on: {}", text(&o));
    }
}

#[test]
fn an_erasure_reissues_the_executors_bundle_and_removes_the_unpicked_one() {
    let Drechtsteden { s, scratch, sdd, period } = drechtsteden();
    // Right of access: the export names the executor as a recipient.
    let out = scratch.path().join("inzage.json");
    let o = common::meldpunt(
        &s,
        &["inzage", "--postcode", "3331AA", "--huisnummer", "3", "--out", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let export: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let to = &export["signalen"][0]["geleverd_aan"];
    assert_eq!((to["gemeente"].as_str(), to["uitvoerder"].as_str()), (Some("GM0642"), Some(SDD)), "{export}");
    assert_eq!(to["gemeente_zelf"], false, "{export}");
    // V-Z-2 (3331AA 3) went to the executor only; nobody picked anything up yet.
    let o = common::meldpunt(&s, &["erase", "--postcode", "3331AA", "--huisnummer", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    let got = scratch.path().join("after-erase");
    let names = get_pickup(&s, &sdd, &got);
    let zwijndrecht: Vec<&String> = names.iter().filter(|n| n.starts_with("GM0642_")).collect();
    assert!(
        zwijndrecht.iter().all(|n| n.contains("_v2_SDD_")) && zwijndrecht.len() == 3,
        "the executor's unpicked v1 of GM0642 is replaced by v2: {names:?}"
    );
    assert!(names.iter().any(|n| n.starts_with("GM0505_") && n.contains("_v1_SDD_")), "{names:?}");
    let rows = decrypt_csv(&got.join(format!("GM0642_{period}_v2_{SDD}_signalen.csv.age")), &sdd.age);
    assert_eq!(referenties(&rows), set(&["V-Z-1"]), "the erased signal is gone, the other stays");
}
