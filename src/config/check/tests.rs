//! Tests of the parent module.
use super::*;
use crate::domain::signal::Kind;

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBr+D2qATuE0TounOSoBscADw2xa9JKz6UuJODj0+Jso test";

fn parse_str(t: &str) -> Result<Config, Problems> {
    parse(Path::new("/etc/meldpunt/meldpunt.toml"), t)
}

#[test]
fn a_minimal_config_parses() {
    let t = format!(
        "data_dir = \"data\"\n[[creditor]]\nid = \"vitens\"\nname = \"Vitens\"\nkinds = [\"drinkwater\"]\nagreements = [\"*\"]\nssh_keys = [\"{KEY}\"]\n"
    );
    let c = parse_str(&t).unwrap();
    assert_eq!(c.data_dir, Path::new("/etc/meldpunt/data"));
    assert_eq!(c.creditors[0].kinds, vec![Kind::Drinkwater]);
    assert_eq!(c.creditors[0].ssh_keys.len(), 1);
    assert_eq!(c.cutoff.day, 25);
}

#[test]
fn every_problem_is_named_with_its_line() {
    let t = "data_dir = \"data\"\n[periods]\ncutoff_day = 31\n[[creditor]]\nid = \"Woon Stad\"\nname = \"x\"\nkinds = [\"huur\"]\nagreements = [\"*\"]\n[[creditor]]\nid = \"vitens\"\nname = \"Vitens\"\nkinds = [\"gas\", \"water\"]\nagreements = [\"GM999\", \"GM0001\"]\nssh_keys = [\"ssh-ed25519 nonsense\"]\n";
    let p = parse_str(t).unwrap_err().0;
    let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
    // cutoff (3), bad id (5), its bad kind (7), bad kind 'water' (12), bad code (13), unknown municipality (13), bad key (14)
    assert_eq!(lines, vec![3, 5, 7, 12, 13, 13, 14], "{p:#?}");
    assert!(p[1].fix.contains("woon-stad"));
}

#[test]
fn a_syntax_error_is_located() {
    let p = parse_str("data_dir = \"data\"\n[sftp]\nlisten = \n").unwrap_err().0;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 3);
    let p = parse_str("data_dir = \"data\"\n[sftp]\nlisen = \"x\"\n").unwrap_err().0;
    assert!(p[0].message.contains("unknown field"), "{p:?}");
    assert_eq!(p[0].line, 3);
}

#[test]
fn rule_overrides_merge_with_defaults() {
    let t = "data_dir = \"d\"\n[rules.woninghuur]\nmin_days = 45\n";
    let c = parse_str(t).unwrap();
    let r = c.rules.for_kind(Kind::Woninghuur);
    assert_eq!(r.min_days, 45);
    assert_eq!(r.requires.len(), 3);
}

#[test]
fn pickup_and_feedback_limits_are_checked() {
    let c = parse_str("data_dir = \"d\"\n").unwrap();
    assert_eq!((c.pickup_retention_days, c.feedback_max_bytes), (14, 16 << 20));
    let c = parse_str("data_dir = \"d\"\n[pickup]\nretention_days = 3\n[feedback]\nmax_file_bytes = 4096\n")
        .unwrap();
    assert_eq!((c.pickup_retention_days, c.feedback_max_bytes), (3, 4096));
    assert_eq!(c.ddas_day, 0, "no monthly DDAS drop unless asked");
    assert_eq!(parse_str("data_dir = \"d\"\n[ddas]\nday = 5\n").unwrap().ddas_day, 5);
    let p = parse_str("data_dir = \"d\"\n[ddas]\nday = 29\n").unwrap_err().to_string();
    assert!(p.contains("[ddas] day 29 is out of range") && p.contains(":3:"), "{p}");
    let p = parse_str("data_dir = \"d\"\n[pickup]\nretention_days = 0\n[feedback]\nmax_file_bytes = 10\n")
        .unwrap_err()
        .0;
    let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 5], "{p:#?}");
    assert!(p[0].message.contains("retention_days") && p[0].fix.contains("1 to 365"));
    assert!(p[1].message.contains("max_file_bytes"));
}

#[test]
fn files_per_period_and_listing_limits_are_checked() {
    let c = parse_str("data_dir = \"d\"\n").unwrap();
    assert_eq!(c.intake.max_files_per_period, 2000);
    assert_eq!(c.sftp.as_ref().unwrap().max_listing_entries, 10_000);
    let t = "data_dir = \"d\"\n[sftp]\nmax_listing_entries = 500\n[intake]\nmax_files_per_period = 7\n";
    let c = parse_str(t).unwrap();
    assert_eq!(c.intake.max_files_per_period, 7);
    assert_eq!(c.sftp.as_ref().unwrap().max_listing_entries, 500);
    let t = "data_dir = \"d\"\n[sftp]\nmax_listing_entries = 5\n[intake]\nmax_files_per_period = 0\n";
    let p = parse_str(t).unwrap_err().0;
    let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
    assert_eq!(lines, [3, 5], "{p:#?}");
    assert!(p[0].message.contains("max_listing_entries") && p[0].fix.contains("100 to 1000000"));
    assert!(p[1].message.contains("max_files_per_period") && p[1].fix.contains("1 to 1000000"));
}

