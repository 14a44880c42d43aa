//! `[[executor]]` blocks and each municipality's `deliver_to` / `deliver_werkbak`
//! (docs/parties.md, "Executors"): an executor serves configured municipalities, none served by
//! two; a municipality sends signals to an executor only if one serves it, and names in
//! `deliver_werkbak` only its own work queues.

use toml::Spanned;

use super::Checker;
use super::parties::age_recipients;
use crate::config::file::RawConfig;
use crate::config::{Executor, Municipality};
use crate::domain::deliver_to::{DeliverTo, Destinations};
use crate::domain::party::{ExecutorId, MunicipalityCode};

/// The executors, each checked against the municipalities; a block with an unusable id is
/// left out.
pub(super) fn executors(
    c: &mut Checker<'_>,
    raw: &RawConfig,
    municipalities: &[Municipality],
) -> Vec<Executor> {
    let mut out: Vec<Executor> = Vec::new();
    for e in &raw.executors {
        let id = ExecutorId::parse(e.id.get_ref());
        if let Err(err) = &id {
            c.report(&e.id, err.to_string(), "write an upper-case id such as \"SDD\"");
        }
        if let Ok(id) = &id
            && out.iter().any(|o| &o.id == id)
        {
            c.report(
                &e.id,
                format!("executor {id} is configured twice"),
                "keep one [[executor]] block per id",
            );
        }
        let age_recipients = age_recipients(c, "executor", &e.id, &e.age_recipients);
        let mut serves: Vec<MunicipalityCode> = Vec::new();
        for s in &e.serves {
            match MunicipalityCode::parse(s.get_ref()) {
                Ok(code) if !municipalities.iter().any(|m| m.code == code) => c.report(
                    s,
                    format!(
                        "executor {} serves {code}, which is not a configured municipality",
                        e.id.get_ref()
                    ),
                    "add a [[municipality]] block for it, or remove it from serves",
                ),
                Ok(code) if serves.contains(&code) => {
                    c.report(s, format!("{code} is listed twice in serves"), "list each municipality once")
                }
                Ok(code) => match out.iter().find(|o| o.serves.contains(&code)) {
                    Some(other) => c.report(
                        s,
                        format!("{code} is served by executor {} already", other.id),
                        "a municipality has at most one executor; remove it from one serves list",
                    ),
                    None => serves.push(code),
                },
                Err(err) => c.report(s, err.to_string(), "write a CBS code such as \"GM0505\""),
            }
        }
        if e.serves.is_empty() {
            c.report(&e.id, format!("executor {} serves no municipality", e.id.get_ref()), SERVES_FIX);
        }
        let ssh_keys = c.ssh_keys(e.id.get_ref(), &e.ssh_keys, &e.ssh_key_files);
        let tls = crate::config::tls::identity(c, e.id.get_ref(), &e.tls_fingerprints, e.oin.as_ref());
        let Ok(id) = id else { continue };
        out.push(Executor { id, name: e.name.clone(), age_recipients, serves, ssh_keys, tls });
    }
    out
}

const SERVES_FIX: &str = "add serves = [\"GM….\"], the municipalities whose bundles it receives";

