//! CSV as a file: delimiters, quoting, line numbers, BOM, CRLF, encoding, structure.

use std::io::Read;

use super::*;
use Field as F;

/// A reader that hands out `n` bytes per read, to cross every chunk boundary.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// Runs the validator reading `n` bytes at a time.
fn run_trickled(bytes: &[u8], n: usize) -> (Result<Tally, ValidateError>, Vec<Event>) {
    run_from(Trickle(bytes, n), Format::Csv)
}

/// A base record as one CSV line with `delimiter`, referentie replaced.
fn line(referentie: &str, delimiter: char, changes: &[(Field, &str)]) -> String {
    let mut rec = with(changes);
    rec[0].1 = referentie.to_owned();
    rec.iter().map(|(_, v)| csv_value(v, delimiter)).collect::<Vec<_>>().join(&delimiter.to_string())
}

/// The full header with `delimiter`, plus an unknown last column `opmerking`.
fn header(delimiter: char) -> String {
    let mut names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    names.push("opmerking");
    names.join(&delimiter.to_string())
}

/// A file whose records start on known lines despite quoted line breaks and blank rows.
fn tricky_file() -> String {
    let mut s = String::new();
    s += &(header(';') + "\n"); // 1
    s += &(line("A-1", ';', &[(F::Achternaam, "Berg; van den")]) + ";\"regel een\nregel; twee\"\n"); // 2-3
    s += "\n"; // 4
    s += &(line("A-2", ';', &[]) + ";\n"); // 5
    s += "   \n"; // 6
    s += ";;;;\n"; // 7
    s += &(line("A-3", ';', &[(F::Straatnaam, "Voorstraat\nachterom")]) + ";x\n"); // 8-9
    s += &(line("A-4", ';', &[]) + ";x;extra\n"); // 10
    s += &(line("A-5", ';', &[]) + ";\"\"\"quoted\"\"\""); // 11, no final newline
    s
}

const TRICKY: [&str; 5] = ["2:A-1", "5:A-2", "8:straatnaam_invalid", "10:field_count", "11:A-5"];

#[test]
fn line_numbers_survive_quoted_newlines_blank_rows_and_no_final_newline() {
    let file = tricky_file();
    let (r, events) = run(file.as_bytes(), Format::Csv);
    assert_eq!(summary(&events), TRICKY);
    assert_eq!(r.unwrap(), tally(5, 3, 2, 0));
    let Event::Accepted(_, rec) = &events[0] else { panic!() };
    assert_eq!(rec.achternaam, "Berg; van den");
}

#[test]
fn crlf_and_bom_give_the_same_result() {
    let crlf = tricky_file().replace('\n', "\r\n");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(crlf.as_bytes());
    for file in [crlf.as_bytes(), &bom[..]] {
        let (r, events) = run(file, Format::Csv);
        assert_eq!(summary(&events), TRICKY);
        assert_eq!(r.unwrap().total, 5);
    }
    // CRLF with a final newline.
    let (_, events) = run((crlf + "\r\n").as_bytes(), Format::Csv);
    assert_eq!(summary(&events), TRICKY);
}

#[test]
fn any_chunking_of_the_input_gives_the_same_result() {
    let file = tricky_file().replace('\n', "\r\n");
    let whole = summary(&run(file.as_bytes(), Format::Csv).1);
    for n in [1, 2, 3, 7, 64] {
        assert_eq!(summary(&run_trickled(file.as_bytes(), n).1), whole, "chunk {n}");
    }
}

#[test]
fn semicolon_and_comma_files_read_alike() {
    for d in [';', ','] {
        let note = csv_value(&format!("met{d}scheiding"), d);
        let file = format!(
            "{}\n{}{d}{note}\n{}{d}\n",
            header(d),
            line("A-1", d, &[]),
            line("A-2", d, &[(F::Bedrag, "12,5")]),
        );
        let (r, events) = run(file.as_bytes(), Format::Csv);
        assert_eq!(summary(&events), ["2:A-1", "3:A-2"], "delimiter {d}");
        let Some(Event::Accepted(_, rec)) = events.last() else { panic!() };
        assert_eq!(rec.bedrag.0, 1250, "delimiter {d}");
        assert_eq!(r.unwrap().total, 2);
    }
}

