//! First come, first served in front of PostgreSQL's writer pool.
//!
//! r2d2 hands a freed connection to whichever waiting thread its condition variable wakes, so under a burst a
//! request can lose the race again and again until its timeout passes, while later arrivals are served: it
//! starves. The gate queues writers in arrival order and lets through at most as many as the pool holds, so a
//! writer that passes finds a connection at once, and a write waits only for the writes that came before it.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::StorageError;

/// The queue of writers and the count of writers it still lets through.
#[derive(Debug)]
pub(crate) struct WriteGate {
    state: Mutex<GateState>,
    turn: Condvar,
}

#[derive(Debug)]
struct GateState {
    free: usize,
    waiting: VecDeque<u64>,
    next_ticket: u64,
}

/// A writer's turn; the next writer in line may pass once it is dropped.
#[derive(Debug)]
pub(crate) struct Turn<'a> {
    gate: &'a WriteGate,
}

impl WriteGate {
    /// A gate letting `capacity` writers through at once.
    pub(crate) fn new(capacity: usize) -> Self {
        let state = GateState { free: capacity.max(1), waiting: VecDeque::new(), next_ticket: 0 };
        Self { state: Mutex::new(state), turn: Condvar::new() }
    }

    /// Waits, behind every writer that arrived earlier, for a turn; `None` when none came within `wait`.
    pub(crate) fn enter(&self, wait: Duration) -> Option<Turn<'_>> {
        let deadline = Instant::now() + wait;
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.waiting.push_back(ticket);
        loop {
            if state.free > 0 && state.waiting.front() == Some(&ticket) {
                state.waiting.pop_front();
                state.free -= 1;
                // The writer behind may find a turn free as well.
                self.turn.notify_all();
                return Some(Turn { gate: self });
            }
            let now = Instant::now();
            if now >= deadline {
                state.waiting.retain(|waiting| *waiting != ticket);
                // This writer may have been first in line: the next one must not wait for it.
                self.turn.notify_all();
                return None;
            }
            state = self
                .turn
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Like [`WriteGate::enter`], with the request's answer when no turn came: the database is unavailable.
    pub(crate) fn turn(&self, wait: Duration) -> Result<Turn<'_>, StorageError> {
        self.enter(wait).ok_or_else(|| {
            StorageError::Unavailable(Box::new(std::io::Error::other(format!(
                "no writer connection became free within {} ms",
                wait.as_millis()
            ))))
        })
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // The state stays consistent whatever panicked while holding the lock: every change is one statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.gate.lock().free += 1;
        self.gate.turn.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;

    use super::*;

    #[test]
    fn writers_pass_in_arrival_order_and_no_more_than_the_capacity_at_once() {
        let gate = WriteGate::new(1);
        let first = gate.enter(Duration::ZERO).unwrap();
        assert!(gate.enter(Duration::from_millis(20)).is_none(), "the only turn is taken");
        let (passed, order) = mpsc::channel();
        thread::scope(|scope| {
            for writer in 0..4 {
                let (gate, passed) = (&gate, passed.clone());
                scope.spawn(move || {
                    let _turn = gate.enter(Duration::from_secs(10)).unwrap();
                    passed.send(writer).unwrap();
                });
                // Each writer queues before the next one starts.
                while gate.lock().waiting.len() < writer + 1 {
                    thread::yield_now();
                }
            }
            drop(first);
        });
        drop(passed);
        assert_eq!(order.iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    #[test]
    fn a_writer_that_gives_up_leaves_the_line() {
        let gate = WriteGate::new(1);
        let held = gate.enter(Duration::ZERO).unwrap();
        assert!(gate.enter(Duration::from_millis(10)).is_none());
        assert!(gate.lock().waiting.is_empty());
        drop(held);
        assert!(gate.enter(Duration::ZERO).is_some(), "a freed turn is taken at once");
    }
}