/// Sets each municipality's destinations from its `deliver_to` and `deliver_werkbak`, checked
/// against its work queues and the executors.
pub(super) fn destinations(
    c: &mut Checker<'_>,
    raw: &RawConfig,
    municipalities: &mut [Municipality],
    executors: &[Executor],
) {
    for rm in &raw.municipalities {
        let Some(m) = municipalities.iter_mut().find(|m| m.code.as_str() == rm.code.get_ref()) else {
            continue;
        };
        let served = executors.iter().any(|e| e.serves.contains(&m.code));
        let code = m.code.to_string();
        let word = |c: &mut Checker<'_>, w: &Spanned<String>| {
            let d = DeliverTo::parse(w.get_ref());
            match d {
                None => c.report(
                    w,
                    format!("'{}' is not a destination", w.get_ref()),
                    "write \"gemeente\", \"uitvoerder\" or \"beide\"",
                ),
                Some(d) if d.to_executor() && !served => c.report(
                    w,
                    format!("{code} sends signals to an executor, but no executor serves it"),
                    format!("add \"{code}\" to the serves list of an [[executor]], or write \"gemeente\""),
                ),
                Some(_) => {}
            }
            d
        };
        let default = rm.deliver_to.as_ref().and_then(|w| word(c, w)).unwrap_or_default();
        let mut per_werkbak = std::collections::BTreeMap::new();
        for (q, w) in &rm.deliver_werkbak {
            if !m.werkbakken.iter().any(|k| k == q.get_ref()) {
                c.report(
                    q,
                    format!(
                        "deliver_werkbak names '{}', which is not one of the queues of {code}",
                        q.get_ref()
                    ),
                    "name a queue listed in werkbakken",
                );
            }
            if let Some(d) = word(c, w) {
                per_werkbak.insert(q.get_ref().clone(), d);
            }
        }
        m.deliver_to = Destinations { default, per_werkbak };
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;
    use crate::domain::deliver_to::DeliverTo;

    fn text(executors: &str, municipalities: &str) -> String {
        let r = age::x25519::Identity::generate().to_public().to_string();
        let m = |code: &str, extra: &str| {
            format!(
                "[[municipality]]\ncode = \"{code}\"\nname = \"{code}\"\nage_recipients = [\"{r}\"]\n{extra}\n"
            )
        };
        let mut t = String::from("data_dir = \"d\"\n");
        t += &m(
            "GM0505",
            "werkbakken = [\"sdd\", \"brief\"]\ndeliver_to = \"beide\"\ndeliver_werkbak = { sdd = \"uitvoerder\" }",
        );
        t += &m("GM0642", "deliver_to = \"uitvoerder\"");
        t += municipalities;
        t += &executors.replace("RECIPIENT", &r);
        t
    }

    const SDD: &str = "[[executor]]\nid = \"SDD\"\nname = \"SDD\"\nage_recipients = [\"RECIPIENT\"]\nserves = [\"GM0505\", \"GM0642\"]\n";

    #[test]
    fn destinations_per_municipality_and_work_queue() {
        let c = Config::parse(Path::new("/m.toml"), &text(SDD, "")).unwrap();
        let (dordrecht, zwijndrecht) = (&c.municipalities[0], &c.municipalities[1]);
        assert_eq!(c.deliver_to(dordrecht, Some("sdd")), DeliverTo::Uitvoerder);
        assert_eq!(c.deliver_to(dordrecht, Some("brief")), DeliverTo::Beide);
        assert_eq!(c.deliver_to(dordrecht, None), DeliverTo::Beide);
        assert_eq!(c.deliver_to(zwijndrecht, None), DeliverTo::Uitvoerder);
        assert_eq!(c.executor_of(&zwijndrecht.code).unwrap().id.as_str(), "SDD");
        assert_eq!(c.party_named("SDD").unwrap().actor(), "uitvoerder:SDD");
    }

    #[test]
    fn every_executor_problem_is_named() {
        let executors = format!(
            "{SDD}[[executor]]\nid = \"sdd2\"\nname = \"x\"\nage_recipients = []\nserves = [\"GM0642\", \"GM9999\"]\n"
        );
        let extra = "[[municipality]]\ncode = \"GM0590\"\nname = \"P\"\nage_recipients = [\"age1x\"]\n\
                     werkbakken = [\"a\"]\ndeliver_to = \"allebei\"\ndeliver_werkbak = { b = \"uitvoerder\" }\n";
        let p = Config::parse(Path::new("/m.toml"), &text(&executors, extra)).unwrap_err().0;
        let messages: Vec<String> =
            p.iter().map(|p| format!("{}: {} ({})", p.line, p.message, p.fix)).collect();
        let has = |s: &str| assert!(messages.iter().any(|m| m.contains(s)), "no '{s}' in {messages:#?}");
        has("'allebei' is not a destination");
        has("deliver_werkbak names 'b', which is not one of the queues of GM0590");
        has("GM0590 sends signals to an executor, but no executor serves it");
        has("executor id 'sdd2' must be");
        has("executor sdd2 has no age recipients");
        has("GM0642 is served by executor SDD already");
        has("serves GM9999, which is not a configured municipality");
        assert!(p.iter().all(|p| p.line > 0), "{messages:#?}");
    }
}
