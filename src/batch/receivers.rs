//! Who receives a municipality's signals (docs/bundles.md, "Executors"): the municipality, the
//! executor that serves it, or both, decided per signal by `Config::deliver_to` from the
//! municipality and the signal's work queue. The bundle rows, the pickup folders and the
//! recorded deliveries (which feedback checks) all ask here.

use super::bundle::Row;
use super::publish::{HouseholdsOf, placed};
use super::sort::Sorter;
use crate::config::{Config, Executor, Municipality};
use crate::state::via::ViaExecutor;

/// The executor that receives some of `m`'s signals, if its configuration sends any there.
pub fn executor<'c>(config: &'c Config, m: &Municipality) -> Option<&'c Executor> {
    config.executor_of(&m.code).filter(|_| m.deliver_to.uses_executor())
}

/// The pickup folders `m`'s bundles go into: its own, and its executor's if it uses one.
pub fn folders(config: &Config, m: &Municipality) -> Vec<String> {
    let mut out = vec![m.code.to_string()];
    out.extend(executor(config, m).map(|e| e.id.to_string()));
    out
}

/// Splits `m`'s rows into the municipality's own and, if it uses one, its executor's (a row
/// for both is in both), each in the order given.
pub fn split<'c, 'r>(
    config: &'c Config,
    m: &Municipality,
    rows: Vec<Row<'r>>,
) -> (Vec<Row<'r>>, Option<(&'c Executor, Vec<Row<'r>>)>) {
    let Some(e) = executor(config, m) else { return (rows, None) };
    let (mut own, mut theirs) = (Vec::new(), Vec::new());
    for row in rows {
        let to = config.deliver_to(m, row.werkbak);
        if to.to_executor() {
            theirs.push(row);
        }
        if to.to_municipality() {
            own.push(row);
        }
    }
    (own, Some((e, theirs)))
}

/// The run's delivered signals that go to an executor, with whether their municipality gets
/// them too (recorded for feedback, `state::via`).
pub fn via_executors<'h>(
    config: &'h Config,
    households_of: &'h HouseholdsOf<'_>,
    sorter: impl Fn(&'h Municipality) -> Sorter<'h>,
) -> Vec<ViaExecutor<'h>> {
    placed(households_of, sorter)
        .filter_map(|(m, sig, werkbak)| {
            let e = executor(config, m)?;
            let to = config.deliver_to(m, werkbak);
            to.to_executor().then(|| ViaExecutor {
                signal_id: &sig.input.signal_id,
                executor: e.id.as_str(),
                municipality_too: to.to_municipality(),
            })
        })
        .collect()
}
