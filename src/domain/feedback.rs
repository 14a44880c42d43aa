//! Feedback (docs/feedback.md): the municipality's end result for a signal, and what the creditor may
//! see of it.
//!
//! A municipality reports one of the DDAS end results. The creditor learns only what it
//! needs to act on its own claim: whether help was accepted (then collection pauses for 30
//! days: `schuldenrust_tot`), whether the municipality took the signal up, and facts about
//! its own signal (paid or arranged, a repeat, a wrong signal). Everything the
//! municipality learned about the person — no contact, no reaction, death, moved away, known
//! to debt relief, another trajectory, another reason — shows as `niet_opgepakt`, so the
//! creditor cannot tell those apart.
//!
//! | resultaat (municipality) | status (creditor) | schuldenrust_tot |
//! |---|---|---|
//! | `hulp_geaccepteerd` | `hulp_geaccepteerd` | datum + 30 days |
//! | `vervolghulp_financieel`, `quick_fix`, `geen_hulp_nodig` | `opgepakt` | |
//! | `al_betaald_of_regeling` | `al_betaald_of_regeling` | |
//! | `herhaalde_melding` | `herhaalde_melding` | |
//! | `onterecht_signaal` | `onterecht_signaal` | |
//! | `geen_contact`, `geen_reactie_na_contact`, `al_bekend_schuldhulpverlening`, `ander_lopend_traject`, `overleden`, `geen_inwoner`, `niet_opgepakt_andere_reden` | `niet_opgepakt` | |

use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;

/// Days collection is suspended after help is accepted.
pub const SCHULDENRUST_DAYS: i64 = 30;

/// A municipality's end result for one signal (the DDAS codes, snake case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resultaat {
    /// Help was offered and accepted.
    HulpGeaccepteerd,
    /// Referred on to financial help.
    VervolghulpFinancieel,
    /// Solved on the spot.
    QuickFix,
    /// Contact made; no help needed.
    GeenHulpNodig,
    /// Already paid or arranged with the creditor.
    AlBetaaldOfRegeling,
    /// No contact could be made.
    GeenContact,
    /// Contact made, then no reaction.
    GeenReactieNaContact,
    /// Already known to debt relief.
    AlBekendSchuldhulpverlening,
    /// Another trajectory is running.
    AnderLopendTraject,
    /// A repeat of a signal already handled.
    HerhaaldeMelding,
    /// The signal was wrong.
    OnterechtSignaal,
    /// The person died.
    Overleden,
    /// Not a resident of the municipality.
    GeenInwoner,
    /// Not taken up for another reason.
    NietOpgepaktAndereReden,
}

impl Resultaat {
    /// Every code, in the order docs/feedback.md lists them.
    pub const ALL: [Resultaat; 14] = [
        Resultaat::HulpGeaccepteerd,
        Resultaat::VervolghulpFinancieel,
        Resultaat::QuickFix,
        Resultaat::GeenHulpNodig,
        Resultaat::AlBetaaldOfRegeling,
        Resultaat::GeenContact,
        Resultaat::GeenReactieNaContact,
        Resultaat::AlBekendSchuldhulpverlening,
        Resultaat::AnderLopendTraject,
        Resultaat::HerhaaldeMelding,
        Resultaat::OnterechtSignaal,
        Resultaat::Overleden,
        Resultaat::GeenInwoner,
        Resultaat::NietOpgepaktAndereReden,
    ];

