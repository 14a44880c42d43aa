//! Work queues ("werkbakken", docs/bundles.md): a municipality's ordered rules sort each signal
//! it receives into a queue, or leave it out. Conditions are typed fields, never an expression
//! language; a rule holds when every condition it names holds; the first rule that holds wins.
//! Pure: the facts of a signal in, a decision out.

use jiff::civil::Date;

use super::party::CreditorId;
use super::period::age_on;
use super::signal::{Cents, Fase, Kind};

/// What a rule does with the signals it holds for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Put them into this queue (one of the municipality's `werkbakken`).
    Queue(String),
    /// Leave them out of the bundle (the creditor's report says `left_out`).
    LeaveOut,
}

/// The conditions of one rule; `None` is "any".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// The signal's kind is one of these.
    pub soort: Option<Vec<Kind>>,
    /// The signal's phase is one of these.
    pub fase: Option<Vec<Fase>>,
    /// The signal is (or is not) a crisis signal.
    pub crisissignaal: Option<bool>,
    /// The household is (or is not) enkelvoudig.
    pub enkelvoudig: Option<bool>,
    /// The household is (or is not) meervoudig.
    pub meervoudig: Option<bool>,
    /// The household is (or is not) opeenvolgend.
    pub opeenvolgend: Option<bool>,
    /// The signal is (or is not) herhaald.
    pub herhaald: Option<bool>,
    /// The household is (or is not) below the municipality's drempelbedrag.
    pub onder_drempel: Option<bool>,
    /// The person is (or is not) on the municipality's known-client list (docs/known-clients.md).
    pub bekend: Option<bool>,
    /// The household's total arrears are at least this.
    pub total_from: Option<Cents>,
    /// The household's total arrears are below this.
    pub total_below: Option<Cents>,
    /// The signal comes from one of these creditors.
    pub creditor: Option<Vec<CreditorId>>,
    /// The person is at least this old on the batch day (unknown date of birth: no match).
    pub age_from: Option<u8>,
    /// The person is younger than this on the batch day (unknown date of birth: no match).
    pub age_below: Option<u8>,
}

/// One rule: its conditions and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// When it holds.
    pub when: Conditions,
    /// What it does then.
    pub outcome: Outcome,
}

/// What is known of one signal when it is sorted.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// Its kind.
    pub soort: Kind,
    /// Its phase.
    pub fase: Fase,
    /// Crisis signal.
    pub crisissignaal: bool,
    /// Household enkelvoudig.
    pub enkelvoudig: bool,
    /// Household meervoudig.
    pub meervoudig: bool,
    /// Household opeenvolgend.
    pub opeenvolgend: bool,
    /// Signal herhaald.
    pub herhaald: bool,
    /// The person is on the receiving party's known-client list.
    pub bekend: bool,
    /// Household below the drempelbedrag.
    pub onder_drempel: bool,
    /// Household total arrears.
    pub total: Cents,
    /// The creditor.
    pub creditor: &'a CreditorId,
    /// The person's date of birth, if known.
    pub geboortedatum: Option<Date>,
    /// The day ages are taken on (the period's batch day).
    pub on: Date,
}

/// Where one signal goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision<'r> {
    /// Into this queue.
    Queue(&'r str),
    /// No rule held (or there are none): delivered with an empty `werkbak`.
    Unsorted,
    /// Left out of the bundle.
    LeaveOut,
}

/// The decision of the first rule of `rules` that holds for `f`.
pub fn decide<'r>(rules: &'r [Rule], f: &Facts<'_>) -> Decision<'r> {
    match rules.iter().find(|r| holds(&r.when, f)).map(|r| &r.outcome) {
        Some(Outcome::Queue(q)) => Decision::Queue(q),
        Some(Outcome::LeaveOut) => Decision::LeaveOut,
        None => Decision::Unsorted,
    }
}

