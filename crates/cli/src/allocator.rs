//! How the server's memory allocator is set up.

/// The arenas glibc's malloc may keep, unless the operator sets `MALLOC_ARENA_MAX`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MALLOC_ARENAS: libc::c_int = 2;

/// Caps glibc's malloc arenas at [`MALLOC_ARENAS`], unless the operator set `MALLOC_ARENA_MAX` (which glibc
/// then has applied itself). Call before the server starts its threads.
///
/// glibc gives threads that allocate at the same time arenas of their own, up to eight per core, and memory
/// freed into an arena stays with it. The server's threads (HTTP workers, the blocking pool where database work
/// runs, the writers) each build whole pages of JSON and result sets in turn, so resident memory grew towards the
/// sum of every arena's high-water mark: 153 MB at the peak of the cohort benchmark on PostgreSQL with glibc's
/// default, 47 MB with two arenas, at the same latency within the run's noise (`docs/PERFORMANCE.md`).
pub(crate) fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` changes one of malloc's tunables and touches no memory of ours; it is called while the
        // process has one thread.
        let changed = unsafe { libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS) };
        if changed == 0 {
            log::warn!("could not cap malloc's arenas; memory use may be higher than documented");
        }
    }
}
