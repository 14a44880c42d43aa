//! Where a municipality's signals go (docs/parties.md, "Executors"): to the municipality, to the
//! executor that serves it, or to both; per municipality, and optionally per work queue. Pure:
//! one decision, a function of (municipality, work queue), serves the bundles, the recorded
//! deliveries and feedback, so they cannot disagree.

use std::collections::BTreeMap;

/// The receivers of one signal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeliverTo {
    /// The municipality only (`gemeente`, the default).
    #[default]
    Gemeente,
    /// The executor only (`uitvoerder`).
    Uitvoerder,
    /// Both (`beide`).
    Beide,
}

impl DeliverTo {
    /// Every value, in the order the documentation lists them.
    pub const ALL: [DeliverTo; 3] = [DeliverTo::Gemeente, DeliverTo::Uitvoerder, DeliverTo::Beide];

    /// Parses the configuration word.
    pub fn parse(s: &str) -> Option<DeliverTo> {
        DeliverTo::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The configuration word.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliverTo::Gemeente => "gemeente",
            DeliverTo::Uitvoerder => "uitvoerder",
            DeliverTo::Beide => "beide",
        }
    }

    /// Whether the municipality itself receives the signal.
    pub fn to_municipality(self) -> bool {
        matches!(self, DeliverTo::Gemeente | DeliverTo::Beide)
    }

    /// Whether the executor receives the signal.
    pub fn to_executor(self) -> bool {
        matches!(self, DeliverTo::Uitvoerder | DeliverTo::Beide)
    }
}

/// A municipality's choice: one destination, optionally another per work queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Destinations {
    /// For signals in no work queue, or in one without its own entry (`deliver_to`).
    pub default: DeliverTo,
    /// Per work queue (`deliver_werkbak`).
    pub per_werkbak: BTreeMap<String, DeliverTo>,
}

impl Destinations {
    /// Where a signal in work queue `werkbak` (`None`: in none) goes.
    pub fn of(&self, werkbak: Option<&str>) -> DeliverTo {
        werkbak.and_then(|q| self.per_werkbak.get(q)).copied().unwrap_or(self.default)
    }

    /// Whether any signal can reach the executor.
    pub fn uses_executor(&self) -> bool {
        self.default.to_executor() || self.per_werkbak.values().any(|d| d.to_executor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_werkbak_overrides_the_default() {
        let d = Destinations {
            default: DeliverTo::Gemeente,
            per_werkbak: [("bekend".to_owned(), DeliverTo::Uitvoerder)].into(),
        };
        assert_eq!(d.of(Some("bekend")), DeliverTo::Uitvoerder);
        assert_eq!(d.of(Some("brief")), DeliverTo::Gemeente);
        assert_eq!(d.of(None), DeliverTo::Gemeente);
        assert!(d.uses_executor());
        assert!(!Destinations::default().uses_executor());
        assert!(DeliverTo::Beide.to_municipality() && DeliverTo::Beide.to_executor());
        assert_eq!(DeliverTo::parse("beide"), Some(DeliverTo::Beide));
        assert_eq!(DeliverTo::parse("both"), None);
    }
}
