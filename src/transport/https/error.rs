//! JSON errors of the HTTPS API: `{"error":{"code":"…","message":"…"}}` (docs/folders-and-protocols.md).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::intake::IntakeError;

/// An error answer: status, stable code, and a message that says what to do.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// 400 for a name that may not be used.
    pub fn bad_name(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_name", message)
    }

    /// 413 naming the limit.
    pub fn too_large(limit: u64) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!(
                "the file is larger than the limit of {limit} bytes; nothing was kept; split it into smaller files"
            ),
        )
    }

    /// 503: storage trouble (details stay in the server log).
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server cannot do this now; try again later",
        )
    }

    /// The answer for an intake error.
    pub fn intake(e: IntakeError) -> ApiError {
        match e {
            IntakeError::Incomplete => ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_incomplete",
                "the upload did not complete; nothing was kept; send the file again",
            ),
            IntakeError::PeriodClosed(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "period_closed", e.to_string())
            }
            IntakeError::TooManyFiles { .. } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_files", e.to_string())
            }
            IntakeError::Stopping => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "stopping", e.to_string())
            }
            IntakeError::UnknownCreditor(_) => ApiError::new(
                StatusCode::FORBIDDEN,
                "unknown_party",
                "this certificate's party is not a creditor",
            ),
            other => {
                tracing::error!(error = &other as &dyn std::error::Error, "intake failed");
                ApiError::unavailable()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": { "code": self.code, "message": self.message } })))
            .into_response()
    }
}
