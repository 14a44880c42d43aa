//! `receive`'s decisions on a demo installation: no key, a list of another key, a malformed
//! list, then two good lists, the second replacing the first; and expiry. Each with its audit
//! event (counts only) and its result file.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::domain::clients::{ClientKey, PersonHashes, list};
use crate::domain::party::MunicipalityCode;

fn incoming(bytes: Vec<u8>) -> Incoming {
    Incoming {
        party: PartyId::Municipality(MunicipalityCode::parse("GM0505").unwrap()),
        bytes,
        auth: "test".into(),
        origin: "127.0.0.1".into(),
        protocol: "https",
    }
}

fn list_text(key: &ClientKey, persons: &[PersonHashes]) -> Vec<u8> {
    let mut t = list::header(&key.id());
    t.push('\n');
    for p in persons {
        t.push_str(&list::line(p));
        t.push('\n');
    }
    t.into_bytes()
}

fn last_upload(app: &App) -> crate::audit::Record {
    app.audit().records().unwrap().into_iter().rev().find(|r| r.action == "clients_upload").unwrap()
}

#[test]
fn uploads_are_checked_against_the_key_replace_the_list_and_expire() {
    let dir = tempfile::tempdir().unwrap();
    let app = crate::demo::setup::open_app(dir.path());
    let people: Vec<PersonHashes> = (1..=3u8)
        .map(|b| PersonHashes { name: [b; 32], dated: (b % 2 == 1).then_some([b + 100; 32]) })
        .collect();
    let stranger = ClientKey::from_secret([9; 32]);

    let a = process(&app, incoming(list_text(&stranger, &people))).unwrap();
    assert_eq!((a.status, a.key), (Status::Rejected, "no_key"));
    assert_eq!(last_upload(&app).object["reason"], "no_key");

    let key = client_key::create(app.layout(), "GM0505").unwrap();
    let a = process(&app, incoming(list_text(&stranger, &people))).unwrap();
    assert_eq!((a.status, a.key, a.errors[0].line), (Status::Rejected, "mismatch", 0));

    let mut bad = list_text(&key, &people);
    bad.extend_from_slice(b"not a line\n");
    let a = process(&app, incoming(bad)).unwrap();
    assert_eq!((a.status, a.bad_lines, a.errors[0].line), (Status::Rejected, 1, 5));
    assert!(clients::info(&app.state().lock(), "GM0505").unwrap().is_none(), "nothing stored");

    let a = process(&app, incoming(list_text(&key, &people))).unwrap();
    assert_eq!((a.status, a.persons, a.replaced, a.key), (Status::Accepted, 3, 0, "ok"));
    let a = process(&app, incoming(list_text(&key, &people[..1]))).unwrap();
    assert_eq!((a.persons, a.replaced), (1, 3));
    let ev = last_upload(&app);
    assert_eq!((ev.object["persons"].as_u64(), ev.object["replaced"].as_u64()), (Some(1), Some(3)));
    assert!(!ev.object.to_string().contains(&hex::encode([1u8; 32])), "no hash in the audit");
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(app.layout().receipts("GM0505").join(RESULT_FILE)).unwrap())
            .unwrap();
    assert_eq!((result["persons"].as_u64(), result["replaced"].as_u64()), (Some(1), Some(3)));

    // Expiry: nothing at first; past max_age_days once, with its count.
    let now = Timestamp::now();
    assert!(expire(&app, now).unwrap().is_empty());
    let later = now + SignedDuration::from_hours(24 * (i64::from(app.config().clients_max_age_days) + 1));
    assert_eq!(expire(&app, later).unwrap(), [Expired { party: "GM0505".into(), persons: 1 }]);
    assert!(expire(&app, later).unwrap().is_empty(), "expired once");
    assert!(clients::hashes(&app.state().lock(), "GM0505").unwrap().is_empty());
}
