//! `/v1/pickup` for municipalities (docs/folders-and-protocols.md): list, download (streamed, resumable with
//! `Range`), and `DELETE` to acknowledge.
//!
//! A download carries `Content-Length`, `ETag` (the SHA-256), `Repr-Digest` (RFC 9530) and
//! `X-Content-SHA256` (hex) of the whole file, so a client can check what it got against the
//! manifest. One byte range per request is honoured (`bytes=a-b`, `bytes=a-`, `bytes=-n`);
//! several ranges get the whole file. What counts as a pickup is decided in [`super::taken`]:
//! bytes the client's TCP acknowledged before the client spoke again or closed in order, from
//! one response or several, covering the file.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use serde_json::json;

use super::error::ApiError;
use super::routes::{Api, checked_name, not_found_file};
use super::server::Peer;
use super::taken::{FileKey, Sending, Taken};
use super::wire::Wire;
use crate::domain::party::{Credential, Receiver};
use crate::pickup::record::{self, How, Pickup};
use crate::transport::folders::files::{self, ReadFile};
use crate::transport::folders::paths::Folder;

/// Bytes read from disk per body chunk.
const CHUNK: u32 = 256 * 1024;

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file (no header, or one we do not honour).
    Whole,
    /// Bytes `start..=end`.
    Part(u64, u64),
    /// A range that lies outside the file (416).
    Unsatisfiable,
}

/// Reads a `Range` header for a file of `size` bytes.
pub fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else { return Wanted::Whole };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return Wanted::Whole };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| s.parse::<u64>().ok();
    match (a.is_empty(), b.is_empty()) {
        (true, false) => match num(b) {
            Some(0) => Wanted::Unsatisfiable,
            Some(n) if size > 0 => Wanted::Part(size.saturating_sub(n), size - 1),
            Some(_) => Wanted::Unsatisfiable,
            None => Wanted::Whole,
        },
        (false, _) => {
            let Some(start) = num(a) else { return Wanted::Whole };
            let end = if b.is_empty() { Some(u64::MAX) } else { num(b) };
            match end {
                None => Wanted::Whole,
                Some(end) if end < start => Wanted::Whole,
                Some(_) if start >= size => Wanted::Unsatisfiable,
                Some(end) => Wanted::Part(start, end.min(size - 1)),
            }
        }
        (true, true) => Wanted::Whole,
    }
}

/// The peer as a receiver of bundles (a municipality or an executor), or 403 for a creditor.
pub(super) fn receiver_of(peer: &Peer) -> Result<Receiver, ApiError> {
    peer.party.receiver().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "municipality_only",
            "only municipalities and executors use this endpoint; creditors use /v1/inbox, /v1/receipts and /v1/feedback",
        )
    })
}

/// The folder id of the peer's pickup folder (its municipality code or executor id), or 403
/// for a creditor.
pub(super) fn municipality_of(peer: &Peer) -> Result<&str, ApiError> {
    receiver_of(peer)?;
    Ok(peer.party.as_str())
}

fn record_for(peer: &Peer, party: Receiver, name: String, bytes: u64, how: How, from: Option<u64>) -> Pickup {
    Pickup {
        party,
        name,
        bytes,
        how,
        protocol: "https",
        auth: Credential::Certificate(peer.cert.fingerprint_hex()).audit_text(),
        origin: peer.origin.to_string(),
        from,
    }
}

