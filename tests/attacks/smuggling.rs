//! Request smuggling over the mTLS listener: raw requests whose framing two HTTP parsers
//! could read differently (`Content-Length` with `Transfer-Encoding` in both orders,
//! duplicate or comma-listed lengths, `xchunked`, `chunked, identity`, two TE headers, a `+`
//! length, obs-fold continuations, a space before the colon) with a whole second upload hidden
//! behind the first. Each is refused with 400 or read as exactly one request, and the hidden
//! upload never runs. Plain pipelining, as a control, does run the second request.
//! (Oversized heads: `tests/defender.rs`; a body shorter than its length: `truncated_and_lies.rs`.)

use super::common::{self, local_file};
use super::probe;

/// Builds each variant around the valid file `$CSV`, sends it on its own connection with
/// eneco's certificate and prints, per variant, the statuses answered.
const PY_SMUGGLE: &str = r#"
csv = open(os.environ["CSV"], "rb").read()
def hidden(v):
    return b"PUT /v1/inbox/smuggled_%s.csv HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % (v.encode(), len(csv)) + csv
def head(v, *hs):
    return b"PUT /v1/inbox/outer_%s.csv HTTP/1.1\r\nHost: localhost\r\n" % v.encode() + b"".join(h + b"\r\n" for h in hs) + b"\r\n"
def chunk(b):
    return b"%x\r\n" % len(b) + b + b"\r\n"
chunked = chunk(csv) + b"0\r\n\r\n"
n = len(csv)
variants = {
    "cl_te": lambda S: head("cl_te", b"Content-Length: %d" % (len(chunked) + len(S)), b"Transfer-Encoding: chunked") + chunked + S,
    "te_cl": lambda S: head("te_cl", b"Transfer-Encoding: chunked", b"Content-Length: %d" % n) + chunked + S,
    "cl_short_te": lambda S: head("cl_short_te", b"Content-Length: 5", b"Transfer-Encoding: chunked") + chunk(S) + b"0\r\n\r\n",
    "te_two_spaces_cl": lambda S: head("te_two_spaces_cl", b"Transfer-Encoding:  chunked", b"Content-Length: %d" % n) + chunked + S,
    "duplicate_cl": lambda S: head("duplicate_cl", b"Content-Length: %d" % n, b"Content-Length: %d" % (n + len(S))) + csv + S,
    "cl_list": lambda S: head("cl_list", b"Content-Length: %d, %d" % (n, n + len(S))) + csv + S,
    "cl_plus": lambda S: head("cl_plus", b"Content-Length: +%d" % n) + csv + S,
    "xchunked": lambda S: head("xchunked", b"Transfer-Encoding: xchunked", b"Content-Length: %d" % n) + csv + S,
    "chunked_identity": lambda S: head("chunked_identity", b"Transfer-Encoding: chunked, identity") + chunked + S,
    "two_te_headers": lambda S: head("two_te_headers", b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity") + chunked + S,
    "te_space_before_colon": lambda S: head("te_space_before_colon", b"Transfer-Encoding : chunked", b"Content-Length: %d" % n) + csv + S,
    "obs_fold_te": lambda S: head("obs_fold_te", b"X-Pad: a", b" Transfer-Encoding: chunked", b"Content-Length: %d" % n) + csv + S,
    "obs_fold_cl": lambda S: head("obs_fold_cl", b"Content-Length:", b" %d" % n) + csv + S,
    "in_body": lambda S: head("in_body", b"Content-Length: %d" % (n + len(S))) + csv + S,
    "get_with_body": lambda S: b"GET /v1/receipts HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % len(S) + S,
    "control_pipelined": lambda S: head("control_pipelined", b"Content-Length: %d" % n) + csv + S,
}
out = {}
for v, build in variants.items():
    out[v] = statuses(http(tls("eneco"), build(hidden(v))))
print(json.dumps(out))
"#;

#[test]
fn ambiguous_request_framing_is_refused_or_read_as_one_request_and_nothing_is_smuggled() {
    let s = probe::hostile_server();
    let csv = local_file(&s, "smuggle.csv", &common::sample_csv("R", "elektriciteit", 2));
    let out = probe::python_json(&s, PY_SMUGGLE, &[("CSV", csv.display().to_string())]);
    let names: Vec<String> =
        s.receipts("eneco").iter().map(|r| r["file_name"].as_str().unwrap().into()).collect();
    for (variant, got) in out.as_object().unwrap() {
        let smuggled = names.contains(&format!("smuggled_{variant}.csv"));
        if variant == "control_pipelined" {
            assert_eq!(got, &serde_json::json!([201, 201]), "{out}");
            assert!(smuggled, "plain pipelining runs the second request: {names:?}");
            continue;
        }
        assert!(!smuggled, "{variant}: the hidden request ran: {out} {names:?}");
        let got: Vec<u64> = got.as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
        match got[..] {
            [400] => {
                assert!(!names.contains(&format!("outer_{variant}.csv")), "{variant}: refused yet filed")
            }
            [201] => assert!(names.contains(&format!("outer_{variant}.csv")), "{variant}: {names:?}"),
            [200] if variant == "get_with_body" => {}
            _ => panic!("{variant}: answered {got:?}, not one 400 or one request: {out}"),
        }
    }
    // The framings a front proxy and meldpunt could read differently are refused outright.
    let refused = [
        "duplicate_cl",
        "cl_list",
        "cl_plus",
        "xchunked",
        "chunked_identity",
        "two_te_headers",
        "te_space_before_colon",
        "obs_fold_te",
        "obs_fold_cl",
    ];
    for variant in refused {
        assert_eq!(out[variant], serde_json::json!([400]), "{variant}: {out}");
    }
    probe::assert_log_well_formed(&s, &[]);
    probe::assert_audit_clean(&s, &[]);
    probe::assert_still_serving(&s, "after_smuggling.csv");
}
