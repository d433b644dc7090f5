//! Keeping a signed session's chain current on ingest (spec §10.2), in the ingest transaction: one `event_chain`
//! row per event, and the session's chain counters, so its status is read from three numbers.
//!
//! The chain grows only at its tip ([`ChainTip`]): an event joins when its `prevSig` names the tip's `sig`, and
//! then the events that were waiting for it join behind it, in the order they were stored. In the usual case
//! (events in order) a request costs one multi-row insert and no read; events that arrive before their
//! predecessor cost one indexed read each, once, when the predecessor arrives.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use traceline_domain::signing::{ChainCounts, ChainTip};

use crate::backend::per_backend;
use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::to_stored_micros;
use crate::schema::{event_chain, sessions};

/// A session's chain columns, read with its ingest state and written back with its aggregates.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, AsChangeset)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct ChainColumns {
    signed_event_count: i64,
    verified_event_count: i64,
    chained_event_count: i64,
    chain_tip_sig: Option<String>,
}

impl ChainColumns {
    /// The counters the status is decided from.
    pub(crate) fn counts(&self) -> ChainCounts {
        ChainCounts {
            signed: self.signed_event_count,
            verified: self.verified_event_count,
            chained: self.chained_event_count,
        }
    }

    fn tip(&self) -> Option<ChainTip> {
        let sig = self.chain_tip_sig.clone().filter(|_| self.chained_event_count > 0)?;
        Some(ChainTip { position: self.chained_event_count, sig })
    }

    /// The columns after `signed` signed events were appended to a session without a signing key: only the
    /// signed count moves.
    pub(crate) fn with_unkeyed(&self, signed: usize) -> ChainColumns {
        ChainColumns { signed_event_count: self.signed_event_count + count(signed), ..self.clone() }
    }
}

/// An event just stored in a session with a signing key, as the chain sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChainEvent<'a> {
    /// Its sequence number (storage order).
    pub(crate) seq: i64,
    /// When it happened.
    pub(crate) ts: DateTime<Utc>,
    /// Its `sig`, lower-cased, if it has one.
    pub(crate) sig: Option<&'a str>,
    /// Its `prevSig`, lower-cased (`""` when absent), unless it was not a string.
    pub(crate) prev_sig: Option<&'a str>,
    /// Whether its `sig` verifies against the session's key.
    pub(crate) verified: bool,
}

#[derive(Insertable)]
#[diesel(table_name = event_chain)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ChainRow<'a> {
    event_seq: i64,
    session_id: &'a str,
    ts: i64,
    sig: Option<&'a str>,
    prev_sig: Option<&'a str>,
    verified: bool,
    chain_pos: Option<i64>,
}

/// Records the chain rows of `appended` (events just stored in a session with a signing key, in storage order),
/// joins every event that can join the chain, and returns the session's chain columns afterwards.
pub(crate) fn append(
    connection: &mut AnyConnection,
    session_id: &str,
    before: &ChainColumns,
    appended: &[ChainEvent<'_>],
) -> Result<ChainColumns, StorageError> {
    let mut rows: Vec<ChainRow<'_>> = appended
        .iter()
        .map(|event| ChainRow {
            event_seq: event.seq,
            session_id,
            ts: to_stored_micros(event.ts),
            sig: event.sig,
            prev_sig: event.prev_sig,
            verified: event.verified,
            chain_pos: None,
        })
        .collect();
    // The new events that can join, by the sig they name as previous, in storage order.
    let mut waiting_new: HashMap<&str, VecDeque<usize>> = HashMap::new();
    for (index, row) in rows.iter().enumerate() {
        if let (Some(_), Some(prev_sig)) = (row.sig, row.prev_sig) {
            waiting_new.entry(prev_sig).or_default().push_back(index);
        }
    }
    let mut tip = before.tip();
    let mut waiting_stored = before.signed_event_count - before.chained_event_count;
    let mut joined_stored: Vec<(i64, i64)> = Vec::new();
    let mut joined = 0;
    loop {
        let wanted = tip.as_ref().map_or("", |tip| tip.sig.as_str()).to_owned();
        // A stored event that waited for the tip was stored first, so it comes first. None waits for the tip
        // the request started with: it would have joined when that tip arrived.
        let stored_next = if waiting_stored > 0 && joined > 0 {
            first_waiting(connection, session_id, &wanted)?
        } else {
            None
        };
        let next = match stored_next {
            Some((seq, sig)) => {
                waiting_stored -= 1;
                let next = ChainTip::after(tip.as_ref(), &sig);
                joined_stored.push((seq, next.position));
                next
            }
            None => {
                let Some(index) =
                    waiting_new.get_mut(wanted.as_str()).and_then(VecDeque::pop_front)
                else {
                    break;
                };
                let row = &mut rows[index];
                let next = ChainTip::after(tip.as_ref(), row.sig.unwrap_or_default());
                row.chain_pos = Some(next.position);
                next
            }
        };
        tip = Some(next);
        joined += 1;
    }
    per_backend!(connection, |inner| diesel::insert_into(event_chain::table)
        .values(&rows)
        .execute(inner)?);
    for (seq, position) in &joined_stored {
        diesel::update(event_chain::table.find(seq))
            .set(event_chain::chain_pos.eq(position))
            .execute(connection)?;
    }
    let signed = rows.iter().filter(|row| row.sig.is_some()).count();
    let verified = rows.iter().filter(|row| row.verified).count();
    Ok(ChainColumns {
        signed_event_count: before.signed_event_count + count(signed),
        verified_event_count: before.verified_event_count + count(verified),
        chained_event_count: before.chained_event_count + joined,
        chain_tip_sig: tip.map(|tip| tip.sig),
    })
}

/// The first stored event, by storage order, off the chain and naming `prev_sig` as its previous.
fn first_waiting(
    connection: &mut AnyConnection,
    session_id: &str,
    prev_sig: &str,
) -> Result<Option<(i64, String)>, StorageError> {
    Ok(event_chain::table
        .filter(event_chain::session_id.eq(session_id))
        .filter(event_chain::prev_sig.eq(prev_sig))
        .filter(event_chain::chain_pos.is_null())
        .filter(event_chain::sig.is_not_null())
        .order(event_chain::event_seq.asc())
        .select((event_chain::event_seq, event_chain::sig.assume_not_null()))
        .first(connection)
        .optional()?)
}

fn count(events: usize) -> i64 {
    i64::try_from(events).unwrap_or(i64::MAX)
}
