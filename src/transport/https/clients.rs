//! `PUT /v1/clients` for municipalities (docs/known-clients.md): the body is a hashed
//! known-client list, which replaces the party's earlier one. Gathered up to
//! [`crate::clients::MAX_LIST_BYTES`] (413 beyond, nothing kept) and handed to
//! [`crate::clients::receive`]; the answer is its result as JSON: 201 when the list was stored,
//! 422 when it was rejected (the earlier list then stays).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::error::ApiError;
use super::routes::{Api, next_chunk};
use super::server::Peer;
use crate::clients::{self, Incoming, MAX_LIST_BYTES, Status};
use crate::domain::party::{Credential, PartyId};

/// `PUT /v1/clients`.
pub async fn put(
    State(api): State<Api>,
    Extension(peer): Extension<Arc<Peer>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if matches!(peer.party, PartyId::Creditor(_)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_for_creditors",
            "known-client lists are uploaded by the parties that receive bundles, not by creditors",
        ));
    }
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_LIST_BYTES) {
        return Err(ApiError::too_large(MAX_LIST_BYTES));
    }
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    let mut pace = api.pace.start();
    while let Some(chunk) = next_chunk(&mut stream, &mut pace).await? {
        if bytes.len() as u64 + chunk.len() as u64 > MAX_LIST_BYTES {
            return Err(ApiError::too_large(MAX_LIST_BYTES));
        }
        bytes.extend_from_slice(&chunk);
    }
    let incoming = Incoming {
        party: peer.party.clone(),
        bytes,
        auth: Credential::Certificate(peer.cert.fingerprint_hex()).audit_text(),
        origin: peer.origin.to_string(),
        protocol: "https",
    };
    let answer = clients::receive(api.intake.app(), incoming).await.map_err(|e| {
        tracing::error!(error = %e, "known-client list failed");
        ApiError::unavailable()
    })?;
    let status = if answer.status == Status::Accepted {
        StatusCode::CREATED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(&answer)).into_response())
}
