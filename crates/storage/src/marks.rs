//! The marks of events stored before events carried them: which sets each belongs to
//! (`traceline_domain::metrics::EventSet`), computed from the stored columns by the same classification ingest
//! uses, so an old event is marked exactly as it would be if it arrived today.
//!
//! Run after the migrations (`migrations::run_pending`), before the server answers: the migration that added
//! the column leaves it NULL, and a partial index over the NULL rows makes the check free once they are done.
//! Each chunk is its own transaction, so an interrupted backfill resumes where it stopped.

use std::collections::BTreeMap;

use diesel::prelude::*;
use traceline_domain::metrics::EventFacts;
use traceline_domain::EventKind;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{event_data, object_from_text};
use crate::schema::timeline_events;

/// Events marked per transaction.
const CHUNK: i64 = 2_000;

/// Marks every stored event that has no marks yet; returns how many it marked.
pub(crate) fn backfill(connection: &mut AnyConnection) -> Result<u64, StorageError> {
    let mut marked = 0;
    loop {
        let done = connection.transaction(mark_chunk)?;
        if done == 0 {
            return Ok(marked);
        }
        marked += done;
    }
}

/// Marks up to [`CHUNK`] unmarked events; returns how many.
fn mark_chunk(connection: &mut AnyConnection) -> Result<u64, StorageError> {
    let rows: Vec<(i64, String, String, String, Option<String>, String)> = timeline_events::table
        .filter(timeline_events::marks.is_null())
        .order(timeline_events::seq.asc())
        .limit(CHUNK)
        .select((
            timeline_events::seq,
            timeline_events::kind,
            timeline_events::actor,
            timeline_events::provenance,
            timeline_events::data,
            timeline_events::envelope,
        ))
        .load(connection)?;
    // One UPDATE per distinct value: a chunk holds a handful of them.
    let mut by_marks: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (seq, kind, actor, provenance, data, envelope) in &rows {
        let kind = EventKind::from_stored(kind.clone());
        let actor = object_from_text("timeline_events.actor", actor)?;
        let provenance = object_from_text("timeline_events.provenance", provenance)?;
        let data = event_data(data.as_deref(), envelope)?;
        let marks = EventFacts::from_parts(&kind, &data, &actor, &provenance).marks();
        by_marks.entry(marks.bits()).or_default().push(*seq);
    }
    for (marks, seqs) in by_marks {
        diesel::update(timeline_events::table.filter(timeline_events::seq.eq_any(&seqs)))
            .set(timeline_events::marks.eq(Some(marks)))
            .execute(connection)?;
    }
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use traceline_domain::metrics::EventSet;

    use crate::timeline::in_set;

    /// Every set's filter is served by a partial index whose predicate is spelled as the query spells it, on
    /// both backends (a planner uses a partial index only for a predicate it can match).
    #[test]
    fn every_event_set_has_its_partial_index_on_both_backends() {
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
        for backend in ["sqlite", "postgres"] {
            let mut sql = String::new();
            for entry in fs::read_dir(migrations.join(backend)).unwrap() {
                let up = entry.unwrap().path().join("up.sql");
                sql.push_str(&fs::read_to_string(up).unwrap());
            }
            for set in EventSet::ALL {
                let index =
                    format!("ON timeline_events (session_id, ts, seq) WHERE {};", in_set(set));
                assert!(sql.contains(&index), "{backend}: no partial index for {set:?} ({index})");
            }
        }
    }
}
