//! Per-kind validation rules: the arrears window and the fields the sociale incasso requires.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::signal::Kind;

/// A field a kind can require (docs/signal-file.md, "kind-dependent").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// `contactpoging = ja`.
    Contactpoging,
    /// `herinneringsdatum` set.
    Herinneringsdatum,
    /// `schuldhulp_gewezen = ja`.
    SchuldhulpGewezen,
}

/// Rules for one kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRules {
    /// Minimum days in arrears (`signaaldatum − ontstaansdatum`).
    pub min_days: u32,
    /// Maximum days in arrears, if any.
    pub max_days: Option<u32>,
    /// Fields this kind requires.
    pub requires: Vec<Requirement>,
}

/// Rules for every kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSet {
    kinds: BTreeMap<Kind, KindRules>,
}

impl Default for RuleSet {
    fn default() -> Self {
        let kinds = Kind::ALL
            .into_iter()
            .map(|k| {
                let requires = match k {
                    Kind::Woninghuur => vec![
                        Requirement::Contactpoging,
                        Requirement::Herinneringsdatum,
                        Requirement::SchuldhulpGewezen,
                    ],
                    k if k.is_energy() => vec![Requirement::Contactpoging],
                    _ => vec![],
                };
                let max_days = (k == Kind::Zorgverzekering).then_some(100);
                (k, KindRules { min_days: 30, max_days, requires })
            })
            .collect();
        Self { kinds }
    }
}

impl RuleSet {
    /// The rules for `kind`.
    pub fn for_kind(&self, kind: Kind) -> &KindRules {
        // Every constructor fills all kinds (default, then `with`), so the key exists.
        &self.kinds[&kind]
    }

    /// Replaces the rules of one kind.
    pub fn with(mut self, kind: Kind, rules: KindRules) -> Self {
        self.kinds.insert(kind, rules);
        self
    }
}