/// `GET /v1/pickup`: the files waiting, with sizes and whether each was picked up.
pub async fn list(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
) -> Result<Response, ApiError> {
    let municipality = municipality_of(&peer)?.to_owned();
    let dir = api.intake.app().layout().pickup(&municipality);
    let entries = files::list(dir).await.map_err(|_| ApiError::unavailable())?;
    let state = api.intake.app().state().clone();
    let items = tokio::task::spawn_blocking(move || {
        let conn = state.lock();
        entries
            .iter()
            .map(|e| {
                let picked =
                    crate::state::exchange::picked_up_at(&conn, &municipality, &e.name).ok().flatten();
                json!({ "name": e.name, "bytes": e.size, "modified": e.mtime, "picked_up_at": picked })
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|_| ApiError::unavailable())?;
    Ok(Json(json!({ "files": items })).into_response())
}

/// The start of a request that resumes a download (`bytes=N-`, `N > 0`): the client says it
/// has the bytes before it.
pub fn resumes_at(range: Option<&str>) -> Option<u64> {
    let spec = range?.trim().strip_prefix("bytes=")?.trim();
    let start = spec.strip_suffix('-')?.trim().parse::<u64>().ok()?;
    (start > 0).then_some(start)
}

/// `GET /v1/pickup/{name}`: the file, whole or one range.
pub async fn get(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
    link: Option<Extension<(Arc<Wire>, Arc<Taken>)>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let receiver = receiver_of(&peer)?;
    let municipality = receiver.as_str();
    let name = checked_name(&name)?.to_owned();
    let dir = api.intake.app().layout().pickup(municipality);
    let file = files::open(dir.clone(), name.clone()).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_found_file(),
        _ => ApiError::unavailable(),
    })?;
    let size = file.info.size;
    let (d, n) = (dir.clone(), name.clone());
    let sha = tokio::task::spawn_blocking(move || record::sha256_in(&d, &n))
        .await
        .map_err(|_| ApiError::unavailable())?
        .map_err(|_| ApiError::unavailable())?;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match wanted(range, size) {
        Wanted::Whole => (StatusCode::OK, 0, size),
        Wanted::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, b + 1),
        Wanted::Unsatisfiable => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file has {size} bytes; ask for a range inside it"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    // Without the connection's wire (a router driven without the listener) nothing counts.
    let sending = link.map(|Extension((wire, taken))| {
        let key = FileKey { municipality: municipality.to_owned(), name: name.clone(), sha256: sha.clone() };
        if let Some(at) = resumes_at(range).filter(|&at| at == start) {
            taken.resumed(&key, at);
        }
        let from = (start > 0).then_some(start);
        let pickup = record_for(&peer, receiver.clone(), name.clone(), size, How::Download, from);
        Sending::new(taken, wire, key, (start, end, size), api.intake.app().clone(), pickup)
    });
    let body = Body::from_stream(stream(file, start, end, sending));
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let digest = base64::engine::general_purpose::STANDARD.encode(hex::decode(&sha).unwrap_or_default());
    let h = resp.headers_mut();
    let content_type = if name.ends_with(".json") { "application/json" } else { "application/octet-stream" };
    for (k, v) in [
        (header::CONTENT_TYPE, content_type.to_owned()),
        (header::CONTENT_LENGTH, (end - start).to_string()),
        (header::ACCEPT_RANGES, "bytes".to_owned()),
        (header::ETAG, format!("\"{sha}\"")),
        (header::HeaderName::from_static("repr-digest"), format!("sha-256=:{digest}:")),
        (header::HeaderName::from_static("x-content-sha256"), sha.clone()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(resp)
}

/// The bytes `start..end` of `file`, read as the client takes them. Each chunk handed to
/// hyper is told to `sending`, which judges the response when the stream is dropped (hyper
/// does not poll it again once `Content-Length` bytes are out).
fn stream(
    file: ReadFile,
    start: u64,
    end: u64,
    sending: Option<Sending>,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> {
    futures_util::stream::unfold((file, start, sending), move |(file, at, sending)| async move {
        if at >= end {
            return None;
        }
        let want = u32::try_from(end - at).unwrap_or(u32::MAX).min(CHUNK);
        match file.read_at(at, want).await {
            Ok(data) if data.is_empty() => Some((
                Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file shrank")),
                (file, end, sending),
            )),
            Ok(data) => {
                let next = at + data.len() as u64;
                let mut sending = sending;
                if let Some(s) = sending.as_mut() {
                    s.handed(next);
                }
                Some((Ok(data), (file, next, sending)))
            }
            Err(e) => Some((Err(e), (file, end, sending))),
        }
    })
}

/// `DELETE /v1/pickup/{name}`: remove = acknowledge the pickup.
pub async fn delete(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let receiver = receiver_of(&peer)?;
    let name = checked_name(&name)?.to_owned();
    let dir =
        files::real_dir(api.intake.app().layout(), &peer.party, Folder::Pickup).ok_or_else(not_found_file)?;
    let bytes = files::remove(dir, name.clone()).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_found_file(),
        _ => ApiError::unavailable(),
    })?;
    record::pickup(api.intake.app(), record_for(&peer, receiver, name.clone(), bytes, How::Remove, None))
        .await;
    Ok(Json(json!({ "acknowledged": name, "bytes": bytes })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let w = |r: &str| wanted(Some(r), 100);
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(w("bytes=0-9"), Wanted::Part(0, 9));
        assert_eq!(w("bytes=90-"), Wanted::Part(90, 99));
        assert_eq!(w("bytes=90-500"), Wanted::Part(90, 99));
        assert_eq!(w("bytes=-10"), Wanted::Part(90, 99));
        assert_eq!(w("bytes=-500"), Wanted::Part(0, 99));
        assert_eq!(w("bytes=100-"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=-0"), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=0-1,5-6"), Wanted::Whole);
        assert_eq!(w("bytes=9-1"), Wanted::Whole);
        assert_eq!(w("items=0-1"), Wanted::Whole);
        assert_eq!(w("bytes=x-1"), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn resumes() {
        assert_eq!(resumes_at(Some("bytes=100-")), Some(100));
        assert_eq!(resumes_at(Some(" bytes= 7- ")), Some(7));
        for r in ["bytes=0-", "bytes=-1", "bytes=100-200", "bytes=1-,5-", "items=5-"] {
            assert_eq!(resumes_at(Some(r)), None, "{r}");
        }
        assert_eq!(resumes_at(None), None);
    }
}
