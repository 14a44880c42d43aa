//! `POST /v1/feedback` for municipalities (docs/feedback.md, §8): the body is one terugmelding file.
//!
//! The file's name (which decides CSV or JSON Lines) may be given as `?name=…` and must then end
//! in `.csv` or `.jsonl`; without it the content decides. The body is gathered up to `[feedback] max_file_bytes` (413 beyond, nothing
//! kept) and handed to [`crate::feedback::receive`]; the answer is 201 with the receipt, for
//! every status, rejected included, and `Location` names the receipt.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::error::ApiError;
use super::pickup::receiver_of;
use super::routes::{Api, next_chunk};
use super::server::Peer;
use crate::domain::party::Credential;
use crate::domain::upload::UploadName;
use crate::feedback::{self, Incoming};

/// The name used when the request gives none (the content then decides the format).
const DEFAULT_NAME: &str = "terugmelding";

/// `POST /v1/feedback[?name=…]`.
pub async fn post(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let sender = receiver_of(&peer)?;
    let name = match query.get("name") {
        Some(n) => {
            let n = UploadName::parse(n).map_err(|e| ApiError::bad_name(e.to_string()))?;
            if let Some(msg) = feedback::parse::name_refusal(&n) {
                return Err(ApiError::bad_name(msg));
            }
            n.as_str().to_owned()
        }
        None => DEFAULT_NAME.to_owned(),
    };
    let limit = api.intake.app().config().feedback_max_bytes;
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(limit));
    }
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    let mut pace = api.pace.start();
    while let Some(chunk) = next_chunk(&mut stream, &mut pace).await? {
        if bytes.len() as u64 + chunk.len() as u64 > limit {
            return Err(ApiError::too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    let incoming = Incoming {
        sender,
        name,
        bytes,
        auth: Credential::Certificate(peer.cert.fingerprint_hex()).audit_text(),
        origin: peer.origin.to_string(),
        protocol: "https",
    };
    let receipt = feedback::receive(api.intake.app(), incoming).await.map_err(|e| {
        tracing::error!(error = %e, "feedback failed");
        ApiError::unavailable()
    })?;
    let mut resp = (StatusCode::CREATED, Json(&receipt)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/receipts/{}", receipt.file_id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}