#[test]
fn columns_in_any_order_and_case_with_extras_ignored() {
    let file = "Bedrag , POSTCODE,klantnummer,huisnummer,achternaam,soort,referentie,Ontstaansdatum,contactpoging\n\
                \"12,50\",1234 ab,K-99,7,Jansen,gas,G-1,2026-01-02,ja\n";
    let (r, events) = run(file.as_bytes(), Format::Csv);
    assert_eq!(r.unwrap().accepted, 1, "{events:?}");
    let [Event::Accepted(2, rec)] = &events[..] else { panic!("{events:?}") };
    assert_eq!((rec.referentie.as_str(), rec.huisnummer, rec.postcode.as_str()), ("G-1", 7, "1234AB"));
    assert_eq!(rec.signaaldatum, RECEIVED_ON);
    assert_eq!(rec.fase, crate::domain::signal::Fase::Eerste);
}

#[test]
fn dutch_names_with_diacritics_pass_and_are_stored_nfc() {
    let names =
        [("", "Ðorđević"), ("", "Çelik-Öztürk"), ("'t", "Hart"), ("", "Müller"), ("", "Mu\u{308}ller")];
    let recs: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, (vv, n))| {
            let mut r = with(&[(F::Voorvoegsel, vv), (F::Achternaam, n), (F::Voorletters, "É.")]);
            r[0].1 = format!("D-{i}");
            r
        })
        .collect();
    let (r, events) = run(&csv(&recs), Format::Csv);
    assert_eq!(r.unwrap().accepted, 5, "{events:?}");
    let stored: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::Accepted(_, rec) => rec.achternaam.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(stored, ["Ðorđević", "Çelik-Öztürk", "Hart", "Müller", "Müller"]);
    let Event::Accepted(_, hart) = &events[2] else { panic!() };
    assert_eq!(hart.voorvoegsel.as_deref(), Some("'t"));
}

#[test]
fn latin1_file_is_rejected_at_the_exact_byte() {
    let mut latin1 = b"referentie;soort;achternaam;huisnummer;postcode;bedrag;ontstaansdatum\n".to_vec();
    latin1.extend_from_slice(b"R1;woninghuur;M\xfcller;1;3311AB;100,00;2026-01-01\n");
    let e = file_error(&latin1, Format::Csv);
    assert_eq!((e.code.as_str(), e.byte_offset, e.line), ("encoding_invalid", Some(85), Some(2)));
    assert!(e.message.contains("UTF-8") && e.message.contains("85"), "{}", e.message);
    assert!(!e.message.contains("ller"), "{}", e.message);
    // With a BOM the offset counts the BOM too.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&latin1);
    assert_eq!(file_error(&bom, Format::Csv).byte_offset, Some(88));
}

#[test]
fn late_bad_byte_rejects_the_file_after_records_were_handed_over() {
    let mut file = csv(&vec![base(); 3000]);
    let at = file.len() - 10;
    file[at] = 0xE9; // Latin-1 "é"
    let expected_line = 1 + file[..at].iter().filter(|&&b| b == b'\n').count() as u64;
    let e = file_error(&file, Format::Csv);
    assert_eq!((e.byte_offset, e.line), (Some(at as u64), Some(expected_line)));
    let (_, events) = run(&file, Format::Csv);
    assert!(!events.is_empty(), "records before the bad byte are handed over");
}

#[test]
fn empty_header_only_and_blank_files_have_no_data_rows() {
    let header_only = csv(&[]);
    let mut blank_rows = header_only.clone();
    blank_rows.extend_from_slice(b"\n;;;\n  \r\n\n");
    for (file, empty) in [
        (&b""[..], true),
        (&b"\n\r\n  \n"[..], true),
        (&b"\xEF\xBB\xBF"[..], true),
        (&header_only[..], false),
        (&blank_rows[..], false),
    ] {
        let e = file_error(file, Format::Csv);
        assert_eq!(e.code, "no_data_rows", "{file:?}");
        assert_eq!(e.message.contains("empty"), empty, "{}", e.message);
    }
}

