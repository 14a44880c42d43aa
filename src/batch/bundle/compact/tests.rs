//! The hand-written writer against serde_json: escapes, numbers, dates, layout.

use jiff::civil::Date;
use serde_json::json;

use super::*;

fn escaped(s: &str) -> String {
    let mut buf = Vec::new();
    escape_into(&mut buf, s);
    String::from_utf8(buf).unwrap()
}

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let mut cases: Vec<String> = (0u8..=0x7f).map(|b| format!("a{}b", char::from(b))).collect();
    cases.extend(
        [
            "",
            "\"",
            "\\",
            "\\\"\\",
            "quote \"in\" the middle",
            "C:\\pad\\naar",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1b}\u{1f}",
            "tab\there\r\nnext",
            "ë Çelik ß 漢字 😀",
            "\u{7f}\u{80}\u{9f}\u{a0}\u{2028}\u{2029}\u{200b}\u{202e}\u{feff}",
            "/slash/ and </script>",
            "ends with control\u{1}",
        ]
        .map(str::to_owned),
    );
    for s in &cases {
        assert_eq!(escaped(s), serde_json::to_string(s).unwrap(), "{s:?}");
    }
}

#[test]
fn numbers_dates_and_amounts_read_as_serde_json_and_jiff_show_them() {
    let mut buf = Vec::new();
    for n in [0u64, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
        buf.clear();
        push_u64(&mut buf, n);
        assert_eq!(String::from_utf8(buf.clone()).unwrap(), n.to_string());
    }
    for n in [0i64, 1, -1, 93, -93, i64::MIN, i64::MAX] {
        let mut out = Vec::new();
        let mut w = Compact::new(&mut out);
        w.i64(n);
        w.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{n}\n"));
    }
    let dates = [
        Date::constant(2026, 2, 28),
        Date::constant(1980, 2, 29),
        Date::constant(1, 1, 1),
        Date::constant(999, 12, 31),
        Date::constant(9999, 12, 31),
        Date::constant(-9999, 1, 1),
        Date::constant(-1, 6, 15),
    ];
    for d in dates {
        let mut out = Vec::new();
        let mut w = Compact::new(&mut out);
        w.date(d);
        w.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{}\n", serde_json::to_string(&d.to_string()).unwrap())
        );
    }
    for cents in [0u64, 5, 10, 99, 100, 100_005, 123_456_789, u64::MAX] {
        let mut out = Vec::new();
        let mut w = Compact::new(&mut out);
        w.euros(cents);
        w.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("\"{},{:02}\"\n", cents / 100, cents % 100));
    }
}

#[test]
fn layout_is_what_serde_json_writes() {
    let mut out = Vec::new();
    let mut w = Compact::new(&mut out);
    w.open(b'{');
    w.key(true, "a");
    w.open(b'[');
    w.close(b']').unwrap();
    w.key(false, "b");
    w.open(b'{');
    w.close(b'}').unwrap();
    w.key(false, "c");
    w.open(b'[');
    for (i, n) in [1u64, 22].into_iter().enumerate() {
        w.element(i == 0);
        w.open(b'{');
        w.key(true, "e");
        w.str("");
        w.key(false, "n");
        w.u64(n);
        w.key(false, "x");
        w.opt_str(None);
        w.key(false, "y");
        w.opt_bool(Some(false));
        w.key(false, "z");
        w.open(b'[');
        w.element(true);
        w.bool(true);
        w.element(false);
        w.shown("t\"x");
        w.element(false);
        w.open(b'[');
        w.close(b']').unwrap();
        w.close(b']').unwrap();
        w.close(b'}').unwrap();
    }
    w.close(b']').unwrap();
    w.close(b'}').unwrap();
    w.finish().unwrap();
    // `Value` sorts keys; they are written in sorted order above.
    let value = json!({
        "a": [], "b": {},
        "c": [
            {"e": "", "n": 1, "x": null, "y": false, "z": [true, "t\"x", []]},
            {"e": "", "n": 22, "x": null, "y": false, "z": [true, "t\"x", []]}
        ]
    });
    let mut expected = serde_json::to_string(&value).unwrap();
    expected.push('\n');
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}
