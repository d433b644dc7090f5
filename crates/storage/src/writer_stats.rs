//! What the SQLite writer thread reports about itself for `GET /metrics`: how many writes wait in its queue, and
//! how many it commits together. Plain atomics, updated by `group_commit` at the two points a write enters and
//! leaves the queue, so counting costs no lock on the write path.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the batch-size histogram's buckets, in requests per commit (the last is the writer's own
/// most per batch).
pub const BATCH_SIZE_BOUNDS: [u64; 10] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/// Counters shared by the writer thread and its submitters.
#[derive(Debug, Default)]
pub(crate) struct WriterStats {
    entered: AtomicU64,
    left: AtomicU64,
    batches: AtomicU64,
    requests: AtomicU64,
    buckets: [AtomicU64; BATCH_SIZE_BOUNDS.len()],
}

impl WriterStats {
    /// A write was put in the queue.
    pub(crate) fn entered(&self) {
        self.entered.fetch_add(1, Ordering::Relaxed);
    }

    /// The writer took `size` writes off the queue as one batch.
    pub(crate) fn took_batch(&self, size: usize) {
        let size = u64::try_from(size).unwrap_or(u64::MAX);
        self.left.fetch_add(size, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(size, Ordering::Relaxed);
        if let Some(bucket) = BATCH_SIZE_BOUNDS.iter().position(|bound| size <= *bound) {
            self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counters as of now.
    pub(crate) fn snapshot(&self) -> WriterSnapshot {
        let left = self.left.load(Ordering::Relaxed);
        let entered = self.entered.load(Ordering::Relaxed);
        WriterSnapshot {
            // Read apart, the two may cross by a write in flight; never report a negative queue.
            queue_depth: entered.saturating_sub(left),
            batches: self.batches.load(Ordering::Relaxed),
            batched_requests: self.requests.load(Ordering::Relaxed),
            batch_size_buckets: std::array::from_fn(|index| {
                self.buckets[index].load(Ordering::Relaxed)
            }),
        }
    }
}

/// The writer's counters at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterSnapshot {
    /// Writes queued and not yet taken into a batch.
    pub queue_depth: u64,
    /// Batches (transactions) run since start.
    pub batches: u64,
    /// Writes run in those batches.
    pub batched_requests: u64,
    /// Batches per size bucket ([`BATCH_SIZE_BOUNDS`]), not cumulative.
    pub batch_size_buckets: [u64; BATCH_SIZE_BOUNDS.len()],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_land_in_the_bucket_of_their_size_and_leave_the_queue() {
        let stats = WriterStats::default();
        for _ in 0..7 {
            stats.entered();
        }
        stats.took_batch(1);
        stats.took_batch(3);
        assert_eq!(stats.snapshot().queue_depth, 3);
        stats.took_batch(3);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.queue_depth, 0);
        assert_eq!(snapshot.batches, 3);
        assert_eq!(snapshot.batched_requests, 7);
        assert_eq!(snapshot.batch_size_buckets[..3], [1, 0, 2]);
    }
}
