//! The one error type at the HTTP edge, and the only place that knows status codes.
//!
//! 4xx messages say exactly what was wrong. 5xx messages are generic; the cause chain is
//! logged here, never sent to the client.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::catalog::CatalogError;
use crate::error::ErrorKind;
use crate::service::ServiceError;
use crate::store::StoreError;
use crate::url::ParseError;

/// An error on its way to becoming `{"error":{"message":…}}`.
#[derive(Debug)]
pub struct ApiError {
    kind: ErrorKind,
    message: String,
    /// Delivery errors also carry the message in `X-Cld-Error`, which players read.
    cld_error: bool,
    status_override: Option<StatusCode>,
    /// The Live Streaming API puts a `request_id` next to `error`.
    request_id: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            message: message.into(),
            cld_error: false,
            status_override: None,
            request_id: None,
        }
    }
    /// Adds `request_id` to the body (the Live Streaming API's envelope).
    pub fn with_request_id(mut self, id: String) -> ApiError {
        self.request_id = Some(id);
        self
    }
    pub fn bad_input(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::BadInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::NotFound, message)
    }
    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError {
            status_override: Some(StatusCode::METHOD_NOT_ALLOWED),
            ..ApiError::new(ErrorKind::BadInput, message)
        }
    }
    /// Marks the error as a delivery error (adds `X-Cld-Error`).
    pub fn delivery(mut self) -> ApiError {
        self.cld_error = true;
        self
    }
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn message(&self) -> &str {
        &self.message
    }

    fn status(&self) -> StatusCode {
        if let Some(s) = self.status_override {
            return s;
        }
        match self.kind {
            // Cloudinary answers 400 for oversize uploads; the SDKs only parse the usual codes.
            ErrorKind::BadInput | ErrorKind::TooLarge => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Builds from any layer error: its kind, and its message unless that is internal (then
    /// `busy` says what is unavailable, or a generic text says something failed).
    fn from_layer(
        kind: ErrorKind,
        error: &(dyn std::error::Error + 'static),
        busy: &str,
    ) -> ApiError {
        match kind {
            ErrorKind::Internal | ErrorKind::Busy => {
                let mut chain = error.to_string();
                let mut source = error.source();
                while let Some(s) = source {
                    chain.push_str(": ");
                    chain.push_str(&s.to_string());
                    source = s.source();
                }
                tracing::error!(error = %chain, "request failed");
                let message = if kind == ErrorKind::Busy {
                    busy
                } else {
                    "Internal server error"
                };
                ApiError::new(kind, message)
            }
            _ => ApiError::new(kind, error.to_string()),
        }
    }
}

const CATALOG_UNAVAILABLE: &str = "The catalog database is unavailable; try again shortly";
const STORE_UNAVAILABLE: &str = "The blob store is unavailable; try again shortly";

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let busy = match &e {
            ServiceError::Catalog(_) => CATALOG_UNAVAILABLE,
            ServiceError::Store(_) => STORE_UNAVAILABLE,
            ServiceError::Busy(message) => message,
            _ => "Service temporarily unavailable; try again shortly",
        };
        ApiError::from_layer(e.kind(), &e, busy)
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> ApiError {
        ApiError::from_layer(e.kind(), &e, CATALOG_UNAVAILABLE)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::from_layer(e.kind(), &e, STORE_UNAVAILABLE)
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> ApiError {
        ApiError::bad_input(e.to_string())
    }
}

impl From<crate::params::ParamError> for ApiError {
    fn from(e: crate::params::ParamError) -> ApiError {
        ApiError::bad_input(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = serde_json::json!({"error": {"message": self.message}});
        if let Some(id) = self.request_id {
            body["request_id"] = serde_json::json!(id);
        }
        let mut response = (status, axum::Json(body)).into_response();
        if self.cld_error {
            let header: String = self
                .message
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() || c == ' ' {
                        c
                    } else {
                        '?'
                    }
                })
                .collect();
            if let Ok(value) = HeaderValue::from_str(&header) {
                response.headers_mut().insert("x-cld-error", value);
            }
        }
        response
    }
}
