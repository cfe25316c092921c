//! One error type for every use case: privacyIDEA's error classes and codes.
//! The HTTP status each class is answered with is the server's business
//! (`Kind::status`), the envelope too.

use serde_json::Value;
use std::fmt;

/// The privacyIDEA error class an [`ApiError`] stands for; it decides the HTTP
/// status and whether the message carries the `ERR<code>: ` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `AuthError` family: HTTP 401, bare message.
    Auth,
    /// `PolicyError`: HTTP 403, bare message.
    Policy,
    /// `ResourceNotFoundError`: HTTP 404, bare message.
    NotFound,
    /// Any other `PrivacyIDEAError` (ParameterError 905, ConfigAdminError 302, …):
    /// HTTP 400, `ERR<code>: ` prefix.
    Generic,
    /// The database cannot be reached: HTTP 503.
    Unavailable,
    /// A request the HTTP layer refused (bad method, body too large, unknown
    /// route, stale `If-Match`), with its HTTP status.
    Http(u16),
    /// A bug on our side: HTTP 500, code -500.
    Internal,
}

/// An error answered in privacyIDEA's error envelope.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The class.
    pub kind: Kind,
    /// `result.error.code`.
    pub code: i64,
    /// The message without prefix.
    pub message: String,
    /// `detail` of the envelope (`null` unless set).
    pub detail: Value,
}

/// The message privacyIDEA gives for an unexpected exception.
pub const INTERNAL_MESSAGE: &str = "500 Internal Server Error: The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.";

impl ApiError {
    fn new(kind: Kind, code: i64, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            code,
            message: message.into(),
            detail: Value::Null,
        }
    }
    /// ParameterError (905, HTTP 400).
    pub fn parameter(message: impl Into<String>) -> Self {
        Self::new(Kind::Generic, 905, message)
    }
    /// `Missing parameter: <key>` (905).
    pub fn missing(key: &str) -> Self {
        Self::parameter(format!("Missing parameter: {key}"))
    }
    /// Any PrivacyIDEAError subclass with its own code (HTTP 400, prefixed).
    pub fn generic(code: i64, message: impl Into<String>) -> Self {
        Self::new(Kind::Generic, code, message)
    }
    /// PolicyError (303, HTTP 403).
    pub fn policy(message: impl Into<String>) -> Self {
        Self::new(Kind::Policy, 303, message)
    }
    /// ResourceNotFoundError (601, HTTP 404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, 601, message)
    }
    /// AuthError with a sub-code (HTTP 401).
    pub fn auth(code: i64, message: impl Into<String>) -> Self {
        Self::new(Kind::Auth, code, message)
    }
    /// The database is unreachable (HTTP 503, DatabaseError 902).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, 902, message)
    }
    /// A refusal by the HTTP layer with its own status.
    pub fn http(status: u16, message: impl Into<String>) -> Self {
        let code = -i64::from(status);
        Self::new(Kind::Http(status), code, message)
    }
    /// An internal error; the cause is logged, the client gets privacyIDEA's generic text.
    pub fn internal(cause: impl fmt::Display) -> Self {
        log::error!("internal error: {cause}");
        Self::new(Kind::Internal, -500, INTERNAL_MESSAGE)
    }
    /// Attach `detail`.
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
    /// The message as it appears in `result.error.message`.
    pub fn wire_message(&self) -> String {
        match self.kind {
            Kind::Generic | Kind::Unavailable => format!("ERR{}: {}", self.code, self.message),
            _ => self.message.clone(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wire_message())
    }
}

impl Kind {
    /// The HTTP status privacyIDEA answers this class with.
    pub fn status(self) -> u16 {
        match self {
            Kind::Auth => 401,
            Kind::Policy => 403,
            Kind::NotFound => 404,
            Kind::Generic => 400,
            Kind::Unavailable => 503,
            Kind::Http(s) => s,
            Kind::Internal => 500,
        }
    }
}

impl std::error::Error for ApiError {}

impl From<pi_store::StoreError> for ApiError {
    fn from(e: pi_store::StoreError) -> Self {
        match e {
            pi_store::StoreError::Unavailable(m) => {
                log::warn!("database unavailable: {m}");
                ApiError::unavailable("The database is not available.")
            }
            pi_store::StoreError::PreconditionFailed {
                kind,
                name,
                current,
            } => ApiError::http(
                412,
                format!(
                    "The {kind} '{name}' was changed or deleted by another request (If-Match does not match)."
                ),
            )
            .with_detail(serde_json::json!({ "etag": current })),
            other => ApiError::internal(other),
        }
    }
}

/// Result alias for the use cases.
pub type ApiResult<T> = Result<T, ApiError>;
