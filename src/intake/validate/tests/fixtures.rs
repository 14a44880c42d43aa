//! The named files in `testdata/validate/`, each run through the validator and checked
//! against its expected outcome.

use std::path::PathBuf;

use super::*;

/// What a fixture must give.
enum Expect {
    /// Rejected as a whole: code, byte offset, line.
    File(&'static str, Option<u64>, Option<u64>),
    /// Read: the tally and each sink call as `line:referentie` / `line:objected:ref` / `line:codes`.
    Records(Tally, &'static [&'static str]),
}

#[test]
fn every_fixture_gives_its_expected_outcome() {
    let cases = [
        (
            "valid_semicolon.csv",
            Expect::Records(tally(4, 3, 0, 1), &["2:W-001", "3:W-002", "4:W-003", "5:objected:W-004"]),
        ),
        (
            "comma_crlf_bom.csv",
            Expect::Records(tally(3, 1, 2, 0), &["2:E-1", "3:contactpoging_required", "4:soort_not_allowed"]),
        ),
        ("latin1.csv", Expect::File("encoding_invalid", Some(133), Some(3))),
        ("header_only.csv", Expect::File("no_data_rows", None, None)),
        ("empty.csv", Expect::File("no_data_rows", None, None)),
        ("missing_columns.csv", Expect::File("columns_missing", None, Some(1))),
        (
            "quoted_multiline.csv",
            Expect::Records(
                tally(4, 2, 2, 0),
                &[
                    "2:Q-1",
                    "6:Q-2",
                    "7:field_count",
                    "8:huisnummer_invalid+postcode_invalid+bedrag_out_of_range+ontstaansdatum_invalid",
                ],
            ),
        ),
        (
            "mixed.jsonl",
            Expect::Records(
                tally(5, 1, 3, 1),
                &[
                    "1:J-1",
                    "3:objected:J-2",
                    "4:record_malformed",
                    "5:bedrag_invalid+arrears_too_long",
                    "6:record_malformed",
                ],
            ),
        ),
        ("blank.jsonl", Expect::File("no_data_rows", None, None)),
    ];
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/validate");
    let mut seen = 0;
    for (name, expect) in cases {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let format = Format::from_name(name).expect("fixture has a known extension");
        let (result, events) = run(&bytes, format);
        match (expect, result) {
            (Expect::File(code, offset, line), Err(ValidateError::File(e))) => {
                assert_eq!((e.code.as_str(), e.byte_offset), (code, offset), "{name}: {}", e.message);
                if line.is_some() {
                    assert_eq!(e.line, line, "{name}");
                }
            }
            (Expect::Records(t, calls), Ok(got)) => {
                assert_eq!(got, t, "{name}");
                assert_eq!(summary(&events), calls, "{name}");
            }
            (_, other) => panic!("{name}: unexpected outcome {other:?}"),
        }
        seen += 1;
    }
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(seen, on_disk, "every file in testdata/validate has an expectation");
}