#[test]
fn missing_columns_are_all_named_before_looking_at_rows() {
    let e = file_error(b"referentie;Soort;naam;postcode\nA-1;gas;Jansen;3311AB\n", Format::Csv);
    assert_eq!(e.code, "columns_missing");
    for name in ["achternaam", "huisnummer", "bedrag", "ontstaansdatum"] {
        assert!(e.message.contains(name), "{}", e.message);
    }
    assert!(
        e.message.contains("columns achternaam, huisnummer, bedrag, ontstaansdatum are missing"),
        "{}",
        e.message
    );
    assert_eq!(e.line, Some(1));
    // A file without a header row: its first data row is not echoed.
    let e = file_error(b"A-1;gas;Jansen;12;3311AB;100;2026-01-01\n", Format::Csv);
    assert_eq!(e.code, "columns_missing");
    assert!(!e.message.contains("Jansen") && !e.message.contains("3311AB"), "{}", e.message);
    // Neither delimiter: one column.
    let e = file_error(b"referentie soort achternaam\nx\n", Format::Csv);
    assert_eq!(e.code, "columns_missing");
    assert!(e.message.contains("referentie, soort, achternaam"), "{}", e.message);
}

#[test]
fn doubled_column_rejects_the_file() {
    let file = format!("{};Postcode\n", Field::ALL.map(Field::name).join(";"));
    assert_eq!(file_error(file.as_bytes(), Format::Csv).code, "columns_duplicate");
}

#[test]
fn unclosed_quote_cannot_swallow_the_file() {
    let mut file = csv(&[base()]);
    file.extend_from_slice(b"A-2;\"gas;");
    for _ in 0..200_000 {
        file.extend_from_slice(b"0123456789\n");
    }
    let e = file_error(&file, Format::Csv);
    assert_eq!((e.code.as_str(), e.line), ("record_too_long", Some(3)));
}

#[test]
fn input_and_sink_failures_are_told_apart() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::UnexpectedEof, "upload aborted"))
        }
    }
    struct Full;
    impl RecordSink for Full {
        fn accepted(&mut self, _: u64, _: SignalRecord) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
        fn objected(&mut self, _: u64, _: &str) -> io::Result<()> {
            Ok(())
        }
        fn rejected(&mut self, _: &[RecordError]) -> io::Result<()> {
            Ok(())
        }
    }
    let rules = RuleSet::default();
    let ctx = Context { allowed_kinds: &ALLOWED, rules: &rules, received_on: RECEIVED_ON };
    for format in [Format::Csv, Format::Jsonl] {
        let r = validate(Broken, format, &ctx, &mut Collect::default());
        assert!(matches!(r, Err(ValidateError::Input(_))), "{r:?}");
    }
    let r = validate(&csv(&[base()])[..], Format::Csv, &ctx, &mut Full);
    assert!(matches!(r, Err(ValidateError::Sink(_))), "{r:?}");
}

#[test]
fn demo_sample_files_are_accepted_whole() {
    for kind in ALLOWED {
        let mut file = Vec::new();
        crate::demo::sample::write_csv(&mut file, "S", kind, 300, 40, 9, RECEIVED_ON).unwrap();
        let (r, events) = run(&file, Format::Csv);
        let t = r.unwrap();
        assert_eq!(
            (t.total, t.accepted),
            (300, 300),
            "{kind}: {:?}",
            events.iter().find(|e| !matches!(e, Event::Accepted(..)))
        );
    }
}

