//! Tests of the routing table: formats, every rule and problem, longest-match lookup.

use super::*;

fn pc(s: &str) -> Postcode {
    Postcode::parse(s).unwrap()
}

fn gm(s: &str) -> MunicipalityCode {
    MunicipalityCode::parse(s).unwrap()
}

fn table(text: &str) -> RoutingTable {
    RoutingTable::parse(text).unwrap_or_else(|p| panic!("{p:#?}"))
}

fn problems(text: &str) -> Vec<RoutingProblem> {
    match RoutingTable::parse(text) {
        Ok(_) => panic!("expected problems in {text:?}"),
        Err(p) => p,
    }
}

/// The only problem of `text`.
fn only_problem(text: &str) -> RoutingProblem {
    let p = problems(text);
    assert_eq!(p.len(), 1, "{p:#?}");
    p.into_iter().next().unwrap()
}

fn route(t: &RoutingTable, postcode: &str, n: u32) -> Option<String> {
    t.route(&pc(postcode), n).map(|c| c.as_str().to_owned())
}

const H: &str = "postcode;huisnummer_van;huisnummer_tot;gemeente\n";

#[test]
fn reads_the_table_the_demo_writes() {
    let t = table(
        "postcode;huisnummer_van;huisnummer_tot;gemeente\n3311;;;GM0505\n3312;;;GM0505\n3314;;;GM0505\n\
         3317;;;GM0505\n3331;;;GM0642\n3332;;;GM0642\n",
    );
    assert_eq!(t.format(), SourceFormat::Canonical);
    assert_eq!(t.len(), 6);
    assert_eq!(t.rows(), 6);
    assert_eq!(t.counts(), Counts { pc6: 0, pc6_ranges: 0, pc4: 6, pc4_ranges: 0 });
    assert_eq!(t.municipalities(), [gm("GM0505"), gm("GM0642")].into());
    assert_eq!(route(&t, "3311AB", 12).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3331ZZ", 1).as_deref(), Some("GM0642"));
    assert_eq!(route(&t, "3313AA", 1), None);
    assert_eq!(route(&t, "9999ZZ", 1), None);
}

#[test]
fn longest_match_wins_pc6_range_then_pc6_then_pc4_range_then_pc4() {
    let t = table(&format!(
        "{H}3311;;;GM0001\n3311;1;10;GM0002\n3311AB;;;GM0003\n3311AB;5;6;GM0004\n3311AC;20;30;GM0005\n"
    ));
    assert_eq!(route(&t, "3311AB", 5).as_deref(), Some("GM0004"), "PC6 with range");
    assert_eq!(route(&t, "3311AB", 6).as_deref(), Some("GM0004"));
    assert_eq!(route(&t, "3311AB", 7).as_deref(), Some("GM0003"), "PC6 beats PC4 with range");
    assert_eq!(route(&t, "3311AB", 1).as_deref(), Some("GM0003"));
    assert_eq!(route(&t, "3311AC", 25).as_deref(), Some("GM0005"));
    assert_eq!(route(&t, "3311AC", 3).as_deref(), Some("GM0002"), "PC4 with range");
    assert_eq!(route(&t, "3311AC", 11).as_deref(), Some("GM0001"), "PC4");
    assert_eq!(route(&t, "3311ZZ", 99999).as_deref(), Some("GM0001"));
    assert_eq!(route(&t, "3312AA", 1), None);
    assert_eq!(t.counts(), Counts { pc6: 3, pc6_ranges: 2, pc4: 2, pc4_ranges: 1 });
    assert_eq!(t.len(), 5);
}

#[test]
fn pc6_without_pc4_routes_only_that_pc6() {
    let t = table(&format!("{H}3311AB;;;GM0505\n"));
    assert_eq!(route(&t, "3311AB", 1).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3311AC", 1), None);
    assert_eq!(t.counts(), Counts { pc6: 1, pc6_ranges: 0, pc4: 0, pc4_ranges: 0 });
}

#[test]
fn ranges_are_inclusive_and_several_per_postcode() {
    let t = table(&format!("{H}3311AB;2;8;GM0505\n3311AB;10;10;GM0642\n3311AB;11;99999;GM0505\n"));
    assert_eq!(route(&t, "3311AB", 1), None);
    assert_eq!(route(&t, "3311AB", 2).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3311AB", 8).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3311AB", 9), None);
    assert_eq!(route(&t, "3311AB", 10).as_deref(), Some("GM0642"));
    assert_eq!(route(&t, "3311AB", 11).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3311AB", 99999).as_deref(), Some("GM0505"));
}

#[test]
fn overlapping_or_adjacent_ranges_of_one_municipality_merge() {
    let t = table(&format!(
        "{H}3311AB;1;10;GM0505\n3311AB;5;20;GM0505\n3311AB;21;30;GM0505\n3311AB;40;50;GM0505\n"
    ));
    assert_eq!(t.counts().pc6_ranges, 2);
    assert_eq!(route(&t, "3311AB", 30).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3311AB", 35), None);
    assert!(t.to_canonical().contains("3311AB;1;30;GM0505\n3311AB;40;50;GM0505\n"), "{}", t.to_canonical());
}

#[test]
fn postcodes_and_codes_are_normalised() {
    let t = table(&format!("{H} 3311 ab ;;;gm0505\n3312 ; 1 ; 9 ; GM0642 \n"));
    assert_eq!(route(&t, "3311AB", 1).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3312XY", 9).as_deref(), Some("GM0642"));
    assert_eq!(t.to_canonical(), format!("{H}3311AB;;;GM0505\n3312;1;9;GM0642\n"));
}

#[test]
fn bom_crlf_blank_lines_and_quotes_are_accepted() {
    let t = table(
        "\u{feff}postcode;huisnummer_van;huisnummer_tot;gemeente\r\n\r\n\"3311AB\";;;\"GM0505\"\r\n\n3312;;;GM0505\r\n",
    );
    assert_eq!(t.format(), SourceFormat::Canonical);
    assert_eq!(t.len(), 2);
    assert_eq!(route(&t, "3312AA", 3).as_deref(), Some("GM0505"));
}

#[test]
fn duplicate_lines_with_the_same_municipality_are_fine() {
    let t = table(&format!("{H}3311;;;GM0505\n3311;;;GM0505\n3311AB;1;5;GM0505\n3311AB;1;5;GM0505\n"));
    assert_eq!(t.len(), 2);
    assert_eq!(t.rows(), 4);
}

#[test]
fn canonical_output_parses_to_the_same_table() {
    let t = table(&format!(
        "{H}9999ZZ;;;GM0003\n3311AB;5;6;GM0004\n3311;;;GM0001\n3311AB;;;GM0003\n3311;1;10;GM0002\n1000AA;;;GM0363\n"
    ));
    let text = t.to_canonical();
    assert_eq!(
        text,
        format!(
            "{H}1000AA;;;GM0363\n3311;;;GM0001\n3311;1;10;GM0002\n3311AB;;;GM0003\n3311AB;5;6;GM0004\n9999ZZ;;;GM0003\n"
        )
    );
    let again = table(&text);
    assert_eq!(again.to_canonical(), text);
    assert_eq!(again.counts(), t.counts());
    assert_eq!(again.municipalities(), t.municipalities());
}

#[test]
fn a_bad_postcode_is_named() {
    for bad in ["0311AB", "331", "3311A", "3311ABC", "ABCD", "", "33 11 1A", "3311ÄB"] {
        let p = only_problem(&format!("{H}3311;;;GM0505\n{bad};;;GM0505\n"));
        assert_eq!((p.line, p.field.as_str()), (3, "postcode"), "{bad}: {p:?}");
        assert!(p.message.contains("not a postcode"), "{p:?}");
        assert!(p.fix.contains("PC6"), "{p:?}");
    }
}

#[test]
fn a_range_needs_both_numbers() {
    let p = only_problem(&format!("{H}3311AB;5;;GM0505\n"));
    assert_eq!((p.line, p.field.as_str()), (2, "huisnummer_tot"));
    assert!(p.fix.contains("both"), "{p:?}");
    let p = only_problem(&format!("{H}3311AB;;5;GM0505\n"));
    assert_eq!((p.line, p.field.as_str()), (2, "huisnummer_van"));
}

#[test]
fn a_backwards_range_is_named() {
    let p = only_problem(&format!("{H}3311AB;9;5;GM0505\n"));
    assert_eq!((p.line, p.field.as_str()), (2, "huisnummer_van"));
    assert!(p.message.contains("9-5"), "{p:?}");
}

#[test]
fn a_bad_house_number_is_named() {
    for (van, tot, field) in [
        ("0", "5", "huisnummer_van"),
        ("1", "100000", "huisnummer_tot"),
        ("1a", "3", "huisnummer_van"),
        ("-1", "3", "huisnummer_van"),
    ] {
        let p = only_problem(&format!("{H}3311AB;{van};{tot};GM0505\n"));
        assert_eq!((p.line, p.field.as_str()), (2, field), "{van}-{tot}: {p:?}");
        assert!(p.message.contains("not a house number"), "{p:?}");
    }
}

#[test]
fn a_bad_municipality_code_is_named() {
    for bad in ["GM505", "Utrecht", "", "505", "GM05050", "XX0505"] {
        let p = only_problem(&format!("{H}3311AB;;;{bad}\n"));
        assert_eq!((p.line, p.field.as_str()), (2, "gemeente"), "{bad}: {p:?}");
        assert!(p.message.contains("not a municipality code"), "{p:?}");
        assert!(p.fix.contains("GM0505"), "{p:?}");
    }
}

#[test]
fn the_same_postcode_to_two_municipalities_names_both_lines() {
    let p = only_problem(&format!("{H}3311;;;GM0505\n3312;;;GM0505\n3311;;;GM0642\n"));
    assert_eq!((p.line, p.field.as_str()), (4, "gemeente"));
    assert!(p.message.contains("3311") && p.message.contains("line 2"), "{p:?}");
    assert!(p.message.contains("GM0505") && p.message.contains("GM0642"), "{p:?}");
    let p = only_problem(&format!("{H}3311 ab;;;GM0505\n3311AB;;;GM0642\n"));
    assert_eq!(p.line, 3);
    assert!(p.message.contains("3311AB") && p.message.contains("line 2"), "{p:?}");
}

#[test]
fn overlapping_ranges_to_two_municipalities_name_both_lines() {
    let p = only_problem(&format!("{H}3311AB;10;20;GM0642\n3311AB;1;10;GM0505\n"));
    assert_eq!((p.line, p.field.as_str()), (3, "huisnummer_van"));
    assert!(
        p.message.contains("1-10") && p.message.contains("10-20") && p.message.contains("line 2"),
        "{p:?}"
    );
    // One range inside another, found even when a range in between agrees.
    let p = only_problem(&format!("{H}3311;1;100;GM0505\n3311;2;3;GM0505\n3311;50;60;GM0642\n"));
    assert_eq!(p.line, 4);
    assert!(p.message.contains("line 2"), "{p:?}");
}

#[test]
fn the_same_range_at_different_levels_is_no_conflict() {
    let t = table(&format!("{H}3311;1;10;GM0505\n3311AB;1;10;GM0642\n3311;;;GM0363\n3311AB;;;GM0344\n"));
    assert_eq!(route(&t, "3311AB", 3).as_deref(), Some("GM0642"));
    assert_eq!(route(&t, "3311AC", 3).as_deref(), Some("GM0505"));
}

#[test]
fn every_problem_is_reported_at_once_in_line_order() {
    let p = problems(&format!(
        "{H}3311;;;GM0505\n0311;;;GM0505\n3312AB;7;3;GM0505\n3313;5;;GM0505\n3314;;;GM55\n\
         3311;;;GM0642\n3315;;;\n3316;;GM0505\n"
    ));
    let got: Vec<(u64, &str)> = p.iter().map(|p| (p.line, p.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (3, "postcode"),
            (4, "huisnummer_van"),
            (5, "huisnummer_tot"),
            (6, "gemeente"),
            (7, "gemeente"),
            (8, "gemeente"),
            (9, "line"),
        ],
        "{p:#?}"
    );
    // A line with several problems reports each.
    let p = problems(&format!("{H}03;x;;GM5\n"));
    assert_eq!(p.len(), 3, "{p:#?}");
}

#[test]
fn a_line_with_the_wrong_number_of_fields_is_named() {
    let p = only_problem(&format!("{H}3311;;;GM0505;extra\n"));
    assert_eq!((p.line, p.field.as_str()), (2, "line"));
    assert!(p.message.contains("5 field(s)") && p.message.contains("has 4"), "{p:?}");
    let p = only_problem(&format!("{H}3311;GM0505\n"));
    assert!(p.message.contains("2 field(s)"), "{p:?}");
}

#[test]
fn a_repeated_header_is_named() {
    let p = only_problem(&format!("{H}3311;;;GM0505\n{H}3312;;;GM0505\n"));
    assert_eq!((p.line, p.field.as_str()), (3, "line"));
    assert!(p.message.contains("header is repeated"), "{p:?}");
}

#[test]
fn a_missing_header_or_column_is_named() {
    // No header at all: the first entry is taken as the header.
    let p = problems("3311;;;GM0505\n3312;;;GM0505\n");
    assert_eq!(p.len(), 2, "{p:#?}");
    assert!(p.iter().all(|p| p.line == 1 && p.field == "header"), "{p:#?}");
    assert!(
        p[0].message.contains("no postcode column") && p[0].fix.contains("postcode;huisnummer_van"),
        "{p:?}"
    );
    assert!(p[1].message.contains("no municipality column"), "{p:?}");
    let p = only_problem("postcode;huisnummer_van;huisnummer_tot\n3311;;\n");
    assert!(p.message.contains("no municipality column") && p.message.contains("'huisnummer_tot'"), "{p:?}");
    let p = only_problem("postcode;huisnummer_van;gemeente\n3311;;GM0505\n");
    assert_eq!((p.line, p.field.as_str()), (1, "huisnummer_van"));
    assert!(p.message.contains("without huisnummer_tot"), "{p:?}");
    let p = only_problem("postcode;huisnummer;huisnummer_van;huisnummer_tot;gemeente\n3311;;;;GM0505\n");
    assert!(p.message.contains("both an exact house number"), "{p:?}");
}

#[test]
fn a_column_given_twice_is_named() {
    let p = only_problem("postcode;huisnummer_van;huisnummer_tot;gemeente;gemeente\n3311;;;GM0505;GM0505\n");
    assert_eq!((p.line, p.field.as_str()), (1, "gemeente"));
    assert!(p.message.contains("column 4") && p.message.contains("column 5"), "{p:?}");
    let p = only_problem("PC6;Postcode;Gemeente2024\n3311AB;3311AB;505\n");
    assert_eq!(p.field, "PC6");
    let p = only_problem("PC6;Gemeente2023;Gemeente2024\n3311AB;505;505\n");
    assert!(p.message.contains("municipality"), "{p:?}");
}

#[test]
fn an_empty_file_or_table_is_named() {
    let p = only_problem("");
    assert_eq!((p.line, p.field.as_str()), (1, "header"));
    assert!(p.message.contains("empty"), "{p:?}");
    let p = only_problem(H);
    assert!(p.message.contains("no entries"), "{p:?}");
}

#[test]
fn reads_the_cbs_export_with_numeric_codes() {
    let t = table(
        "PC6;Huisnummer;Buurt2024;Wijk2024;Gemeente2024\n\
         3311AB;1;05050101;050501;505\n\
         3311AB;3;05050101;050501;0505\n\
         3311AC;2;05050101;050501;GM0505\n\
         3331 XX;10;06420101;064201;642\n\
         3012AA;1;05990101;059901;599\n",
    );
    assert_eq!(t.format(), SourceFormat::Export);
    assert_eq!(t.rows(), 5);
    assert_eq!(t.municipalities(), [gm("GM0505"), gm("GM0599"), gm("GM0642")].into());
    assert_eq!(route(&t, "3311AB", 1).as_deref(), Some("GM0505"));
    assert_eq!(route(&t, "3331XX", 10).as_deref(), Some("GM0642"));
    assert_eq!(route(&t, "3012AA", 1).as_deref(), Some("GM0599"));
    assert_eq!(route(&t, "3311AD", 1), None);
    // Each PC6 lies in one municipality, so each becomes a plain PC6 entry.
    assert_eq!(t.counts(), Counts { pc6: 4, pc6_ranges: 0, pc4: 0, pc4_ranges: 0 });
    assert_eq!(route(&t, "3311AB", 2).as_deref(), Some("GM0505"));
}

#[test]
fn a_pc6_on_a_municipal_border_keeps_its_numbers() {
    // Odd numbers on one side of the border street, even on the other; 9 and 11 sit between
    // GM0505 numbers only, so the run 7..=13 is one range.
    let mut text = String::from("pc6,huisnummer,gemeentecode\n");
    for n in [1, 3, 5, 7, 13] {
        text.push_str(&format!("3311AB,{n},505\n"));
    }
    for n in [2, 4, 6, 14] {
        text.push_str(&format!("3311AB,{n},642\n"));
    }
    let t = table(&text);
    for (n, want) in
        [(1, "GM0505"), (2, "GM0642"), (3, "GM0505"), (6, "GM0642"), (7, "GM0505"), (9, "GM0505")]
    {
        assert_eq!(route(&t, "3311AB", n).as_deref(), Some(want), "{n}");
    }
    assert_eq!(route(&t, "3311AB", 14).as_deref(), Some("GM0642"));
    assert_eq!(route(&t, "3311AB", 15), None);
    assert_eq!(t.counts().pc6_ranges, 8);
    assert!(t.to_canonical().contains("3311AB;7;13;GM0505\n3311AB;14;14;GM0642\n"), "{}", t.to_canonical());
    assert_eq!(table(&t.to_canonical()).to_canonical(), t.to_canonical());
}

#[test]
fn export_headers_are_recognised_by_name() {
    for header in [
        "PC6;Gemeente2024",
        "postcode;gemeente",
        "PC6;GM_CODE",
        "Pc6;GMcode",
        "pc6;gemeentecode",
        "PC6;Gemeentenaam;Gemeente2024",
        "PC6;GM_NAAM;Gemeente_code",
        "PC4;gm",
        "Buurt2024;PC6;Wijk2024;Gemeente2024",
    ] {
        let cols = header.split(';').count();
        let row: Vec<&str> = header
            .split(';')
            .map(|h| match h.to_lowercase().as_str() {
                "pc6" | "postcode" | "pc4" => "3311AB",
                "gemeentenaam" | "gm_naam" => "Dordrecht",
                "buurt2024" | "wijk2024" => "05050101",
                _ => "505",
            })
            .collect();
        assert_eq!(row.len(), cols);
        let t = table(&format!("{header}\n{}\n", row.join(";")));
        assert_eq!(route(&t, "3311AB", 1).as_deref(), Some("GM0505"), "{header}");
    }
    let t = table("\"PC6\",\"Gemeente2024\"\n\"3311 AB\",\"505\"\n3312,GM0642\n");
    assert_eq!(route(&t, "3312ZZ", 1).as_deref(), Some("GM0642"));
    let t = table("PC6\tGemeente2024\n3311AB\t505\n");
    assert_eq!(t.len(), 1);
}

#[test]
fn export_problems_are_named_with_the_export_column() {
    let p = problems(
        "PC6;Huisnummer;Gemeente2024\n3311AB;1;505\n3311AB;1;642\n3311XX;x;505\n33;1;505\n3311AC;1;0\n3311AD;1;12345\n",
    );
    let got: Vec<(u64, &str)> = p.iter().map(|p| (p.line, p.field.as_str())).collect();
    assert_eq!(
        got,
        [(3, "Huisnummer"), (4, "Huisnummer"), (5, "PC6"), (6, "Gemeente2024"), (7, "Gemeente2024")],
        "{p:#?}"
    );
    assert!(p[0].message.contains("line 2") && p[0].message.contains("GM0642"), "{:?}", p[0]);
    assert!(p[3].fix.contains("CBS number"), "{:?}", p[3]);
    let p = problems("Buurt;Wijk\n1;2\n");
    assert!(p[0].message.contains("no postcode column") && p[1].message.contains("no municipality"), "{p:?}");
}

#[test]
fn an_export_may_mix_whole_postcodes_and_numbers() {
    let t = table("PC6;Huisnummer;Gemeente2024\n3311AB;;505\n3311AB;10;642\n3311AC;;505\n3311AC;4;505\n");
    assert_eq!(route(&t, "3311AB", 10).as_deref(), Some("GM0642"));
    assert_eq!(route(&t, "3311AB", 11).as_deref(), Some("GM0505"));
    assert_eq!(t.counts(), Counts { pc6: 3, pc6_ranges: 1, pc4: 0, pc4_ranges: 0 });
}

#[test]
fn a_national_sized_table_loads_and_routes() {
    // 200 000 PC6 rows in 342 municipalities, then 85 000 lookups.
    let mut text = String::from(H);
    let mut want = Vec::new();
    for i in 0..200_000u32 {
        let pc4 = 1000 + i / 676 * 3 % 9000;
        let l = i % 676;
        let p = format!("{pc4}{}{}", char::from(b'A' + (l / 26) as u8), char::from(b'A' + (l % 26) as u8));
        let code = format!("GM{:04}", 1 + i % 342);
        text.push_str(&format!("{p};;;{code}\n"));
        if i % 2 == 0 && want.len() < 85_000 {
            want.push((pc(&p), code));
        }
    }
    let t = table(&text);
    assert_eq!(t.len(), 200_000);
    assert_eq!(t.municipalities().len(), 342);
    let start = std::time::Instant::now();
    for (p, code) in &want {
        assert_eq!(t.route(p, 1).map(MunicipalityCode::as_str), Some(code.as_str()));
    }
    eprintln!("{} lookups in {:?}", want.len(), start.elapsed());
}

#[test]
fn load_names_the_file_line_field_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routing.csv");
    std::fs::write(&path, format!("{H}3311;;;GM0505\n3312;;;Utrecht\n")).unwrap();
    let e = RoutingTable::load(&path).unwrap_err().to_string();
    let want = format!(
        "{}:3: gemeente: 'Utrecht' is not a municipality code (write GM followed by 4 digits, e.g. GM0505)",
        path.display()
    );
    assert!(e.contains(&want), "{e}");
    assert!(e.contains("1 problem(s)"), "{e}");
    std::fs::write(&path, format!("{H}3311;;;GM0505\n")).unwrap();
    assert_eq!(RoutingTable::load(&path).unwrap().len(), 1);
    let missing = dir.path().join("missing.csv");
    assert!(matches!(RoutingTable::read(&missing), Err(RoutingError::Read { .. })));
}

#[test]
fn many_problems_are_summarised_in_the_load_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routing.csv");
    let mut text = String::from(H);
    for _ in 0..60 {
        text.push_str("x;;;GM0505\n");
    }
    std::fs::write(&path, text).unwrap();
    let e = RoutingTable::load(&path).unwrap_err().to_string();
    assert!(e.contains("… and 10 more") && e.contains("60 problem(s)"), "{e}");
}