#[test]
fn clients_max_age_days_defaults_and_is_checked() {
    assert_eq!(parse_str("data_dir = \"d\"\n").unwrap().clients_max_age_days, 45);
    let c = parse_str("data_dir = \"d\"\n[clients]\nmax_age_days = 0\n").unwrap();
    assert_eq!(c.clients_max_age_days, 0);
    let p = parse_str("data_dir = \"d\"\n[clients]\nmax_age_days = 367\n").unwrap_err().0;
    assert_eq!((p.len(), p[0].line), (1, 3), "{p:#?}");
    assert!(p[0].message.contains("max_age_days") && p[0].fix.contains("0 to 366"));
    assert!(parse_str("data_dir = \"d\"\n[clients]\nmax_age = 3\n").is_err(), "an unknown key is refused");
}

#[test]
fn retention_windows_default_and_never_outlast_the_period() {
    let c = parse_str("data_dir = \"d\"\n").unwrap();
    assert_eq!(c.windows, crate::config::RetentionWindows::default());
    let t = "data_dir = \"d\"\n[retention]\nmonths = 6\nrejected_days = 168\ntemp_hours = 2\nfeedback_months = 6\nbatch_report_months = 1\n";
    let w = parse_str(t).unwrap().windows;
    assert_eq!((w.rejected_days, w.temp_hours, w.feedback_months, w.batch_report_months), (168, 2, 6, 1));
    let t = "data_dir = \"d\"\n[retention]\nmonths = 6\nrejected_days = 169\ntemp_hours = 0\nfeedback_months = 7\nbatch_report_months = 12\n";
    let p = parse_str(t).unwrap_err().0;
    let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
    assert_eq!(lines, [4, 5, 6, 7], "{p:#?}");
    assert!(p[0].message.contains("rejected_days") && p[0].fix.contains("at most 168 days"), "{p:#?}");
    assert!(p[1].message.contains("out of range") && p[1].fix.contains("1 to 720 hours"), "{p:#?}");
    assert!(p[2].message.contains("longer than the period's retention") && p[2].fix.contains("at most 6"));
    assert!(p[3].message.contains("batch_report_months"));
}

/// A municipality block with queues and the given rules, after one creditor.
fn with_rules(rules: &str) -> String {
    format!(
        "data_dir = \"d\"\n[[creditor]]\nid = \"vitens\"\nname = \"Vitens\"\nkinds = [\"drinkwater\"]\nagreements = [\"*\"]\nssh_keys = [\"{KEY}\"]\n\
         [[municipality]]\ncode = \"GM0505\"\nname = \"Dordrecht\"\nage_recipients = [\"age1gws5rlph6m764mwqh0ma0nsvk2aw98r5kclhfpa7wnzt80tryadqyuzx6c\"]\n\
         werkbakken = [\"brief\", \"bellen\"]\n{rules}"
    )
}

#[test]
fn queue_rules_are_read_in_order() {
    let t = with_rules(
        "[[municipality.werkbak_rule]]\nwerkbak = \"bellen\"\ntotal_from = 500.00\nsoort = [\"drinkwater\"]\n\
         [[municipality.werkbak_rule]]\nleave_out = true\ncreditor = [\"vitens\"]\nage_below = 18\n\
         [[municipality.werkbak_rule]]\nwerkbak = \"brief\"\n",
    );
    let c = parse_str(&t).unwrap();
    let m = &c.municipalities[0];
    assert_eq!(m.werkbakken, ["brief", "bellen"]);
    use crate::domain::werkbak::Outcome;
    let outcomes: Vec<&Outcome> = m.werkbak_rules.iter().map(|r| &r.outcome).collect();
    assert_eq!(
        outcomes,
        [&Outcome::Queue("bellen".into()), &Outcome::LeaveOut, &Outcome::Queue("brief".into())]
    );
    assert_eq!(m.werkbak_rules[0].when.total_from, Some(crate::domain::signal::Cents(500_00)));
    assert_eq!(m.werkbak_rules[0].when.soort, Some(vec![Kind::Drinkwater]));
    assert_eq!(m.werkbak_rules[1].when.age_below, Some(18));
}

#[test]
fn a_bad_queue_rule_is_named_with_its_line() {
    // Line 13 onwards: the rules.
    let t = with_rules(
        "[[municipality.werkbak_rule]]\nwerkbak = \"bakje\"\n\
         [[municipality.werkbak_rule]]\nwerkbak = \"brief\"\nsoort = [\"huur\", \"water\"]\n\
         [[municipality.werkbak_rule]]\nwerkbak = \"brief\"\ncreditor = [\"eneco\"]\ntotal_below = -1.0\n\
         [[municipality.werkbak_rule]]\nwerkbak = \"brief\"\nleave_out = true\n\
         [[municipality.werkbak_rule]]\nsoort = [\"drinkwater\"]\n",
    );
    let p = parse_str(&t).unwrap_err().0;
    let got: Vec<(usize, &str)> = p.iter().map(|p| (p.line, p.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (14, "werkbak 'bakje' is not one of the queues of GM0505"),
            (17, "'huur' is not known here"),
            (17, "'water' is not known here"),
            (20, "'eneco' is not known here"),
            (21, "total_below is out of range"),
            (23, "a rule names a werkbak and leave_out = true"),
            (25, "a werkbak_rule of GM0505 says neither where its signals go nor to leave them out"),
        ],
        "{p:#?}"
    );
    assert!(p[0].fix.contains("brief, bellen"), "{:?}", p[0]);
    assert!(p[3].fix.contains("vitens"), "{:?}", p[3]);
    let p = parse_str(&with_rules("[[municipality.werkbak_rule]]\nwerkbak = \"brief\"\nbedrag = 3\n"))
        .unwrap_err()
        .0;
    assert!(p[0].message.contains("unknown field") && p[0].line == 15, "{p:#?}");
}
