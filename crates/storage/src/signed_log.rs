//! Reading a session's signed log (spec §10.2): the chain's summary, the order of its events (chain order, then
//! the events off the chain by time), and the events themselves with the envelopes as they were sent.
//!
//! The summary comes from the session's counters; only a broken chain costs more, two indexed reads to find where
//! it breaks. The order is read as bare sequence numbers and the events fetched by them in chunks, so a caller
//! can stream a long log in flat memory.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use traceline_domain::signing::{BreakReason, ChainStatus, ChainSummary};
use traceline_domain::EventKind;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_event_id, from_stored_micros, to_stored_event_id};
use crate::schema::{event_chain, timeline_events};
use crate::session_state;
use crate::timeline::{events_after, in_index_order, PageError};

/// What the signed log says about the session as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHead {
    /// The session's signing key (base64), if it has one.
    pub signing_pubkey: Option<String>,
    /// The chain of the whole session.
    pub chain: ChainSummary,
}

/// The head of session `session_id`'s signed log (the caller has checked the session is visible).
pub fn head(connection: &mut AnyConnection, session_id: &str) -> Result<LogHead, StorageError> {
    let state = session_state::get(connection, session_id)?;
    let counts = state.chain.counts();
    let event_count = state.aggregates.event_count();
    let status = ChainStatus::of(state.signing_pubkey.is_some(), event_count, &counts);
    let mut summary = ChainSummary {
        status,
        signed_count: counts.signed,
        verified_count: if status == ChainStatus::Unsigned { 0 } else { counts.verified },
        event_count,
        broken_at: None,
        reason: None,
    };
    if status == ChainStatus::Broken {
        if let Some((event_id, reason)) = break_point(connection, session_id)? {
            summary.broken_at = Some(event_id);
            summary.reason = Some(reason.describe());
        }
    }
    Ok(LogHead { signing_pubkey: state.signing_pubkey, chain: summary })
}

/// The first event, in the log's order, that is either not verified or off the chain, and why.
fn break_point(
    connection: &mut AnyConnection,
    session_id: &str,
) -> Result<Option<(String, BreakReason)>, StorageError> {
    let on_chain_unverified = event_chain::table
        .filter(event_chain::session_id.eq(session_id))
        .filter(event_chain::chain_pos.is_not_null())
        .filter(event_chain::verified.eq(false))
        .order(event_chain::chain_pos.asc())
        .select(event_chain::event_seq)
        .first::<i64>(connection)
        .optional()?;
    if let Some(seq) = on_chain_unverified {
        let (id, sig): (Vec<u8>, Option<String>) = event_chain::table
            .inner_join(timeline_events::table)
            .filter(event_chain::event_seq.eq(seq))
            .select((timeline_events::id, event_chain::sig))
            .first(connection)?;
        let reason = if sig.is_some() { BreakReason::BadSignature } else { BreakReason::Unsigned };
        return Ok(Some((from_stored_event_id(&id)?, reason)));
    }
    let first_off_chain = event_chain::table
        .inner_join(timeline_events::table)
        .filter(event_chain::session_id.eq(session_id))
        .filter(event_chain::chain_pos.is_null())
        .order((event_chain::ts.asc(), event_chain::event_seq.asc()))
        .select((
            timeline_events::id,
            event_chain::sig,
            event_chain::verified,
            event_chain::prev_sig,
        ))
        .first::<(Vec<u8>, Option<String>, bool, Option<String>)>(connection)
        .optional()?;
    let Some((id, sig, verified, prev_sig)) = first_off_chain else {
        return Ok(None);
    };
    let previous_exists = match prev_sig.as_deref() {
        Some(prev_sig) if verified && !prev_sig.is_empty() => diesel::select(diesel::dsl::exists(
            event_chain::table
                .filter(event_chain::session_id.eq(session_id))
                .filter(event_chain::sig.eq(prev_sig)),
        ))
        .get_result(connection)?,
        _ => false,
    };
    let reason = BreakReason::of(sig.as_deref(), verified, prev_sig.as_deref(), previous_exists);
    Ok(Some((from_stored_event_id(&id)?, reason)))
}

/// The sequence numbers of up to `limit` events of the session after the event `after` (from the start when
/// `None`), in the log's order, and whether more follow. With a signing key the order is the chain's, then the
/// events off it by time; without one, the timeline's.
pub fn order(
    connection: &mut AnyConnection,
    session_id: &str,
    keyed: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<i64>, bool), PageError> {
    let mut seqs = if keyed {
        chain_order(connection, session_id, after, limit + 1)?
    } else {
        timeline_order(connection, session_id, after, limit + 1)?
    };
    let has_more = i64::try_from(seqs.len()).unwrap_or(i64::MAX) > limit;
    seqs.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok((seqs, has_more))
}