    /// The snake-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Resultaat::HulpGeaccepteerd => "hulp_geaccepteerd",
            Resultaat::VervolghulpFinancieel => "vervolghulp_financieel",
            Resultaat::QuickFix => "quick_fix",
            Resultaat::GeenHulpNodig => "geen_hulp_nodig",
            Resultaat::AlBetaaldOfRegeling => "al_betaald_of_regeling",
            Resultaat::GeenContact => "geen_contact",
            Resultaat::GeenReactieNaContact => "geen_reactie_na_contact",
            Resultaat::AlBekendSchuldhulpverlening => "al_bekend_schuldhulpverlening",
            Resultaat::AnderLopendTraject => "ander_lopend_traject",
            Resultaat::HerhaaldeMelding => "herhaalde_melding",
            Resultaat::OnterechtSignaal => "onterecht_signaal",
            Resultaat::Overleden => "overleden",
            Resultaat::GeenInwoner => "geen_inwoner",
            Resultaat::NietOpgepaktAndereReden => "niet_opgepakt_andere_reden",
        }
    }

    /// Parses a code; case and surrounding spaces do not matter.
    pub fn parse(s: &str) -> Option<Resultaat> {
        let s = s.trim();
        Resultaat::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s))
    }

    /// What the creditor may see of this result.
    pub fn for_creditor(self) -> CreditorStatus {
        match self {
            Resultaat::HulpGeaccepteerd => CreditorStatus::HulpGeaccepteerd,
            Resultaat::VervolghulpFinancieel | Resultaat::QuickFix | Resultaat::GeenHulpNodig => {
                CreditorStatus::Opgepakt
            }
            Resultaat::AlBetaaldOfRegeling => CreditorStatus::AlBetaaldOfRegeling,
            Resultaat::HerhaaldeMelding => CreditorStatus::HerhaaldeMelding,
            Resultaat::OnterechtSignaal => CreditorStatus::OnterechtSignaal,
            Resultaat::GeenContact
            | Resultaat::GeenReactieNaContact
            | Resultaat::AlBekendSchuldhulpverlening
            | Resultaat::AnderLopendTraject
            | Resultaat::Overleden
            | Resultaat::GeenInwoner
            | Resultaat::NietOpgepaktAndereReden => CreditorStatus::NietOpgepakt,
        }
    }
}

impl fmt::Display for Resultaat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status a creditor sees in its terugmelding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CreditorStatus {
    /// Help accepted: suspend collection until `schuldenrust_tot`.
    HulpGeaccepteerd,
    /// The municipality took the signal up (no details).
    Opgepakt,
    /// The claim was paid or arranged.
    AlBetaaldOfRegeling,
    /// The signal repeats one already handled.
    HerhaaldeMelding,
    /// The signal was wrong; check it.
    OnterechtSignaal,
    /// Not taken up (the reason is not shared).
    NietOpgepakt,
}

impl CreditorStatus {
    /// The snake-case code in the creditor's file.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditorStatus::HulpGeaccepteerd => "hulp_geaccepteerd",
            CreditorStatus::Opgepakt => "opgepakt",
            CreditorStatus::AlBetaaldOfRegeling => "al_betaald_of_regeling",
            CreditorStatus::HerhaaldeMelding => "herhaalde_melding",
            CreditorStatus::OnterechtSignaal => "onterecht_signaal",
            CreditorStatus::NietOpgepakt => "niet_opgepakt",
        }
    }

    /// Until when collection is suspended, for a result dated `datum`.
    pub fn schuldenrust_tot(self, datum: Date) -> Option<Date> {
        (self == CreditorStatus::HulpGeaccepteerd).then(|| datum.saturating_add(SCHULDENRUST_DAYS.days()))
    }
}

impl fmt::Display for CreditorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_maps() {
        for r in Resultaat::ALL {
            assert_eq!(Resultaat::parse(r.as_str()), Some(r));
            assert_eq!(Resultaat::parse(&format!(" {} ", r.as_str().to_uppercase())), Some(r));
        }
        assert_eq!(Resultaat::parse("hulp geaccepteerd"), None);
        assert_eq!(Resultaat::parse(""), None);
    }

    #[test]
    fn creditors_never_see_reasons_about_the_person() {
        let hidden = [
            Resultaat::GeenContact,
            Resultaat::GeenReactieNaContact,
            Resultaat::AlBekendSchuldhulpverlening,
            Resultaat::AnderLopendTraject,
            Resultaat::Overleden,
            Resultaat::GeenInwoner,
            Resultaat::NietOpgepaktAndereReden,
        ];
        for r in Resultaat::ALL {
            let s = r.for_creditor();
            if hidden.contains(&r) {
                assert_eq!(s, CreditorStatus::NietOpgepakt, "{r}");
            } else {
                assert_ne!(s, CreditorStatus::NietOpgepakt, "{r}");
            }
            // A creditor status never spells out a hidden municipal code.
            for h in hidden {
                assert_ne!(s.as_str(), h.as_str());
            }
        }
    }

    #[test]
    fn schuldenrust_only_for_accepted_help() {
        let d = Date::constant(2026, 12, 15);
        assert_eq!(
            Resultaat::HulpGeaccepteerd.for_creditor().schuldenrust_tot(d),
            Some(Date::constant(2027, 1, 14))
        );
        for r in Resultaat::ALL.into_iter().filter(|r| *r != Resultaat::HulpGeaccepteerd) {
            assert_eq!(r.for_creditor().schuldenrust_tot(d), None, "{r}");
        }
    }
}
