//! A large CSV upload checked on two threads gives what one thread gives: the same receipt
//! and the same sealed plaintext, whatever the write sizes, with rejected, objected,
//! quoted (line ends and `""` inside quotes), duplicated, blank and CRLF lines, and with a
//! file error part-way.

use std::io::Read;
use std::sync::Arc;

use jiff::Timestamp;

use crate::app::App;
use crate::config::Config;
use crate::domain::party::{Credential, CreditorId, VerifiedSender};
use crate::domain::period::local_date;
use crate::domain::upload::UploadName;
use crate::intake::{Intake, Receipt, ReceiptStatus};
use crate::layout::Layout;

/// About 3 MB of signals with every kind of line the checker treats differently.
fn mixed_csv(quotes_in_middle: bool) -> Vec<u8> {
    let mut clean = Vec::new();
    let on = local_date(Timestamp::now());
    crate::demo::sample::write_csv(&mut clean, "P", crate::domain::signal::Kind::Woninghuur, 20_000, 9_000, 3, on)
        .unwrap();
    let text = String::from_utf8(clean).unwrap();
    let mut lines = text.lines();
    let mut out = String::from(lines.next().unwrap());
    out.push('\n');
    let data: Vec<&str> = lines.collect();
    for (i, line) in data.iter().enumerate() {
        let mut fields: Vec<String> = line.split(';').map(str::to_owned).collect();
        if i % 50 == 7 {
            fields[21] = "ja".into(); // bezwaar: objected, not stored
        }
        if i % 97 == 3 {
            fields[11] = "12AB".into(); // postcode: rejected
        }
        let quoted = i % 211 == 5 || (quotes_in_middle && (7_000..13_000).contains(&i) && i % 3 == 0);
        if quoted {
            fields[5] = format!("\"{}\"\"s\"", fields[5]);
        }
        if i % 257 == 9 {
            fields[7] = "\"Kerk\"\"\nstraat\"".into(); // a quote, then a line end, inside quotes
        }
        if i % 263 == 4 {
            fields[12] = "\"Dord\nrecht\"".into();
        }
        if i % 333 == 8 {
            fields.pop(); // a field short
        }
        if i % 1000 == 11 {
            out.push('\n'); // a blank line
        }
        if i % 5000 == 77 {
            out.push_str(data[i - 3]); // the same referentie again
            out.push('\n');
        }
        out.push_str(&fields.join(";"));
        out.push_str(if i % 1000 == 12 { "\r\n" } else { "\n" });
    }
    out.into_bytes()
}

/// Uploads `bytes` in writes of the given sizes (cycled) to an intake of its own that checks
/// CSV on two threads from `parallel_from` bytes; the receipt and the sealed plaintext.
async fn upload(bytes: &[u8], sizes: &[usize], parallel_from: u64) -> (Receipt, Option<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let inst = crate::demo::setup::create(&tmp.path().join("inst")).unwrap();
    let mut config = Config::load(&inst.config).unwrap();
    config.intake.max_listed_errors = 25;
    let config = Arc::new(config);
    let app = App::open(config.clone(), Layout::new(&config.data_dir)).unwrap();
    let intake = Intake::new(app).with_parallel_from(parallel_from);
    intake.recover().unwrap();
    let sender = VerifiedSender::authenticated(
        CreditorId::parse("woonstad").unwrap(),
        Credential::SshKey("SHA256:test".into()),
        "127.0.0.1:1".into(),
    );
    let mut u = intake.begin(sender, UploadName::parse("mixed.csv").unwrap()).unwrap();
    let period = u.period();
    let (mut at, mut k) = (0, 0);
    while at < bytes.len() {
        let end = (at + sizes[k % sizes.len()]).min(bytes.len());
        u.write_at(at as u64, bytes[at..end].to_vec()).await.unwrap();
        (at, k) = (end, k + 1);
    }
    let r = u.finish().await.unwrap().commit().await.unwrap();
    let sealed = (r.status != ReceiptStatus::Rejected).then(|| {
        let mut s = String::new();
        intake.app().vault().open_sealed(period, &r.file_id).unwrap().read_to_string(&mut s).unwrap();
        s
    });
    (r, sealed)
}

/// The receipt without what differs between two uploads of the same bytes.
fn comparable(r: &Receipt) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("file_id");
    o.remove("received_at");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_threads_give_what_one_gives() {
    let mut bad_byte = mixed_csv(false);
    let at = bad_byte.len() * 2 / 3;
    bad_byte[at] = 0xFF;
    let files = [("mixed", mixed_csv(false)), ("quotes in the middle", mixed_csv(true)), ("bad byte", bad_byte)];
    let writes: [&[usize]; 3] = [&[32 * 1024], &[1000, 33_000, 300_000, 7, 65_536], &[1 << 20]];
    for (what, bytes) in &files {
        let (one, one_sealed) = upload(bytes, &[32 * 1024], u64::MAX).await;
        for sizes in writes {
            let (two, two_sealed) = upload(bytes, sizes, 0).await;
            assert_eq!(comparable(&one), comparable(&two), "{what}, writes of {sizes:?}");
            assert_eq!(one_sealed, two_sealed, "{what}, writes of {sizes:?}");
        }
        // The file exercises what it should.
        match *what {
            "bad byte" => assert_eq!(one.errors[0].code, "encoding_invalid", "{:?}", one.errors),
            _ => {
                assert_eq!(one.status, ReceiptStatus::AcceptedWithErrors);
                assert!(one.records.rejected > 25 && one.errors_not_listed > 0, "{:?}", one.records);
                assert!(one.records.not_forwarded > 300, "{:?}", one.records);
                assert!(one.warnings.iter().any(|w| w.code == "referentie_duplicate"), "{:?}", one.warnings);
            }
        }
    }
}
