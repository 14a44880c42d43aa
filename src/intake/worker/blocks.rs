//! A large CSV upload checked on two threads.
//!
//! The first [`Job::parallel_from`](super::Job) bytes are checked on the worker's own thread
//! as they come. From then on each chunk is cut at line ends: what completes the record
//! carried over from the chunk before is checked here, and the whole records after it, up to
//! the chunk's last line end, form a block. A block goes to a helper thread while the helper
//! has fewer than [`HELPER_DEPTH`] blocks in hand, else it is checked here, by a fork of the
//! validator that starts at the block's line and offset. Every outcome waits in a queue in
//! file order and reaches the sealer in that order, so the receipt and the sealed file are
//! what one thread would have made. Cuts follow the quoting (a quoted field may hold a line
//! end): see `csv_split::last_record_end`.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, SyncSender};

use super::input::ChannelReader;
use super::sink::{Collected, SealSink};
use super::{Job, context};
use crate::intake::validate::{Context, CsvValidator, Tally, ValidateError};

/// Blocks the helper may have waiting or in hand.
const HELPER_DEPTH: usize = 2;

/// Outcomes that may wait for the sealer before this thread waits for the oldest.
const MAX_QUEUED: usize = 8;

/// A block's outcome: its counts (or why the file is rejected) and what it produced.
struct Outcome {
    result: Result<Tally, ValidateError>,
    out: Collected,
}

/// In the queue: an outcome known here, or one the helper will send (the helper answers in
/// the order it was given its blocks).
enum Pending {
    Here(Outcome),
    Helper,
}

/// A block for the helper.
struct Task {
    chunk: Arc<Vec<u8>>,
    range: Range<usize>,
    fork: CsvValidator,
    out: Collected,
}

/// The helper thread, once started.
struct Helper {
    tasks: SyncSender<Task>,
    outcomes: Receiver<Outcome>,
    in_hand: usize,
}

/// Checks a CSV upload from `input` into `sink`; see the module documentation.
pub(super) fn check_csv(
    job: &Job,
    input: &mut ChannelReader,
    ctx: &Context<'_>,
    sink: &mut SealSink,
) -> Result<Tally, ValidateError> {
    let mut csv = CsvValidator::new();
    let mut queue = VecDeque::new();
    let mut helper: Option<Helper> = None;
    while let Some(chunk) = input.next_chunk().map_err(ValidateError::Input)? {
        if helper.is_none() && input.bytes <= job.parallel_from {
            csv.feed(&chunk, ctx, sink)?;
            continue;
        }
        let helper = match &mut helper {
            Some(h) => h,
            None => helper.insert(start_helper(job).map_err(ValidateError::Sink)?),
        };
        let stop = cut(&mut csv, &chunk, ctx, sink, helper, &mut queue);
        settle(&mut queue, helper, sink, &mut csv, MAX_QUEUED)?;
        if stop {
            break;
        }
    }
    if let Some(h) = &mut helper {
        settle(&mut queue, h, sink, &mut csv, 0)?;
    }
    csv.finish(ctx, sink)
}

/// Queues the outcomes of one chunk; `true` when one of them ends the file (a file error).
fn cut(
    csv: &mut CsvValidator,
    chunk: &Arc<Vec<u8>>,
    ctx: &Context<'_>,
    sink: &SealSink,
    helper: &mut Helper,
    queue: &mut VecDeque<Pending>,
) -> bool {
    let mut out = sink.all.fresh();
    let here = |queue: &mut VecDeque<Pending>, result: Result<Tally, ValidateError>, out: Collected| {
        let failed = result.is_err();
        if failed || !out.is_empty() {
            queue.push_back(Pending::Here(Outcome { result, out }));
        }
        failed
    };
    let mut at = match csv.feed_to_boundary(chunk, ctx, &mut out) {
        Ok(taken) => taken,
        Err(e) => return here(queue, Err(e), out),
    };
    if let Some((len, fork)) = csv.split_off(&chunk[at..]) {
        let block = at..at + len;
        here(queue, Ok(Tally::default()), std::mem::replace(&mut out, sink.all.fresh()));
        if helper.in_hand < HELPER_DEPTH {
            let task = Task { chunk: chunk.clone(), range: block.clone(), fork, out: sink.all.fresh() };
            if helper.tasks.send(task).is_err() {
                let e = std::io::Error::other("the helper thread stopped");
                return here(queue, Err(ValidateError::Sink(e)), sink.all.fresh());
            }
            helper.in_hand += 1;
            queue.push_back(Pending::Helper);
        } else {
            let mut block_out = sink.all.fresh();
            let result = fork.check_block(&chunk[block.clone()], ctx, &mut block_out);
            if here(queue, result, block_out) {
                return true;
            }
        }
        at = block.end;
    }
    let result = csv.feed(&chunk[at..], ctx, &mut out).map(|()| Tally::default());
    here(queue, result, out)
}

/// Hands queued outcomes to the sealer in order until at most `keep` wait; waits for the
/// helper when the oldest is its.
fn settle(
    queue: &mut VecDeque<Pending>,
    helper: &mut Helper,
    sink: &mut SealSink,
    csv: &mut CsvValidator,
    keep: usize,
) -> Result<(), ValidateError> {
    while let Some(first) = queue.front() {
        let outcome = match first {
            Pending::Here(_) => match queue.pop_front() {
                Some(Pending::Here(o)) => o,
                _ => unreachable!("the front is an outcome known here"),
            },
            Pending::Helper => {
                let o = if queue.len() > keep {
                    helper.outcomes.recv().map_err(|_| {
                        ValidateError::Sink(std::io::Error::other("the helper thread stopped"))
                    })?
                } else {
                    match helper.outcomes.try_recv() {
                        Ok(o) => o,
                        Err(_) => return Ok(()),
                    }
                };
                queue.pop_front();
                helper.in_hand -= 1;
                o
            }
        };
        deliver(outcome, sink, csv)?;
    }
    Ok(())
}

/// One outcome to the sealer, its counts to the validator; a file error ends the file.
fn deliver(o: Outcome, sink: &mut SealSink, csv: &mut CsvValidator) -> Result<(), ValidateError> {
    csv.add(o.result?);
    sink.absorb(o.out).map_err(ValidateError::Sink)
}

/// Starts the helper on a thread of `job.backs`.
fn start_helper(job: &Job) -> std::io::Result<Helper> {
    let (tasks, task_rx) = mpsc::sync_channel::<Task>(HELPER_DEPTH);
    let (outcome_tx, outcomes) = mpsc::channel();
    let (config, creditor, received_on) = (job.config.clone(), job.creditor.clone(), job.received_on);
    job.backs.spawn("check".into(), move || {
        let ctx = context(&config, &creditor, received_on);
        for t in task_rx {
            let mut out = t.out;
            let result = t.fork.check_block(&t.chunk[t.range], &ctx, &mut out);
            if outcome_tx.send(Outcome { result, out }).is_err() {
                break;
            }
        }
    })?;
    Ok(Helper { tasks, outcomes, in_hand: 0 })
}
