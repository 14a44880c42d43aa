//! History read through key indexes gives what reading the sealed files gives.

use std::io::Write as _;

use super::*;
use crate::domain::outcome::FileStatus;
use crate::domain::signal::SignalRecord;
use crate::layout::Layout;
use crate::state::files::{self, FileRow};
use crate::vault::sealed_line::{SealedLine, tests::record, write_header};

fn rec(referentie: &str, huisnummer: u32, cents: u64) -> SignalRecord {
    let mut r = record();
    r.referentie = referentie.into();
    r.huisnummer = huisnummer;
    r.bedrag = Cents(cents);
    r
}

/// Seals `lines` as file `id` in `period` (over an earlier file of that id).
fn seal(vault: &Vault, period: Period, id: &str, lines: &[SealedLine]) {
    let mut plain = Vec::new();
    write_header(&mut plain);
    for l in lines {
        l.encode(&mut plain).unwrap();
    }
    let mut w = vault.seal_tmp(period, id).unwrap();
    w.write_all(&plain).unwrap();
    w.finish().unwrap().file().unwrap();
}

/// Seals `lines` as file `id` of `creditor` in `period` and files its state row.
fn file(state: &State, vault: &Vault, period: Period, creditor: &str, id: &str, lines: &[SealedLine]) {
    seal(vault, period, id, lines);
    let row = FileRow {
        file_id: id.into(),
        creditor: creditor.into(),
        period: period.to_string(),
        name: format!("{id}.csv"),
        sha256: id.into(),
        bytes: 1,
        received_at: format!("2026-01-01T00:00:0{}Z", id.len() % 10),
        status: FileStatus::Accepted,
        accepted: lines.len() as u64,
        rejected: 0,
        not_forwarded: 0,
        replaced: 0,
        refs: Vec::new(),
        receipt: "{}".into(),
    };
    files::insert(&state.lock(), &row).unwrap();
}

#[test]
fn through_key_indexes_history_is_what_the_sealed_files_give() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(dir.path());
    let vault = Vault::open(layout.clone()).unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    let p: Period = "2026-10".parse().unwrap();
    let (m1, m3) = (p.prev(), p.prev().prev().prev());
    // Month P-1: a record, a correction of it (lower) in a later file, a withdrawn one, one of
    // another household; month P-3: the same household under another referentie.
    file(
        &state,
        &vault,
        m1,
        "eneco",
        "A1",
        &[
            SealedLine::Record(2, rec("E-1", 12, 5000)),
            SealedLine::Record(3, rec("E-2", 12, 7000)),
            SealedLine::Record(4, rec("E-3", 99, 100)),
        ],
    );
    file(
        &state,
        &vault,
        m1,
        "eneco",
        "A22",
        &[SealedLine::Record(2, rec("E-1", 12, 4000)), SealedLine::Withdrawn(3, "E-2".into())],
    );
    file(&state, &vault, m3, "vitens", "B1", &[SealedLine::Record(2, rec("V-9", 12, 300))]);
    // The period asks about household 12 and E-1, E-2, V-9.
    let inputs: Vec<Input> = [("eneco", "E-1"), ("eneco", "E-2"), ("vitens", "V-9")]
        .into_iter()
        .map(|(c, r)| Input {
            signal_id: format!("S-{r}"),
            creditor: CreditorId::parse(c).unwrap(),
            record: Box::new(rec(r, 12, 6000)),
        })
        .collect();
    let wanted = Wanted::of(&inputs);
    let read = |keep: bool| read(&state, &vault, p, 6, &wanted, keep).unwrap();
    let indexes = || -> Vec<_> { ["A1", "A22"].map(|id| vault.index_path(m1, id).exists()).into() };

    let plain = read(false);
    assert_eq!(indexes(), [false, false], "no index without keep_index");
    let eneco = CreditorId::parse("eneco").unwrap();
    let key = HouseholdKey::of(&inputs[0].record);
    assert!(plain.opeenvolgend(&key));
    assert_eq!(plain.highest(&eneco, "E-1"), Some(Cents(4000)), "the correction stood at the end");
    assert_eq!(plain.highest(&eneco, "E-2"), None, "withdrawn");
    let vitens = CreditorId::parse("vitens").unwrap();
    assert_eq!(plain.highest(&vitens, "V-9"), Some(Cents(300)));
    assert_eq!(plain.highest(&vitens, "E-1"), None, "amounts stay with their creditor");
    assert_eq!(plain.highest(&eneco, "V-9"), None);

    assert_eq!(read(true), plain, "the first read writes the indexes");
    assert_eq!(indexes(), [true, true]);
    assert_eq!(read(true), plain, "read through the indexes");
    // An index that no longer reads (damaged, or another format) is read around and rewritten.
    std::fs::write(vault.index_path(m1, "A1"), b"not age").unwrap();
    vault.write_index(m1, "A22", b"meldpunt-keys-0\nR").unwrap();
    assert_eq!(read(true), plain);
    assert!(vault.read_index(m1, "A1").unwrap().is_some_and(|b| key_index::for_each(&b, |_| {}).is_ok()));
    assert!(vault.read_index(m1, "A22").unwrap().is_some_and(|b| key_index::for_each(&b, |_| {}).is_ok()));
    // The indexes are what is read: a sealed file changed behind its index's back (as an
    // erasure re-seals it) is not seen until the index goes, which is why an erasure removes
    // the index first.
    seal(&vault, m1, "A22", &[SealedLine::Record(2, rec("E-1", 12, 1))]);
    assert_eq!(read(true), plain);
    vault.remove_index(m1, "A22").unwrap();
    let changed = read(true);
    assert_eq!(changed.highest(&eneco, "E-1"), Some(Cents(1)));
    assert_eq!(changed.highest(&eneco, "E-2"), Some(Cents(7000)), "no longer withdrawn");
    assert_eq!(read(true), changed, "and its new index says the same");
}
