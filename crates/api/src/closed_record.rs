//! A finished candidate's record is read-only (spec §10.1): once their key is completed or hired, their
//! credentials may still read, but every write made with them is refused with 403 `session_closed`, whole
//! (a batch included), and nothing of it is stored.
//!
//! The rule is checked inside the write's own transaction, against the key's stored status, not against the
//! credential cache: a key completed a moment ago by another request, or on another instance, already refuses.
//! Ingest applies the same rule in storage (`traceline_storage::ingest_together`), because SQLite's writer stores
//! the ingest requests queued together and must refuse a closed record's request alone.

use traceline_storage::{candidate_keys, AnyConnection, StorageError};

use crate::error::ApiError;
use crate::state::AppState;

/// Runs `work` in one write transaction, made with the candidate key `candidate_key_id` (`None` for a reviewer):
/// first refuses with [`ApiError::SessionClosed`] when the key's status closes the record.
pub(crate) async fn write<T, F>(
    state: &AppState,
    candidate_key_id: Option<String>,
    work: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnMut(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
{
    let mut work = work;
    let done = state
        .write(move |connection| {
            if let Some(key_id) = &candidate_key_id {
                if candidate_keys::lock_status(connection, key_id)?.is_finished() {
                    return Ok(None);
                }
            }
            work(connection).map(Some)
        })
        .await?;
    done.ok_or(ApiError::SessionClosed)
}
