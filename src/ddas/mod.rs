//! The DDAS export (docs/ddas.md): what meldpunt holds about a municipality's vroegsignalering —
//! the signals it delivered, one case per household per batch, and the results, dates and
//! contact attempts its feedback reported — in the VNG/DDAS exchange model ('Uitwisselmodel'
//! v1.2), which municipalities deliver monthly to CBS.
//!
//! [`export`] builds the document for some municipalities and a date range (the command line,
//! and an executor's municipalities served); [`monthly`] drops the previous month's export,
//! encrypted to each municipality, into its pickup folder on `[ddas] day`.

use jiff::civil::Date;
use serde::Serialize;

use crate::app::App;
use crate::config::Municipality;
use crate::state::StateError;

pub mod collect;
pub mod map;
pub mod model;
pub mod monthly;

/// Who delivers the data (`codeGegevensleverancier`).
pub const LEVERANCIER: &str = "meldpunt";

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DdasError {
    /// Reading a period's sealed signals (e.g. its key was shredded).
    #[error(transparent)]
    Read(#[from] crate::batch::signals::ReadError),
    /// The state database.
    #[error(transparent)]
    State(#[from] StateError),
    /// Writing the export.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How much an export holds, per municipality (for the audit and the operator).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// The municipality's code.
    pub gemeente: String,
    /// Signals (`vroegsignalen`).
    pub vroegsignalen: usize,
    /// Cases (`vroegsignaalzaken`).
    pub vroegsignaalzaken: usize,
    /// Cases with a result.
    pub met_resultaat: usize,
}

/// A made export: the document and its counts.
pub struct Export {
    /// The document.
    pub document: model::Uitwisselmodel,
    /// Per municipality.
    pub counts: Vec<Counts>,
}

impl Export {
    /// One export per municipality, each with its own `levering` as the only one (`teller` 1),
    /// as `meldpunt ddas export --gemeente` for that one gives it.
    pub fn split(self) -> Vec<Export> {
        let Export { document, counts } = self;
        document
            .leveringen
            .iter()
            .zip(counts)
            .map(|(l, c)| Export {
                document: model::Uitwisselmodel {
                    leveringen: vec![model::Levering { teller: 1, ..l.clone() }],
                    ..document.clone()
                },
                counts: vec![c],
            })
            .collect()
    }

    /// The document as indented JSON followed by a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(&self.document).expect("in memory");
        out.push(b'\n');
        out
    }
}

/// The export of `municipalities` for the batches matched from `from` to `to` (inclusive,
/// Europe/Amsterdam), one `levering` each, in the order given. Holds the batch lock while it
/// reads a period's sealed signals; each period is read once for all of them, and only one is
/// held in memory at a time.
pub fn export(
    app: &App,
    municipalities: &[&Municipality],
    from: Date,
    to: Date,
) -> Result<Export, DdasError> {
    let mut leveringen: Vec<model::Levering> =
        municipalities.iter().enumerate().map(|(i, m)| collect::levering(m, i as u32 + 1)).collect();
    for (period, matched) in collect::matched_between(app.state(), from, to)? {
        let all = {
            let lock = crate::batch::run::lock_file(app.layout())?;
            lock.lock()?;
            crate::batch::signals::period_signals(app.state(), app.vault(), period, false)?
        };
        for (l, m) in leveringen.iter_mut().zip(municipalities) {
            collect::add_period(app.state(), l, m, period, matched, &all)?;
        }
    }
    let counts = municipalities
        .iter()
        .zip(&leveringen)
        .map(|(m, l)| Counts {
            gemeente: m.code.to_string(),
            vroegsignalen: l.vroegsignalen.len(),
            vroegsignaalzaken: l.vroegsignaalzaken.len(),
            met_resultaat: l.vroegsignaalzaken.iter().filter(|z| z.resultaat.is_some()).count(),
        })
        .collect();
    let now = jiff::Timestamp::now();
    let document = model::Uitwisselmodel {
        startdatum_levering: from.to_string(),
        einddatum_levering: to.to_string(),
        aanleverdatum_en_tijd: now.round(jiff::Unit::Second).unwrap_or(now).to_string(),
        code_gegevensleverancier: LEVERANCIER.to_owned(),
        leveringen,
    };
    Ok(Export { document, counts })
}
