//! The handoff between a request waiting for its write and the writer thread that runs it: a future on one side,
//! a one-shot completer on the other. Shared by SQLite's group commit and PostgreSQL's ingest committers, which
//! both answer a request only once the transaction holding its write has committed.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::error::StorageError;

/// A new pending write and the completer that answers it.
pub(crate) fn pair<T>() -> (PendingWrite<T>, Completer<T>) {
    let slot = Arc::new(Mutex::new(Slot { result: None, waker: None, closed: false }));
    (PendingWrite { slot: Arc::clone(&slot) }, Completer { slot, completed: false })
}

struct Slot<T> {
    result: Option<Result<T, StorageError>>,
    waker: Option<Waker>,
    closed: bool,
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    // A panic while the lock was held cannot leave the slot half-written: every update is a single assignment.
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer's end of a [`PendingWrite`]. Dropped without completing (its job was never run), it wakes the
/// waiter with an error rather than leaving it waiting forever.
pub(crate) struct Completer<T> {
    slot: Arc<Mutex<Slot<T>>>,
    completed: bool,
}

impl<T> Completer<T> {
    pub(crate) fn complete(mut self, result: Result<T, StorageError>) {
        self.completed = true;
        let waker = {
            let mut slot = lock(&self.slot);
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if self.completed {
            return;
        }
        let waker = {
            let mut slot = lock(&self.slot);
            slot.closed = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The committed result of a queued write.
pub struct PendingWrite<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> PendingWrite<T> {
    /// A write refused before it was queued: the future is ready with `error`.
    pub(crate) fn failed(error: StorageError) -> Self {
        let slot = Slot { result: Some(Err(error)), waker: None, closed: false };
        Self { slot: Arc::new(Mutex::new(slot)) }
    }
}

impl<T> Future for PendingWrite<T> {
    type Output = Result<T, StorageError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.slot);
        if let Some(result) = slot.result.take() {
            return Poll::Ready(result);
        }
        if slot.closed {
            return Poll::Ready(Err(writer_gone()));
        }
        slot.waker = Some(context.waker().clone());
        Poll::Pending
    }
}

/// The writer dropped a request without answering it: it stopped, or a panic took the request down.
pub(crate) fn writer_gone() -> StorageError {
    StorageError::Unavailable(Box::new(std::io::Error::other("the database writer is not running")))
}

#[cfg(test)]
mod tests {
    use std::task::Wake;

    use super::*;

    struct Counted(std::sync::atomic::AtomicUsize);

    impl Wake for Counted {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Counted>, Waker) {
        let wakes = Arc::new(Counted(0.into()));
        (Arc::clone(&wakes), Waker::from(wakes))
    }

    fn poll_once<T>(pending: &mut PendingWrite<T>, waker: &Waker) -> Poll<Result<T, StorageError>> {
        Pin::new(pending).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_completed_write_wakes_its_waiter_with_the_result() {
        let (wakes, waker) = counting_waker();
        let (mut pending, completer) = pair::<u32>();
        assert!(poll_once(&mut pending, &waker).is_pending());
        completer.complete(Ok(7));
        assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(matches!(poll_once(&mut pending, &waker), Poll::Ready(Ok(7))));
    }

    #[test]
    fn a_dropped_completer_answers_unavailable_instead_of_hanging() {
        let (wakes, waker) = counting_waker();
        let (mut pending, completer) = pair::<u32>();
        assert!(poll_once(&mut pending, &waker).is_pending());
        drop(completer);
        assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(matches!(
            poll_once(&mut pending, &waker),
            Poll::Ready(Err(StorageError::Unavailable(_)))
        ));
    }
}
