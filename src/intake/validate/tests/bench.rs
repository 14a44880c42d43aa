//! Throughput of the validator on a generated ~200 MB valid CSV file. Run with
//! `cargo test --release --lib intake::validate::tests::bench -- --ignored --nocapture`.

use std::time::Instant;

use super::*;
use crate::demo::sample;

/// Counts outcomes and drops the records, so only the validator is measured.
#[derive(Default)]
struct Count {
    accepted: u64,
    other: u64,
}

impl RecordSink for Count {
    fn accepted(&mut self, _: u64, record: SignalRecord) -> io::Result<()> {
        self.accepted += 1;
        drop(record);
        Ok(())
    }
    fn objected(&mut self, _: u64, _: &str) -> io::Result<()> {
        self.other += 1;
        Ok(())
    }
    fn rejected(&mut self, _: &[RecordError]) -> io::Result<()> {
        self.other += 1;
        Ok(())
    }
}

/// MB/s of `f` over `bytes`, best of `runs`.
fn best_mb_s(bytes: usize, runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            bytes as f64 / 1e6 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn throughput_of_valid_csv() {
    let mut data = Vec::with_capacity(220 << 20);
    sample::write_csv(&mut data, "BENCH", Kind::Woninghuur, 1_000_000, 50_000, 1, RECEIVED_ON).unwrap();
    let records = 1_000_000;
    let rules = RuleSet::default();
    let ctx = Context { allowed_kinds: &ALLOWED, rules: &rules, received_on: RECEIVED_ON };

    let validator = best_mb_s(data.len(), 3, || {
        let mut sink = Count::default();
        let t = validate(&data[..], Format::Csv, &ctx, &mut sink).unwrap();
        assert_eq!((t.accepted, sink.accepted, sink.other), (records, records, 0));
    });
    if std::env::var_os("BENCH_VALIDATE_ONLY").is_some() {
        println!("validate: {validator:.0} MB/s");
        return;
    }
    // Reference points: the bare CSV parser, and the UTF-8 check alone.
    let parser = best_mb_s(data.len(), 3, || {
        let mut rdr = csv::ReaderBuilder::new().delimiter(b';').from_reader(&data[..]);
        let mut rec = csv::ByteRecord::new();
        let mut n = 0u64;
        while rdr.read_byte_record(&mut rec).unwrap() {
            n += 1;
        }
        assert_eq!(n, records);
    });
    let utf8 = best_mb_s(data.len(), 3, || {
        let mut r = super::super::utf8::Utf8Reader::new(&data[..]);
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
    });
    println!(
        "validate: {:.0} MB/s over {:.0} MB ({records} records); bare csv parser {:.0} MB/s; UTF-8 check {:.0} MB/s",
        validator,
        data.len() as f64 / 1e6,
        parser,
        utf8
    );
}
