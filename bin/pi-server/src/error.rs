//! The HTTP side of pi-admin's [`ApiError`]: privacyIDEA's status per error
//! class and the error envelope.

use crate::envelope;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::Value;
use std::fmt;

pub use pi_admin::error::{ApiError, ApiResult};

/// A refusal by the HTTP layer with its own status.
pub fn http(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError::http(status.as_u16(), message)
}

/// The HTTP status of an error.
pub fn status(err: &ApiError) -> StatusCode {
    StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The body of the error envelope.
pub fn body(err: &ApiError) -> Value {
    envelope::error_body(err.code, &err.wire_message(), err.detail.clone())
}

/// An [`ApiError`] as actix answers it (the error type of handlers and
/// extractors; `?` converts).
#[derive(Debug)]
pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> Self {
        HttpError(e)
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        status(&self.0)
    }
    fn error_response(&self) -> HttpResponse {
        envelope::json_response(self.status_code(), &body(&self.0))
    }
}

/// What a handler returns.
pub type Reply = Result<HttpResponse, HttpError>;

/// The error envelope answer of `err`.
pub fn response(err: ApiError) -> HttpResponse {
    HttpError(err).error_response()
}

impl From<pi_store::StoreError> for HttpError {
    fn from(e: pi_store::StoreError) -> Self {
        HttpError(e.into())
    }
}
