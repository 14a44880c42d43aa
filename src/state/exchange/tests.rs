use super::*;
use crate::state::State;

/// `n` deliveries of period 2026-10, ids `S-<i>`, the odd ones to GM0642.
fn deliveries(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("S-{i:04}"), format!("REF-{i}"))).collect()
}

fn record(state: &State, version: u32, rows: &[(String, String)], moved: bool) {
    let signals: Vec<Delivery<'_>> = rows
        .iter()
        .enumerate()
        .map(|(i, (id, referentie))| Delivery {
            signal_id: id,
            municipality: if moved || i % 2 == 0 { "GM0505" } else { "GM0642" },
            creditor: "woonstad",
            referentie,
        })
        .collect();
    record_delivered(&mut state.lock(), "2026-10", version, "2026-10-26T02:00:00Z", &signals).unwrap();
}

#[test]
fn delivered_signals_are_recorded_in_full_statements_and_a_remainder_and_a_redo_replaces_them() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("s.db")).unwrap();
    // Two full statements of rows and a remainder; and one short of a statement on its own.
    let rows = deliveries(2 * ROWS_PER_UPSERT + 5);
    record(&state, 1, &rows, false);
    let conn = state.lock();
    let mut all = delivered_in(&conn, "2026-10").unwrap();
    all.sort();
    assert_eq!(all.len(), rows.len());
    for (i, (id, municipality)) in all.iter().enumerate() {
        assert_eq!(id, &rows[i].0);
        assert_eq!(municipality, if i % 2 == 0 { "GM0505" } else { "GM0642" }, "{id}");
    }
    let last = delivered(&conn, &rows[rows.len() - 1].0).unwrap().expect("the remainder is recorded");
    assert_eq!((last.referentie.as_str(), last.creditor.as_str()), ("REF-132", "woonstad"));
    drop(conn);

    // A later version of the same period replaces the rows (none added), with what changed.
    record(&state, 2, &rows, true);
    let conn = state.lock();
    let again = delivered_in(&conn, "2026-10").unwrap();
    assert_eq!(again.len(), rows.len());
    assert!(again.iter().all(|(_, m)| m == "GM0505"), "{again:?}");
    let version: u32 = conn
        .query_row("SELECT MIN(version) FROM delivered WHERE period = '2026-10'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    drop(conn);

    // Fewer rows than one statement holds.
    let few = deliveries(ROWS_PER_UPSERT - 1);
    record(&state, 3, &few, false);
    let conn = state.lock();
    let versions: Vec<u32> = conn
        .prepare("SELECT version FROM delivered ORDER BY signal_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(versions.iter().filter(|&&v| v == 3).count(), few.len());
    assert_eq!(versions.len(), rows.len());
}

#[test]
fn a_database_made_before_the_ddas_columns_gets_them_and_keeps_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE feedback (file_id TEXT NOT NULL, line INTEGER NOT NULL, signal_id TEXT NOT NULL,
               resultaat TEXT NOT NULL, datum TEXT NOT NULL, PRIMARY KEY (file_id, signal_id));
             INSERT INTO feedback VALUES ('F1', 2, 'S-1', 'quick_fix', '2026-11-20');",
        )
        .unwrap();
    }
    let state = State::open(&path).unwrap();
    // Opening again finds the columns there.
    let state2 = State::open(&path).unwrap();
    drop(state2);
    let conn = state.lock();
    let row: (String, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT resultaat, datum_opgepakt, contactpogingen FROM feedback WHERE signal_id = 'S-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row, ("quick_fix".to_owned(), None, None));
}

/// Found by a flaky corpus test: `received_at` is written as jiff prints it, with as many
/// decimals as it needs, so as text `…:00.5Z` sorts after `…:00.51Z` and `…:00Z` after
/// both. The latest report is the one received last, whatever the digits.
#[test]
fn the_latest_feedback_is_the_last_received_even_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let state = State::open(&dir.path().join("state.db")).unwrap();
    // Received in this order; as text each sorts before the one before it.
    let files = [("F1", "2026-11-20T10:00:00Z", "a"), ("F2", "2026-11-20T10:00:00.5Z", "b"), ("F3", "2026-11-20T10:00:00.51Z", "c")];
    for (i, (id, at, resultaat)) in files.into_iter().enumerate() {
        let file = FeedbackFile {
            file_id: id,
            municipality: "GM0505",
            name: "f.csv",
            sha256: "00",
            bytes: 1,
            received_at: at,
            status: "accepted",
            receipt: "{}",
        };
        let line = FeedbackLine {
            line: 2,
            signal_id: "S-1".into(),
            resultaat: resultaat.into(),
            datum: "2026-11-20".into(),
            datum_opgepakt: None,
            contactpogingen: None,
        };
        record_feedback(&mut state.lock(), &file, &[line], &[]).unwrap();
        let latest = latest_feedback(&state.lock(), "S-1").unwrap().unwrap();
        assert_eq!(latest.resultaat, resultaat, "after file {}", i + 1);
    }
}
