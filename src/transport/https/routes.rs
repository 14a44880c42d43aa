//! The HTTPS API (docs/folders-and-protocols.md): creditors upload into intake and read receipts and feedback;
//! municipalities pick up bundles ([`super::pickup`]) and send feedback ([`super::feedback`]).
//!
//! | route | who | does |
//! |---|---|---|
//! | `PUT /v1/inbox/{name}` | creditor | streams the body into intake; 201 + receipt |
//! | `GET /v1/receipts`, `GET /v1/receipts/{id}` | any party | own receipts |
//! | `GET /v1/feedback`, `GET /v1/feedback/{name}` | creditor | own terugmeldingen |
//! | `POST /v1/feedback` | municipality | a terugmelding file; 201 + receipt |
//! | `PUT /v1/clients` | municipality | a hashed known-client list; 201 or 422 + result ([`super::clients`]) |
//! | `GET /v1/pickup`, `GET`/`DELETE /v1/pickup/{name}` | municipality | own bundles |
//!
//! Everything a handler reads comes from the party's own folders through the same confined
//! file access as SFTP; names are checked before they touch the disk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use futures_util::StreamExt;
use serde_json::json;

use super::error::ApiError;
use super::server::Peer;
use crate::audit::{Event, Outcome};
use crate::domain::party::{Credential, PartyId, VerifiedSender};
use crate::domain::upload::UploadName;
use crate::intake::{Intake, IntakeError, UploadError};
use crate::transport::folders::files;
use crate::transport::folders::paths::{Folder, plain_name};

/// Shared by every request.
#[derive(Clone)]
pub struct Api {
    /// The one intake (the same as SFTP's).
    pub intake: Intake,
    /// How slowly a body may arrive before the upload is dropped.
    pub pace: BodyPace,
}

/// How slowly a request body may arrive (slow-loris): it may stall at most `idle` at a time,
/// and after its first `idle` it must have averaged `min_bytes_per_sec` since the request
/// began — a deadline that trickled bytes do not push back.
#[derive(Clone, Copy, Debug)]
pub struct BodyPace {
    /// Longest wait for the next bytes, and the grace before the rate counts.
    pub idle: Duration,
    /// Slowest average rate after the grace (0: only `idle` applies).
    pub min_bytes_per_sec: u64,
}

/// The pace of one body being read.
pub(super) struct Paced {
    pace: BodyPace,
    started: Instant,
    bytes: u64,
}

impl BodyPace {
    /// Starts timing a body now.
    pub(super) fn start(self) -> Paced {
        Paced { pace: self, started: Instant::now(), bytes: 0 }
    }
}

impl Paced {
    /// How long to wait for the next bytes: `idle`, or less if the body's deadline (the grace
    /// plus the time its bytes so far buy at the minimum rate) comes first.
    fn wait(&self) -> Duration {
        let idle = self.pace.idle;
        if self.pace.min_bytes_per_sec == 0 {
            return idle;
        }
        let bought = Duration::from_secs_f64(self.bytes as f64 / self.pace.min_bytes_per_sec as f64);
        let deadline = self.started + idle + bought;
        idle.min(deadline.saturating_duration_since(Instant::now()))
    }
}

/// Bytes handed to intake at once (request bodies arrive in TLS-record-sized frames).
const CHUNK: usize = 256 * 1024;

/// The router; every request carries an `Extension<Arc<Peer>>` set by the connection.
pub fn router(api: Api) -> Router {
    Router::new()
        // A catch-all, so `a/b` or `..;/x` reach the handler and get a 400 naming the rule.
        .route("/v1/inbox/{*name}", axum::routing::put(put_inbox))
        .route("/v1/receipts", get(list_receipts))
        .route("/v1/receipts/{id}", get(get_receipt))
        .route("/v1/feedback", get(list_feedback).post(super::feedback::post))
        .route("/v1/feedback/{name}", get(get_feedback))
        .route("/v1/clients", axum::routing::put(super::clients::put))
        .route("/v1/pickup", get(super::pickup::list))
        .route("/v1/pickup/{name}", get(super::pickup::get).delete(super::pickup::delete))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(api)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    let path = uri.path().to_ascii_lowercase();
    let tricky = ["/..", "..;", "%2e", "%2f", "%5c", "%00", "\\"].iter().any(|t| path.contains(t));
    if tricky || path.starts_with("/v1/inbox/") {
        return ApiError::bad_name(
            "the path is not a plain API path; names may not contain '/', '\\', '..' or NUL",
        );
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see docs/folders-and-protocols.md for the API",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed here")
}