fn chain_order(
    connection: &mut AnyConnection,
    session_id: &str,
    after: Option<&str>,
    wanted: i64,
) -> Result<Vec<i64>, PageError> {
    let cursor = match after {
        None => None,
        Some(after) => {
            let after = to_stored_event_id(after).ok_or(PageError::UnknownCursor)?;
            Some(
                event_chain::table
                    .inner_join(timeline_events::table)
                    .filter(timeline_events::session_id.eq(session_id))
                    .filter(timeline_events::id.eq(after.as_slice()))
                    .select((event_chain::chain_pos, event_chain::ts, event_chain::event_seq))
                    .first::<(Option<i64>, i64, i64)>(connection)
                    .optional()?
                    .ok_or(PageError::UnknownCursor)?,
            )
        }
    };
    let in_session = || event_chain::table.filter(event_chain::session_id.eq(session_id));
    let mut seqs = Vec::new();
    // The chain first, unless the cursor is already past it.
    if let None | Some((Some(_), _, _)) = cursor {
        let after_position = cursor.and_then(|(position, _, _)| position).unwrap_or(0);
        seqs = in_session()
            .filter(event_chain::chain_pos.gt(after_position))
            .order(event_chain::chain_pos.asc())
            .limit(wanted)
            .select(event_chain::event_seq)
            .load(connection)?;
    }
    let rest = wanted - i64::try_from(seqs.len()).unwrap_or(i64::MAX);
    if rest > 0 {
        let mut off_chain = in_session().filter(event_chain::chain_pos.is_null()).into_boxed();
        if let Some((None, ts, seq)) = cursor {
            off_chain = off_chain
                .filter(event_chain::ts.ge(ts))
                .filter(event_chain::ts.gt(ts).or(event_chain::event_seq.gt(seq)));
        }
        let more: Vec<i64> = off_chain
            .order((event_chain::ts.asc(), event_chain::event_seq.asc()))
            .limit(rest)
            .select(event_chain::event_seq)
            .load(connection)?;
        seqs.extend(more);
    }
    Ok(seqs)
}

fn timeline_order(
    connection: &mut AnyConnection,
    session_id: &str,
    after: Option<&str>,
    wanted: i64,
) -> Result<Vec<i64>, PageError> {
    in_index_order(connection, |connection| {
        Ok(events_after(connection, session_id, after)?
            .limit(wanted)
            .select(timeline_events::seq)
            .load(connection)?)
    })
}

/// One event of the signed log, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// The event's id.
    pub id: String,
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// Its kind (aliases resolved).
    pub kind: EventKind,
    /// The envelope as the client sent it (JSON text).
    pub envelope: String,
    /// Whether its `sig` verified against the session's key; `None` when the session has no key.
    pub sig_verified: Option<bool>,
}

/// A signed-log event's columns as stored.
#[derive(Queryable)]
struct LoggedRow {
    seq: i64,
    id: Vec<u8>,
    ts: i64,
    kind: String,
    envelope: String,
    sig_verified: Option<bool>,
}

/// The events with sequence numbers `seqs`, in that order (any that no longer exist are left out).
pub fn events(
    connection: &mut AnyConnection,
    seqs: &[i64],
) -> Result<Vec<LoggedEvent>, StorageError> {
    let rows: Vec<LoggedRow> = timeline_events::table
        .left_join(event_chain::table)
        .filter(timeline_events::seq.eq_any(seqs))
        .select((
            timeline_events::seq,
            timeline_events::id,
            timeline_events::ts,
            timeline_events::kind,
            timeline_events::envelope,
            event_chain::verified.nullable(),
        ))
        .load(connection)?;
    let mut by_seq = rows
        .into_iter()
        .map(|row| {
            let event = LoggedEvent {
                id: from_stored_event_id(&row.id)?,
                ts: from_stored_micros("timeline_events.ts", row.ts)?,
                kind: EventKind::from_stored(row.kind),
                envelope: row.envelope,
                sig_verified: row.sig_verified,
            };
            Ok((row.seq, event))
        })
        .collect::<Result<std::collections::HashMap<i64, LoggedEvent>, StorageError>>()?;
    Ok(seqs.iter().filter_map(|seq| by_seq.remove(seq)).collect())
}
