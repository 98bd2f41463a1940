//! The error handlers return. Every failure becomes JSON `{"code", "message", "details"}` with the
//! right status; unexpected failures are logged with their cause and answered as a generic 500
//! that leaks nothing. Domain errors ([`crate::error::Error`]) map onto it one to one.
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use callbroker_wire::ErrorBody;
use serde_json::json;

use crate::error::Error;
pub use crate::error::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The path is known but takes other methods (listed, as in the `Allow` header).
    #[error("this path takes {allow}")]
    MethodNotAllowed { allow: &'static str },
    #[error("too many requests; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        match e {
            Error::BadRequest { code, message } => AppError::BadRequest { code, message },
            Error::Validation(f) => AppError::Validation(f),
            Error::Forbidden(m) => AppError::Forbidden(m),
            Error::NotFound(what) => AppError::NotFound(what),
            Error::Conflict(m) => AppError::Conflict(m),
            Error::Unavailable(m) => AppError::Unavailable(m),
            Error::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        Error::from(e).into()
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::bad_request(message).into()
    }
    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        Error::field(field, problem).into()
    }
    pub fn forbidden() -> Self {
        Error::forbidden().into()
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Validation(_) => "validation_failed",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::TooManyRequests { .. } => "rate_limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (message, details) = match self {
            AppError::Validation(fields) => (self.to_string(), Some(json!({ "fields": fields.0 }))),
            AppError::Internal(_) => ("internal error; it has been logged".to_string(), None),
            _ => (self.to_string(), None),
        };
        ErrorBody { code: self.code().to_string(), message, details }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            AppError::Unavailable(m) => tracing::warn!(reason = %m, "service unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            AppError::TooManyRequests { retry_after_secs } => {
                res.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            AppError::Unauthorized(_) => {
                res.insert_header(("WWW-Authenticate", "Bearer"));
            }
            AppError::MethodNotAllowed { allow } => {
                res.insert_header((actix_web::http::header::ALLOW, *allow));
            }
            _ => {}
        }
        res.json(self.body())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

/// Turns error responses that actix or a library produced without our JSON body (payload too
/// large, method not allowed, ...) into the standard `{"code", "message"}` body. Responses that
/// already carry JSON or TwiML are left alone. A 404 or 405 for a documented path asked with a
/// method it does not take becomes a 405 with `Allow` (routing cannot tell: each route is its own
/// resource, guarded by its method); so does a 400, which a template route that also matches the
/// path answers when the fixed segment is not its parameter (`PATCH /api/numbers/import` reaches
/// `PATCH /api/numbers/{id}`, whose id `import` is not a number).
pub fn json_error_bodies<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::http::header::CONTENT_TYPE;
    use actix_web::middleware::ErrorHandlerResponse;
    if matches!(res.status(), StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED) {
        if let Some(allow) = super::allow::not_allowed(res.request().method(), res.request().path()) {
            let (req, _) = res.into_parts();
            let answer = AppError::MethodNotAllowed { allow }.error_response();
            return Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(req, answer).map_into_right_body()));
        }
    }
    let content_type = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if content_type.starts_with("application/json") || content_type.starts_with("text/xml") {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "error",
    };
    let message = status.canonical_reason().unwrap_or("error").to_string();
    let body = serde_json::to_string(&ErrorBody { code: code.into(), message, details: None }).unwrap_or_default();
    let (req, res) = res.into_parts();
    let mut res = res.set_body(actix_web::body::BoxBody::new(body));
    res.headers_mut().insert(CONTENT_TYPE, actix_web::http::header::HeaderValue::from_static("application/json"));
    Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(req, res).map_into_right_body()))
}
