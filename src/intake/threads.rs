//! Reused threads for the intake workers.
//!
//! Every upload is checked and sealed by two threads of its own, a large CSV upload by a third
//! too (a blocking pipeline, see [`super::worker`]). Starting fresh ones for each upload left the allocator with the
//! memory of every thread that had ended (its per-thread heap is given back only lazily),
//! so under a steady stream of small uploads the daemon's memory grew with the number of
//! uploads. Here a thread that finishes its job waits a while for the next one: the
//! number of threads follows the number of uploads at the same time, and their heaps are
//! used again.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A job for a thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a thread without work waits for the next job before it ends.
const IDLE: Duration = Duration::from_secs(30);

/// Threads waiting for work; see the module documentation. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Threads {
    idle: Arc<Mutex<Vec<Idle>>>,
}

/// A waiting thread: where to send it a job.
struct Idle {
    id: u64,
    jobs: Sender<Job>,
}

impl Threads {
    /// Runs `job` on a waiting thread, or on a new one named `name`.
    pub fn spawn(&self, name: String, job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let mut job: Job = Box::new(job);
        loop {
            let waiting = self.idle.lock().expect("the idle list is never poisoned").pop();
            let Some(waiting) = waiting else { break };
            // A thread ends only after taking itself off the list, so this send finds it
            // alive, unless it panicked (then try the next one).
            match waiting.jobs.send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::SendError(back)) => job = back,
            }
        }
        let (tx, rx) = mpsc::channel();
        tx.send(job).expect("the receiver is here");
        let idle = self.idle.clone();
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::thread::Builder::new().name(name).spawn(move || serve(id, tx, rx, idle))?;
        Ok(())
    }
}

/// Numbers the threads (to find one on the idle list).
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A thread's life: run jobs, wait on the idle list between them, end after [`IDLE`].
fn serve(id: u64, tx: Sender<Job>, rx: Receiver<Job>, idle: Arc<Mutex<Vec<Idle>>>) {
    let mut next = rx.recv().ok();
    while let Some(job) = next.take() {
        job();
        idle.lock().expect("the idle list is never poisoned").push(Idle { id, jobs: tx.clone() });
        next = match rx.recv_timeout(IDLE) {
            Ok(job) => Some(job),
            Err(RecvTimeoutError::Timeout) => {
                let mut list = idle.lock().expect("the idle list is never poisoned");
                match list.iter().position(|w| w.id == id) {
                    // Nobody took it: leave.
                    Some(i) => {
                        list.swap_remove(i);
                        None
                    }
                    // Someone took it just now and is sending a job: wait for that one.
                    None => {
                        drop(list);
                        rx.recv().ok()
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_thread_takes_the_next_job() {
        let threads = Threads::default();
        let (tx, rx) = mpsc::channel();
        let mut ids = Vec::new();
        for i in 0..5 {
            let tx = tx.clone();
            threads.spawn(format!("t{i}"), move || tx.send(std::thread::current().id()).unwrap()).unwrap();
            ids.push(rx.recv().unwrap());
            // Wait until the thread is back on the idle list before the next job.
            while threads.idle.lock().unwrap().is_empty() {
                std::thread::yield_now();
            }
        }
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_ne!(ids[0], std::thread::current().id());
    }

    #[test]
    fn jobs_at_the_same_time_get_threads_of_their_own() {
        let threads = Threads::default();
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let (tx, rx) = mpsc::channel();
        for i in 0..4 {
            let (b, tx) = (barrier.clone(), tx.clone());
            threads
                .spawn(format!("t{i}"), move || {
                    b.wait();
                    tx.send(std::thread::current().id()).unwrap();
                })
                .unwrap();
        }
        let ids: std::collections::HashSet<_> = (0..4).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(ids.len(), 4);
    }
}
