//! The SFTP path resolver `transport::folders::paths::resolve`: a resolved path never leaves
//! the party's tree and resolves again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use meldpunt::domain::party::{CreditorId, MunicipalityCode, PartyId};
use meldpunt::transport::folders::paths::{Folder, MAX_PATH_BYTES, Target, plain_name, resolve};

fuzz_target!(|data: &[u8]| {
    let Some((&who, rest)) = data.split_first() else { return };
    let party = if who & 1 == 0 {
        PartyId::Creditor(CreditorId::parse("woonstad").unwrap())
    } else {
        PartyId::Municipality(MunicipalityCode::parse("GM0505").unwrap())
    };
    let path = String::from_utf8_lossy(rest);
    let Ok(target) = resolve(&party, &path) else { return };
    assert!(path.len() <= MAX_PATH_BYTES);
    assert!(!path.contains('\\') && !path.contains('\0'), "{path:?} resolved");
    assert!(path.split('/').all(|c| c != ".."), "{path:?} resolved");
    if let Some(f) = target.folder() {
        assert!(Folder::of(&party).contains(&f), "{path:?} → {target:?}, not the party's folder");
    }
    if let Target::File(_, name) = &target {
        assert!(!name.is_empty() && name != "." && name != "..", "{path:?} → {name:?}");
        assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'), "{name:?}");
        assert!(name.chars().all(|c| !c.is_control()), "{name:?}");
        let _ = plain_name(name);
    }
    let canonical = target.to_path();
    assert!(canonical.starts_with('/'));
    assert_eq!(resolve(&party, &canonical), Ok(target.clone()), "{canonical:?} does not resolve to itself");
});
