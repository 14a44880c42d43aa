//! meldpunt's codes onto the values of the DDAS exchange model (docs/ddas.md has the same
//! tables for the municipality's administrator).

use crate::domain::feedback::Resultaat;
use crate::domain::signal::{Cents, Kind};

/// The case's end result (`EnumEindresultaat`) for a feedback result.
pub fn eindresultaat(r: Resultaat) -> &'static str {
    match r {
        Resultaat::HulpGeaccepteerd => "Vervolghulp en/of verwijzing",
        Resultaat::VervolghulpFinancieel => "Vervolghulp en/of verwijzing financieel",
        Resultaat::QuickFix => "(Budget)advies en/of quick fix",
        Resultaat::GeenHulpNodig => "Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering",
        Resultaat::AlBetaaldOfRegeling => "Inwoner heeft zelf al betaald/betalingsregeling getroffen",
        Resultaat::GeenContact => "Definitief geen contact kunnen krijgen",
        Resultaat::GeenReactieNaContact => "Geen reactie na eerder contact",
        Resultaat::AlBekendSchuldhulpverlening => "Inwoner al bekend bij schuldhulpverlening",
        Resultaat::AnderLopendTraject => "Inwoner heeft al een ander lopend traject",
        Resultaat::HerhaaldeMelding => "Niet opgepakt: herhaalde melding",
        Resultaat::OnterechtSignaal => "Niet opgepakt: onterecht signaal",
        Resultaat::Overleden => "Inwoner is overleden",
        Resultaat::GeenInwoner => "Persoon is geen inwoner (meer) in de gemeente",
        Resultaat::NietOpgepaktAndereReden => "Niet opgepakt: andere reden",
    }
}

/// A signal's status (`EnumSignaalstatus`) from its latest feedback result, if any.
pub fn signaalstatus(r: Option<Resultaat>) -> &'static str {
    match r {
        None => "Nog niet opgepakt",
        Some(Resultaat::AlBekendSchuldhulpverlening) => "Inwoner al bekend bij schuldhulpverlening",
        Some(Resultaat::Overleden) => "Inwoner is overleden",
        Some(Resultaat::NietOpgepaktAndereReden) => "Niet opgepakt: andere reden",
        Some(Resultaat::HerhaaldeMelding) => "Niet opgepakt: herhaalde melding",
        Some(Resultaat::OnterechtSignaal) => "Niet opgepakt: onterecht signaal",
        Some(Resultaat::GeenInwoner) => "Persoon is geen inwoner (meer) in de gemeente",
        Some(_) => "Opgepakt",
    }
}

/// The creditor's type (`EnumSignaalpartner`) from the signal's kind.
pub fn signaalpartner(kind: Kind) -> &'static str {
    match kind {
        Kind::Woninghuur => "Huur",
        Kind::Elektriciteit | Kind::Gas | Kind::Warmte => "Energie",
        Kind::Drinkwater => "Water",
        Kind::Zorgverzekering => "Zorg",
    }
}

/// An amount in whole euros, rounded to the nearest (half a euro up).
pub fn whole_euros(c: Cents) -> u64 {
    (c.0 + 50) / 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_to_the_nearest_euro() {
        assert_eq!(
            [whole_euros(Cents(12_349)), whole_euros(Cents(12_350)), whole_euros(Cents(1))],
            [123, 124, 0]
        );
    }

    #[test]
    fn every_result_has_its_own_end_result_and_the_taken_up_ones_are_opgepakt() {
        let ends: std::collections::BTreeSet<_> = Resultaat::ALL.iter().map(|r| eindresultaat(*r)).collect();
        assert_eq!(ends.len(), Resultaat::ALL.len());
        assert_eq!(signaalstatus(Some(Resultaat::QuickFix)), "Opgepakt");
        assert_eq!(signaalstatus(None), "Nog niet opgepakt");
    }
}
