//! The signed log of a session (spec §10.2): the chain of the whole session, and its events in chain order with
//! the envelopes as sent, their signatures, hashes and verdicts, for a verifier to walk.
//!
//! Without `limit` the response holds up to 10,000 events, which the Promptster CLI reads in one go; it is
//! streamed, a few hundred events per database read, so memory stays flat however long the log.

use std::collections::VecDeque;

use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::stream;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::signing::{ChainStatus, ChainSummary, EventSignature};
use traceline_domain::{EventId, EventKind, PageRule, Scope};
use traceline_storage::signed_log::{self, LogHead, LoggedEvent};
use traceline_storage::timeline::PageError;

use crate::dto::ApiTime;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::timeline::read_visible_session;
use crate::routes::{cursor_page, Access, Endpoint};
use crate::state::AppState;

/// Events fetched and written per database read while streaming.
const CHUNK: usize = 200;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    let rule = PageRule::SIGNED_LOG;
    vec![Endpoint::new(
        Method::GET,
        "/v1/sessions/{id}/signed-log",
        "getSignedLog",
        "A session's signed events in chain order, with the chain of the whole session",
        Access::Shared(Scope::Read),
        |route| route.to(get_signed_log),
    )
    .query(
        "limit",
        &format!(
            "Page size, clamped to {}–{}. Without it, the first {} events in one response.",
            rule.min_limit, rule.max_limit, rule.default_limit
        ),
        json!({"type": "integer"}),
    )
    .after_cursor("event")
    .reply::<SignedLogBody>(200, "The chain and the events.")]
}

/// `{sessionId, signingPubkey, chain, events, hasMore}`: the response's shape, which the handler streams.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SignedLogBody {
    session_id: String,
    /// Base64 of the session's Ed25519 public key; `null` when it has none.
    signing_pubkey: Option<String>,
    chain: ChainSummary,
    /// In chain order, then the events off the chain by `ts`; without a key, in timeline order.
    events: Vec<SignedLogEvent>,
    has_more: bool,
}

/// One event of the signed log.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct SignedLogEvent {
    id: String,
    ts: ApiTime,
    kind: EventKind,
    /// The envelope as the client sent it.
    payload: Value,
    /// `sig` as sent, if it was a string.
    sig: Option<String>,
    /// `prevSig` as sent, if it was a string.
    prev_sig: Option<String>,
    /// Hex SHA-256 of the event's signed message.
    event_hash: Option<String>,
    /// Whether `sig` verifies against the session's key; `null` when the session has no key.
    sig_verified: Option<bool>,
}

impl SignedLogEvent {
    fn of(event: LoggedEvent) -> Self {
        let payload: Value = serde_json::from_str(&event.envelope).unwrap_or(Value::Null);
        let text = |key: &str| payload.get(key).and_then(Value::as_str).map(str::to_owned);
        SignedLogEvent {
            sig: text("sig"),
            prev_sig: text("prevSig"),
            event_hash: EventSignature::of(&payload).event_hash(),
            id: event.id,
            ts: ApiTime(event.ts),
            kind: event.kind,
            payload,
            sig_verified: event.sig_verified,
        }
    }
}

async fn get_signed_log(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(request.query_string())?;
    let limit = PageRule::SIGNED_LOG
        .clamp_param("limit", params.get("limit").map(String::as_str))
        .map_err(ApiError::InvalidQuery)?;
    // Ids are stored canonical; a cursor that is no UUID names no event.
    let after =
        params.get("after").map(|after| EventId::parse(after).map(|id| id.as_str().to_owned()));
    let read = read_visible_session(&principal, &state, &path, move |connection, session| {
        let head = signed_log::head(connection, session.id.as_str())?;
        let keyed = head.chain.status != ChainStatus::Unsigned;
        let order = match &after {
            Some(Err(_)) => Err(PageError::UnknownCursor),
            Some(Ok(after)) => {
                signed_log::order(connection, session.id.as_str(), keyed, Some(after), limit)
            }
            None => signed_log::order(connection, session.id.as_str(), keyed, None, limit),
        };
        Ok((session.id.as_str().to_owned(), head, order))
    })
    .await?;
    let (session_id, head, order) = read;
    let (seqs, has_more) = cursor_page(order, "event of this session")?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .streaming(body(state, session_id, head, seqs, has_more)))
}

/// The response as a stream: the head, the events a chunk at a time, the tail.
fn body(
    state: web::Data<AppState>,
    session_id: String,
    head: LogHead,
    seqs: Vec<i64>,
    has_more: bool,
) -> impl futures_util::Stream<Item = Result<Bytes, ApiError>> {
    let opening = json!({
        "sessionId": session_id,
        "signingPubkey": head.signing_pubkey,
        "chain": head.chain,
    })
    .to_string();
    // `{"sessionId":…,"chain":{…}}` minus its closing brace, then the events array.
    let opening = format!("{},\"events\":[", opening.trim_end_matches('}'));
    let closing = format!("],\"hasMore\":{has_more}}}");
    let chunks: VecDeque<Vec<i64>> = seqs.chunks(CHUNK).map(<[i64]>::to_vec).collect();
    let start =
        Streaming { state, opening: Some(opening), chunks, first: true, closing: Some(closing) };
    stream::unfold(start, |mut streaming| async move {
        if let Some(opening) = streaming.opening.take() {
            return Some((Ok(Bytes::from(opening)), streaming));
        }
        if let Some(chunk) = streaming.chunks.pop_front() {
            let read =
                streaming.state.read(move |connection| signed_log::events(connection, &chunk));
            return Some(match read.await.and_then(|events| streaming.write_events(events)) {
                Ok(bytes) => (Ok(bytes), streaming),
                Err(error) => {
                    // The status line is sent: all that is left is to cut the body short, which the client
                    // sees as JSON that does not parse, not as a complete answer.
                    log::error!("the signed log stopped mid-stream: {error}");
                    streaming.chunks.clear();
                    streaming.closing = None;
                    (Err(error), streaming)
                }
            });
        }
        streaming.closing.take().map(|closing| (Ok(Bytes::from(closing)), streaming))
    })
}

/// Where a streamed signed log is.
struct Streaming {
    state: web::Data<AppState>,
    opening: Option<String>,
    chunks: VecDeque<Vec<i64>>,
    first: bool,
    closing: Option<String>,
}

impl Streaming {
    fn write_events(&mut self, events: Vec<LoggedEvent>) -> Result<Bytes, ApiError> {
        let mut out = Vec::new();
        for event in events {
            if !std::mem::take(&mut self.first) {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &SignedLogEvent::of(event))
                .map_err(|error| ApiError::Internal(error.into()))?;
        }
        Ok(Bytes::from(out))
    }
}
