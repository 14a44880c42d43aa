//! The intake front with a real installation: metrics and batching.

use std::sync::Arc;

use super::*;
use crate::config::Config;
use crate::domain::party::{Credential, CreditorId};
use crate::intake::ReceiptStatus;
use crate::layout::Layout;

/// The value of one series in the rendered metrics.
fn value(intake: &Intake, series: &str) -> u64 {
    let text = intake.app().metrics().render();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no series {series}"))
}

/// Small writes, some out of order, reach the worker in batches; every byte is hashed
/// once and every record checked, whether read in place (CSV) or through `Read` (JSON
/// Lines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_writes_are_batched_without_losing_a_byte() {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().unwrap();
    let inst = crate::demo::setup::create(&tmp.path().join("inst")).unwrap();
    let config = Arc::new(Config::load(&inst.config).unwrap());
    let intake = Intake::new(App::open(config.clone(), Layout::new(&config.data_dir)).unwrap());
    intake.recover().unwrap();
    let sender = VerifiedSender::authenticated(
        CreditorId::parse("woonstad").unwrap(),
        Credential::SshKey("SHA256:test".into()),
        "127.0.0.1:1".into(),
    );
    let on = local_date(Timestamp::now());
    let mut csv = Vec::new();
    crate::demo::sample::write_csv(&mut csv, "B", crate::domain::signal::Kind::Woninghuur, 4000, 4000, 7, on)
        .unwrap();
    // Over two batches, in pieces that cut records anywhere.
    assert!(csv.len() > 2 * BATCH_BYTES, "{}", csv.len());
    let jsonl: Vec<u8> = {
        let text = std::str::from_utf8(&csv).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(';').collect();
        let mut out = String::new();
        for line in lines {
            let obj: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(line.split(';'))
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
                .collect();
            out.push_str(&serde_json::to_string(&obj).unwrap());
            out.push('\n');
        }
        out.into_bytes()
    };
    for (name, bytes) in [("batched.csv", csv), ("batched.jsonl", jsonl)] {
        let mut u = intake.begin(sender.clone(), UploadName::parse(name).unwrap()).unwrap();
        let pieces: Vec<(usize, &[u8])> = {
            let mut at = 0;
            let mut v = Vec::new();
            for piece in bytes.chunks(3001) {
                v.push((at, piece));
                at += piece.len();
            }
            v
        };
        // Each pair of pieces arrives second-first (within the reorder window).
        for pair in pieces.chunks(2) {
            for &(at, piece) in pair.iter().rev() {
                u.write_at(at as u64, piece.to_vec()).await.unwrap();
            }
        }
        assert_eq!(u.bytes(), bytes.len() as u64);
        let r = u.finish().await.unwrap().commit().await.unwrap();
        assert_eq!(r.sha256, hex::encode(Sha256::digest(&bytes)), "{name}");
        assert_eq!(r.bytes, bytes.len() as u64, "{name}");
        assert_eq!((r.status, r.records.accepted, r.records.rejected), (ReceiptStatus::Accepted, 4000, 0), "{name}: {:?}", r.errors);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_filed_and_aborted_uploads() {
    let tmp = tempfile::tempdir().unwrap();
    let inst = crate::demo::setup::create(&tmp.path().join("inst")).unwrap();
    let mut config = Config::load(&inst.config).unwrap();
    config.intake.max_file_bytes = 4096;
    let config = Arc::new(config);
    let intake = Intake::new(App::open(config.clone(), Layout::new(&config.data_dir)).unwrap());
    intake.recover().unwrap();
    let sender = |c: Credential| {
        VerifiedSender::authenticated(CreditorId::parse("woonstad").unwrap(), c, "127.0.0.1:1".into())
    };
    let ssh = || sender(Credential::SshKey("SHA256:test".into()));
    let name = |n: &str| UploadName::parse(n).unwrap();
    let mut data = Vec::new();
    let on = local_date(Timestamp::now());
    crate::demo::sample::write_csv(&mut data, "T", crate::domain::signal::Kind::Woninghuur, 5, 5, 7, on)
        .unwrap();
    assert!(data.len() < 4096);
    let put = |sender: VerifiedSender, n: &str, bytes: Vec<u8>| {
        let (intake, n) = (intake.clone(), name(n));
        async move {
            let mut u = intake.begin(sender, n).unwrap();
            let _ = u.write_at(0, bytes).await;
            u.finish().await.unwrap()
        }
    };

    // Filed over SFTP, then the same bytes by the operator: a duplicate.
    let r = put(ssh(), "a.csv", data.clone()).await.commit().await.unwrap();
    assert_eq!((r.status, r.records.accepted), (ReceiptStatus::Accepted, 5));
    let r = put(sender(Credential::Operator), "a.csv", data.clone()).await.commit().await.unwrap();
    assert_eq!(r.status, ReceiptStatus::Duplicate);
    assert_eq!(value(&intake, r#"meldpunt_uploads_total{protocol="sftp",status="accepted"}"#), 1);
    assert_eq!(value(&intake, r#"meldpunt_uploads_total{protocol="cli",status="duplicate"}"#), 1);
    assert_eq!(value(&intake, r#"meldpunt_upload_bytes_total{protocol="sftp"}"#), data.len() as u64);
    assert_eq!(value(&intake, r#"meldpunt_upload_bytes_total{protocol="cli"}"#), data.len() as u64);
    assert_eq!(value(&intake, r#"meldpunt_records_total{outcome="accepted"}"#), 5);

    // Dropped mid-upload, and finished but never filed (a temp name not renamed).
    let mut u = intake.begin(ssh(), name("b.csv")).unwrap();
    u.write_at(0, data[..100].to_vec()).await.unwrap();
    drop(u);
    drop(put(ssh(), "c.csv.part", data.clone()).await);
    assert_eq!(value(&intake, r#"meldpunt_uploads_aborted_total{protocol="sftp"}"#), 2);

    // Over the limit: aborted once, and filed as rejected.
    let cert = sender(Credential::Certificate("ab".into()));
    let r = put(cert, "d.csv", vec![b'x'; 5000]).await.commit().await.unwrap();
    assert_eq!(r.status, ReceiptStatus::Rejected);
    assert_eq!(value(&intake, r#"meldpunt_uploads_aborted_total{protocol="https"}"#), 1);
    assert_eq!(value(&intake, r#"meldpunt_uploads_total{protocol="https",status="rejected"}"#), 1);
    assert_eq!(value(&intake, r#"meldpunt_uploads_aborted_total{protocol="cli"}"#), 0);
    assert_eq!(value(&intake, r#"meldpunt_uploads_total{protocol="sftp",status="rejected"}"#), 0);
}