fn creditor_of(peer: &Peer) -> Result<&crate::domain::party::CreditorId, ApiError> {
    match &peer.party {
        PartyId::Creditor(c) => Ok(c),
        PartyId::Municipality(_) | PartyId::Executor(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "creditor_only",
            "only creditors use this endpoint; municipalities and executors use /v1/pickup and /v1/feedback (POST)",
        )),
    }
}

/// A name from a URL (already percent-decoded) that may be looked up in a folder.
pub(super) fn checked_name(name: &str) -> Result<&str, ApiError> {
    if plain_name(name) && name != ".." {
        Ok(name)
    } else {
        Err(ApiError::bad_name("the name must be a plain file name: no '/', '\\', '..', NUL or leading '.'"))
    }
}

async fn put_inbox(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let creditor = creditor_of(&peer)?.clone();
    // The same name rules as SFTP uploads ('/', '\\', NUL, control characters, leading '.').
    let name = UploadName::parse(&name).map_err(|e| ApiError::bad_name(e.to_string()))?;
    if name.is_temp() {
        return Err(ApiError::bad_name(
            "over HTTPS an upload is complete when the request ends; PUT it under its final name (.csv or .jsonl)",
        ));
    }
    let limit = api.intake.app().config().intake.max_file_bytes;
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        refuse_upload(&api.intake, &peer, "too_large", limit).await;
        return Err(ApiError::too_large(limit));
    }
    let sender = VerifiedSender::authenticated(
        creditor,
        Credential::Certificate(peer.cert.fingerprint_hex()),
        peer.origin.to_string(),
    );
    let mut upload = match api.intake.begin(sender, name) {
        Ok(u) => u,
        Err(e @ IntakeError::TooManyFiles { limit, .. }) => {
            refuse_upload(&api.intake, &peer, "files_per_period", limit).await;
            return Err(ApiError::intake(e));
        }
        Err(e) => return Err(ApiError::intake(e)),
    };
    tracing::info!(party = %peer.party, file_id = upload.file_id(), "HTTPS upload started");
    let mut stream = body.into_data_stream();
    // Pieces of CHUNK bytes, no larger than what the request says is left: a small file does
    // not hold a large buffer while it waits for its worker.
    let piece = |received: u64| declared.map_or(CHUNK, |n| (n.saturating_sub(received) as usize).clamp(1, CHUNK));
    let mut buf = Vec::with_capacity(piece(0));
    let mut pace = api.pace.start();
    loop {
        let Some(chunk) = next_chunk(&mut stream, &mut pace).await? else { break };
        buf.extend_from_slice(&chunk);
        if buf.len() >= CHUNK {
            let next = Vec::with_capacity(piece(upload.bytes() + buf.len() as u64));
            write(&mut upload, &mut buf, next, &api.intake, &peer, limit).await?;
        }
    }
    if !buf.is_empty() {
        write(&mut upload, &mut buf, Vec::new(), &api.intake, &peer, limit).await?;
    }
    let received = upload.finish().await.map_err(ApiError::intake)?;
    let receipt = received.commit().await.map_err(ApiError::intake)?;
    let location = format!("/v1/receipts/{}", receipt.file_id);
    let mut resp = (StatusCode::CREATED, Json(&receipt)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// The next piece of a request body: `None` at its end; an error when it comes slower than
/// `pace` allows, or breaks off (a dropped connection, a body shorter than its
/// `Content-Length`), in which case nothing of it is kept.
pub(super) async fn next_chunk(
    stream: &mut axum::body::BodyDataStream,
    pace: &mut Paced,
) -> Result<Option<axum::body::Bytes>, ApiError> {
    let next = tokio::time::timeout(pace.wait(), stream.next()).await.map_err(|_| {
        let rate = pace.pace.min_bytes_per_sec;
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body stalled or arrived slower than {rate} bytes/s on average; nothing was kept"
            ),
        )
    })?;
    match next {
        None => Ok(None),
        Some(Ok(c)) => {
            pace.bytes += c.len() as u64;
            Ok(Some(c))
        }
        Some(Err(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "body_incomplete",
            "the request body ended early; nothing was kept; send the file again",
        )),
    }
}

