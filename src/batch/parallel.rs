//! A small work pool for the batch: the machine has few cores, and reading sealed files,
//! decrypting and encrypting bundles are independent per unit. Results come back in the order
//! of the input, so output stays deterministic however the work was spread.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many worker threads the batch uses: the available cores, at least one.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Applies `f` to every item on up to [`threads`] threads and returns the results in item
/// order. Items are handed out one at a time, so a few large items do not leave a core idle.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_on(threads(), items, f)
}

/// Like [`map`] on up to `workers` threads: for work that mostly waits (fsync), where more
/// requests in flight than cores is what makes it fast.
pub fn map_on<T: Sync, R: Send>(workers: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = workers.min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                }
            });
        }
    });
    // Every index below items.len() was taken by exactly one worker, and scope() re-raises a
    // worker's panic, so every slot is filled here.
    slots.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|r| r.expect("filled")).collect()
}

/// Runs `body` while `workers` threads apply `f` to every item sent on the channel `body`
/// gets (from any thread): for waiting work (fsync) that can start while `body` still makes
/// more. Returns what `body` returns and the first error of `f` (all items are tried).
pub fn alongside<T: Send, R, E: Send>(
    workers: usize,
    f: impl Fn(T) -> Result<(), E> + Sync,
    body: impl FnOnce(&std::sync::mpsc::Sender<T>) -> R,
) -> (R, Result<(), E>) {
    let (tx, rx) = std::sync::mpsc::channel::<T>();
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut first = Ok(());
                    loop {
                        // The lock is held only while waiting for the next item.
                        let item = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(item) = item else { break };
                        if let Err(e) = f(item) {
                            first = first.and(Err(e));
                        }
                    }
                    first
                })
            })
            .collect();
        let out = body(&tx);
        drop(tx);
        let mut result = Ok(());
        for h in handles {
            let r = h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            result = result.and(r);
        }
        (out, result)
    })
}

/// Like [`map`], but each item is handed over by value.
pub fn map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let cells: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    map(&cells, |cell| {
        let item = cell.lock().unwrap_or_else(|e| e.into_inner()).take().expect("each item once");
        f(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_item_order() {
        let items: Vec<u64> = (0..1000).collect();
        let out = map(&items, |&i| i * i);
        assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
        assert!(map(&[] as &[u8], |_| 0).is_empty());
        let owned: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(
            map_owned(owned.clone(), |s| s + "!"),
            owned.iter().map(|s| format!("{s}!")).collect::<Vec<_>>()
        );
    }

    #[test]
    fn alongside_handles_every_item_sent_and_reports_an_error() {
        let seen = Mutex::new(Vec::new());
        let (n, result) = alongside(
            3,
            |i: u32| {
                seen.lock().unwrap().push(i);
                if i == 7 { Err(i) } else { Ok(()) }
            },
            |tx| {
                // Sent from several threads, as the staging workers do.
                map(&[0u32, 10, 20], |&base| (base..base + 10).for_each(|i| tx.send(i).unwrap()));
                30
            },
        );
        assert_eq!(n, 30);
        assert_eq!(result, Err(7));
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, (0..30).collect::<Vec<_>>());
        let ((), ok) = alongside(2, |_: u8| Ok::<(), ()>(()), |tx| tx.send(1).unwrap());
        assert_eq!(ok, Ok(()));
    }
}