/// Found by fuzzing (fuzz target `signal_csv`): a header without the required columns and a
/// bad byte two lines further was `encoding_invalid` when the bytes came in one read and
/// `columns_missing` when they came in small ones. The file error no longer depends on how
/// the upload was chunked.
#[test]
fn file_error_does_not_depend_on_chunking() {
    let file = b"referentie;soort;achternaam\nW-1;gas;Berg\nW-2;gas;M\xFCller\n";
    let whole = file_error(file, Format::Csv);
    assert_eq!(whole.code, "columns_missing");
    for n in [1, 2, 3, 7, 64] {
        match run_trickled(file, n).0 {
            Err(ValidateError::File(e)) => assert_eq!(e, whole, "{n} bytes per read"),
            other => panic!("{n} bytes per read: {other:?}"),
        }
    }
}

/// The reader takes the upload chunk by chunk, checks records where they lie and keeps only
/// the one cut off at a chunk's end: whatever the chunk sizes, the same events and counts, and
/// a record that takes more than 1 MiB is `record_too_long` whether it ends or not.
#[test]
fn chunk_sizes_change_nothing_and_a_record_over_1_mib_is_too_long() {
    // Tricky lines, a long quoted value (not too long for the reader, too long for the field)
    // and a long unquoted one, multi-byte characters cut at every position.
    let mut file = tricky_file();
    file += "\n";
    file += &(line("L-1", ';', &[(F::Straatnaam, &"x\"y".repeat(40_000))]) + ";x\n");
    file += &(line("L-2", ';', &[(F::Plaatsnaam, &"é".repeat(50_000))]) + ";x\n");
    file += &(line("L-3", ';', &[(F::Achternaam, "Ðorđević 𝄞")]) + ";x\n");
    let (whole, events) = run(file.as_bytes(), Format::Csv);
    let whole = whole.unwrap();
    assert_eq!(whole, tally(8, 4, 4, 0));
    for n in [1, 2, 3, 5, 64, 4095, 65_537, 300_000] {
        let (r, chunked) = run_trickled(file.as_bytes(), n);
        assert_eq!(r.unwrap(), whole, "{n} bytes per read");
        assert_eq!(chunked, events, "{n} bytes per read");
    }

    // Just over 1 MiB from the end of the record before: too long, on the line it starts.
    let head = header(';') + "\n";
    let over = line("T-1", ';', &[(F::Straatnaam, &"s".repeat(1 << 20))]) + ";x\n";
    let under = line("T-1", ';', &[(F::Straatnaam, &"s".repeat((1 << 20) - 400))]) + ";x\n";
    assert!(under.len() < 1 << 20, "{}", under.len());
    for n in [7, 65_536, 2 << 20] {
        for (record, too_long) in [(&over, true), (&under, false)] {
            for tail in ["", "\n"] {
                let text = format!("{head}\n{}{tail}", record.trim_end_matches('\n'));
                match run_trickled(text.as_bytes(), n).0 {
                    Err(ValidateError::File(e)) if too_long => {
                        assert_eq!((e.code.as_str(), e.line), ("record_too_long", Some(2)), "{n}")
                    }
                    Ok(t) if !too_long => assert_eq!(t.total, 1, "{n}"),
                    other => panic!("{n} bytes per read, too long {too_long}: {other:?}"),
                }
            }
        }
    }
}

/// A byte order mark is dropped, and a second one right after it too (as the `csv` crate did),
/// whatever the chunking; a third one is part of the first column name.
#[test]
fn byte_order_marks_at_the_start_do_not_depend_on_the_chunking() {
    let body = header(';') + "\n" + &line("B-1", ';', &[]) + ";x\n";
    for marks in 1..=3 {
        let file = "\u{feff}".repeat(marks) + &body;
        let whole = run(file.as_bytes(), Format::Csv).0;
        assert_eq!(whole.is_ok(), marks <= 2, "{marks} marks: {whole:?}");
        for n in 1..=7 {
            let (r, _) = run_trickled(file.as_bytes(), n);
            assert_eq!(format!("{r:?}"), format!("{whole:?}"), "{marks} marks, {n} bytes per read");
        }
    }
}