/// Whether every condition of `c` holds for `f`.
fn holds(c: &Conditions, f: &Facts<'_>) -> bool {
    let flag = |want: Option<bool>, have: bool| want.is_none_or(|w| w == have);
    let age = f.geboortedatum.map(|born| age_on(born, f.on));
    c.soort.as_ref().is_none_or(|k| k.contains(&f.soort))
        && c.fase.as_ref().is_none_or(|p| p.contains(&f.fase))
        && flag(c.crisissignaal, f.crisissignaal)
        && flag(c.enkelvoudig, f.enkelvoudig)
        && flag(c.meervoudig, f.meervoudig)
        && flag(c.opeenvolgend, f.opeenvolgend)
        && flag(c.herhaald, f.herhaald)
        && flag(c.onder_drempel, f.onder_drempel)
        && flag(c.bekend, f.bekend)
        && c.total_from.is_none_or(|t| f.total >= t)
        && c.total_below.is_none_or(|t| f.total < t)
        && c.creditor.as_ref().is_none_or(|cs| cs.contains(f.creditor))
        && c.age_from.is_none_or(|a| age.is_some_and(|age| age >= i64::from(a)))
        && c.age_below.is_none_or(|a| age.is_some_and(|age| age < i64::from(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(creditor: &CreditorId) -> Facts<'_> {
        Facts {
            soort: Kind::ALL[0],
            fase: Fase::Eerste,
            crisissignaal: false,
            enkelvoudig: true,
            meervoudig: false,
            opeenvolgend: false,
            herhaald: false,
            bekend: false,
            onder_drempel: false,
            total: Cents(400_00),
            creditor,
            geboortedatum: Some(Date::constant(2000, 6, 15)),
            on: Date::constant(2026, 6, 14),
        }
    }

    fn queue(name: &str, when: Conditions) -> Rule {
        Rule { when, outcome: Outcome::Queue(name.into()) }
    }

    #[test]
    fn the_first_rule_that_holds_wins_and_none_is_unsorted() {
        let c = CreditorId::parse("woonstad").unwrap();
        let rules = vec![
            queue("crisis", Conditions { crisissignaal: Some(true), ..Default::default() }),
            queue("bellen", Conditions { total_from: Some(Cents(500_00)), ..Default::default() }),
            Rule {
                when: Conditions { total_below: Some(Cents(50_00)), ..Default::default() },
                outcome: Outcome::LeaveOut,
            },
            queue("jong", Conditions { age_below: Some(27), ..Default::default() }),
        ];
        let f = facts(&c);
        assert_eq!(decide(&rules, &f), Decision::Queue("jong"));
        assert_eq!(
            decide(&rules, &Facts { crisissignaal: true, total: Cents(900_00), ..f }),
            Decision::Queue("crisis")
        );
        assert_eq!(decide(&rules, &Facts { total: Cents(500_00), ..f }), Decision::Queue("bellen"));
        assert_eq!(decide(&rules, &Facts { total: Cents(49_99), ..f }), Decision::LeaveOut);
        assert_eq!(decide(&rules, &Facts { geboortedatum: None, ..f }), Decision::Unsorted);
        assert_eq!(decide(&[], &f), Decision::Unsorted);
    }

    #[test]
    fn each_condition_can_fail() {
        let c = CreditorId::parse("woonstad").unwrap();
        let other = CreditorId::parse("energie").unwrap();
        let f = facts(&c);
        let fails = [
            Conditions { soort: Some(vec![Kind::ALL[1]]), ..Default::default() },
            Conditions { fase: Some(vec![Fase::Update]), ..Default::default() },
            Conditions { crisissignaal: Some(true), ..Default::default() },
            Conditions { enkelvoudig: Some(false), ..Default::default() },
            Conditions { meervoudig: Some(true), ..Default::default() },
            Conditions { opeenvolgend: Some(true), ..Default::default() },
            Conditions { herhaald: Some(true), ..Default::default() },
            Conditions { onder_drempel: Some(true), ..Default::default() },
            Conditions { bekend: Some(true), ..Default::default() },
            Conditions { total_from: Some(Cents(400_01)), ..Default::default() },
            Conditions { total_below: Some(Cents(400_00)), ..Default::default() },
            Conditions { creditor: Some(vec![other]), ..Default::default() },
            Conditions { age_from: Some(26), ..Default::default() },
            Conditions { age_below: Some(25), ..Default::default() },
        ];
        for when in fails {
            assert!(!holds(&when, &f), "{when:?}");
        }
        assert!(holds(&Conditions { age_from: Some(25), age_below: Some(26), ..Default::default() }, &f));
    }
}
