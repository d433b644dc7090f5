//! `GET /v1/sessions/{id}/export`: a session's whole timeline as newline-delimited JSON, one `TimelineEvent` per
//! line in timeline order, with the timeline's access rule.
//!
//! The body is streamed: the events are read a chunk at a time with the timeline's keyset cursor, each chunk
//! only when the connection has taken the previous one, so memory stays flat however long the session and however
//! slow the reader. Events that arrive during the export are in it when they sort after what has been written.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use futures_util::stream;
use traceline_domain::{Scope, TimelineEvent};
use traceline_storage::timeline::{self, PageError, PageQuery};

use crate::error::ApiError;
use crate::principal::Principal;
use crate::routes::timeline::{read_timeline_page, PageRequest};
use crate::routes::{Access, Endpoint, NDJSON};
use crate::state::AppState;

/// Events read per chunk at most.
const MAX_CHUNK: i64 = 1_000;
/// Bytes one chunk aims at: chunks shrink when events are large, so a session of long outputs streams in the
/// same memory as one of short commands.
const CHUNK_BYTES: usize = 4 << 20;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::GET,
        "/v1/sessions/{id}/export",
        "exportTimeline",
        "A session's whole timeline as newline-delimited JSON, streamed",
        Access::Shared(Scope::Read),
        |route| route.to(export),
    )
    .reply_lines::<TimelineEvent>(
        200,
        "Every event of the session in timeline order, one JSON object per line.",
    )]
}

async fn export(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let request = PageRequest { limit: MAX_CHUNK, ..PageRequest::default() };
    let (session, first) = read_timeline_page(&principal, &state, &path, request).await?;
    let session_id = session.id.as_str().to_owned();
    let disposition = format!("attachment; filename=\"session-{session_id}.ndjson\"");
    let start = Export {
        state,
        session_id,
        ready: Some(first.events),
        has_more: first.has_more,
        cursor: None,
        chunk: MAX_CHUNK,
    };
    let mut response = HttpResponse::Ok().content_type(NDJSON).streaming(stream::unfold(
        start,
        |mut export| async move {
            let events = match export.ready.take() {
                Some(events) => events,
                None if export.has_more => match export.next_chunk().await {
                    Ok(events) => events,
                    Err(error) => {
                        // The status line is sent: all that is left is to cut the body short, which the reader
                        // sees as a broken transfer, not as a complete export.
                        log::error!("an export stopped mid-stream: {error}");
                        export.has_more = false;
                        return Some((Err(error), export));
                    }
                },
                None => return None,
            };
            if events.is_empty() {
                return None;
            }
            Some((export.write(events), export))
        },
    ));
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Where a streamed export is.
struct Export {
    state: web::Data<AppState>,
    session_id: String,
    /// A chunk read and not yet written.
    ready: Option<Vec<TimelineEvent>>,
    /// Whether events follow the last chunk read.
    has_more: bool,
    /// The id of the last event written.
    cursor: Option<String>,
    /// Events to read next time.
    chunk: i64,
}

impl Export {
    /// The chunk after the last event written.
    async fn next_chunk(&mut self) -> Result<Vec<TimelineEvent>, ApiError> {
        let (session_id, cursor, limit) =
            (self.session_id.clone(), self.cursor.clone(), self.chunk);
        let page = self
            .state
            .read(move |connection| {
                let query = PageQuery::after(cursor.as_deref(), limit);
                match timeline::page(connection, &session_id, query) {
                    Ok(page) => Ok(page),
                    Err(PageError::Storage(error)) => Err(error),
                    // The session was deleted under the export: its cursor went with it.
                    Err(PageError::UnknownCursor | PageError::UnknownBound) => {
                        Err(traceline_storage::StorageError::NotFound)
                    }
                }
            })
            .await?;
        self.has_more = page.has_more;
        Ok(page.events)
    }

    /// The chunk's lines; sizes the next chunk to [`CHUNK_BYTES`].
    fn write(&mut self, events: Vec<TimelineEvent>) -> Result<Bytes, ApiError> {
        let mut out = Vec::with_capacity(CHUNK_BYTES / 4);
        for event in &events {
            serde_json::to_writer(&mut out, event)
                .map_err(|error| ApiError::Internal(error.into()))?;
            out.push(b'\n');
        }
        let per_event = out.len() / events.len().max(1);
        let fits = i64::try_from(CHUNK_BYTES / per_event.max(1)).unwrap_or(MAX_CHUNK);
        self.chunk = fits.clamp(1, MAX_CHUNK);
        self.cursor = events.last().map(|event| event.id.clone());
        Ok(Bytes::from(out))
    }
}