/// Hands what `buf` holds to the upload, leaving `next` in its place.
async fn write(
    upload: &mut crate::intake::Upload,
    buf: &mut Vec<u8>,
    next: Vec<u8>,
    intake: &Intake,
    peer: &Peer,
    limit: u64,
) -> Result<(), ApiError> {
    let offset = upload.bytes();
    let data = std::mem::replace(buf, next);
    match upload.write_at(offset, data).await {
        Ok(()) => Ok(()),
        Err(UploadError::TooLarge { .. }) => {
            refuse_upload(intake, peer, "too_large", limit).await;
            Err(ApiError::too_large(limit))
        }
        Err(e) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string())),
    }
}

/// Audits an upload refused before it was kept: `reason` (`too_large`, `files_per_period`) and
/// the limit it hit.
async fn refuse_upload(intake: &Intake, peer: &Peer, reason: &str, limit: u64) {
    let ev = Event::new(peer.party.actor(), "upload", Outcome::Denied)
        .origin(peer.origin.to_string())
        .auth(Credential::Certificate(peer.cert.fingerprint_hex()).audit_text())
        .object(json!({ "protocol": "https", "reason": reason, "limit": limit }));
    intake.app().audit().record(ev).await;
}

/// Lists a folder of the peer as JSON.
async fn list(api: &Api, peer: &Peer, folder: Folder) -> Result<Response, ApiError> {
    let dir = files::real_dir(api.intake.app().layout(), &peer.party, folder).ok_or_else(not_found_file)?;
    let entries = files::list(dir).await.map_err(|_| ApiError::unavailable())?;
    let items: Vec<_> =
        entries.iter().map(|e| json!({ "name": e.name, "bytes": e.size, "modified": e.mtime })).collect();
    Ok(Json(json!({ "files": items })).into_response())
}

/// Sends one file of a folder of the peer.
async fn send(api: &Api, peer: &Peer, folder: Folder, name: &str) -> Result<Response, ApiError> {
    let name = checked_name(name)?.to_owned();
    let dir = files::real_dir(api.intake.app().layout(), &peer.party, folder).ok_or_else(not_found_file)?;
    let content_type = if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let file = files::open(dir, name).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => not_found_file(),
        _ => ApiError::unavailable(),
    })?;
    let size = file.info.size;
    let mut bytes = Vec::with_capacity(size as usize);
    while (bytes.len() as u64) < size {
        let part =
            file.read_at(bytes.len() as u64, files::MAX_READ).await.map_err(|_| ApiError::unavailable())?;
        if part.is_empty() {
            break;
        }
        bytes.extend_from_slice(&part);
    }
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// 404 for a file that is not there.
pub(super) fn not_found_file() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such file; list the folder to see what there is")
}

async fn list_receipts(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
) -> Result<Response, ApiError> {
    list(&api, &peer, Folder::Receipts).await
}

async fn get_receipt(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // `/v1/receipts/<file-id>` is the JSON receipt, `<file-id>.receipt.txt` and
    // `<file-id>.receipt.json.sig` its twin and signature, whatever upload name their files
    // start with (docs/receipt.md); full file names work too.
    let asked = checked_name(&id)?.to_owned();
    let dir = files::real_dir(api.intake.app().layout(), &peer.party, Folder::Receipts)
        .ok_or_else(not_found_file)?;
    let name = tokio::task::spawn_blocking(move || crate::intake::receipt_files::resolve(&dir, &asked))
        .await
        .map_err(|_| ApiError::unavailable())?
        .map_err(|_| ApiError::unavailable())?;
    send(&api, &peer, Folder::Receipts, &name).await
}

async fn list_feedback(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
) -> Result<Response, ApiError> {
    creditor_of(&peer)?;
    list(&api, &peer, Folder::Feedback).await
}

async fn get_feedback(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    creditor_of(&peer)?;
    send(&api, &peer, Folder::Feedback, &name).await
}
