//! One error type for the whole service, rendered as `application/problem+json` (RFC 9457)
//! with the stable `code`s of SPEC §3. Internal details (SQL, stack traces) never reach a client.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::Error as DieselError;
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::domain::validation::{FieldError, Validations};

/// Every `code` the service emits in a problem document (SPEC §3 and the codes named in §2–§9).
/// Serialised in snake_case; the OpenAPI `Problem` schema lists them as its `code` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // Generic codes of SPEC §3.
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    ServiceUnavailable,
    InternalError,
    // Domain codes.
    AlreadyMember,
    AlreadyRevoked,
    AlreadySigned,
    ConsentRequired,
    ContractMissing,
    ContractOutdated,
    EmailTaken,
    EnrollmentClosed,
    GroupBelowMinimum,
    GroupFull,
    NoteSigned,
    NoteUndecryptable,
    RosterMismatch,
    ScreeningRequired,
    SessionCancelled,
    SessionNotStarted,
}

impl ErrorCode {
    /// Every code, in declaration order (the OpenAPI enum and the tests use it).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::ValidationFailed,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PreconditionFailed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::ServiceUnavailable,
        ErrorCode::InternalError,
        ErrorCode::AlreadyMember,
        ErrorCode::AlreadyRevoked,
        ErrorCode::AlreadySigned,
        ErrorCode::ConsentRequired,
        ErrorCode::ContractMissing,
        ErrorCode::ContractOutdated,
        ErrorCode::EmailTaken,
        ErrorCode::EnrollmentClosed,
        ErrorCode::GroupBelowMinimum,
        ErrorCode::GroupFull,
        ErrorCode::NoteSigned,
        ErrorCode::NoteUndecryptable,
        ErrorCode::RosterMismatch,
        ErrorCode::ScreeningRequired,
        ErrorCode::SessionCancelled,
        ErrorCode::SessionNotStarted,
    ];

    /// The code as served, e.g. `group_full`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::AlreadyMember => "already_member",
            ErrorCode::AlreadyRevoked => "already_revoked",
            ErrorCode::AlreadySigned => "already_signed",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::ContractMissing => "contract_missing",
            ErrorCode::ContractOutdated => "contract_outdated",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::EnrollmentClosed => "enrollment_closed",
            ErrorCode::GroupBelowMinimum => "group_below_minimum",
            ErrorCode::GroupFull => "group_full",
            ErrorCode::NoteSigned => "note_signed",
            ErrorCode::NoteUndecryptable => "note_undecryptable",
            ErrorCode::RosterMismatch => "roster_mismatch",
            ErrorCode::ScreeningRequired => "screening_required",
            ErrorCode::SessionCancelled => "session_cancelled",
            ErrorCode::SessionNotStarted => "session_not_started",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request could not be read at all (malformed JSON, bad query string).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 422: well-formed but invalid. `code` is `validation_failed` or a domain code
    /// such as `roster_mismatch`.
    #[error("validation failed: {detail}")]
    Validation {
        code: ErrorCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// A 403 the handler has already written to the audit trail, with its context: the 403
    /// audit of `app::audit_forbidden` leaves it alone, so a refusal is recorded once.
    #[error("forbidden")]
    ForbiddenRecorded,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 with a domain code (`group_full`, `note_signed`, …) or plain `conflict`.
    #[error("conflict ({code}): {detail}")]
    Conflict { code: ErrorCode, detail: String },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A deadlock or serialization failure: `Db::tx` runs the transaction again (a few times)
    /// before this reaches the client as a 503.
    #[error("transaction conflict")]
    TxConflict,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

/// Marks a 403 response whose refusal is already in the audit trail.
#[derive(Debug, Clone, Copy)]
pub struct RefusalRecorded;

/// `Retry-After` of a 503: the database is away or busy for a moment.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

impl AppError {
    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// A 422 about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Validations::one(field, message).into()
    }

    /// A 422 with a domain code, e.g. `roster_mismatch`.
    pub fn unprocessable(
        code: ErrorCode,
        detail: impl Into<String>,
        errors: Vec<FieldError>,
    ) -> Self {
        AppError::Validation {
            code,
            detail: detail.into(),
            errors,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::BadRequest(_) => ErrorCode::ValidationFailed,
            AppError::Validation { code, .. } => *code,
            AppError::Unauthorized(_) => ErrorCode::Unauthorized,
            AppError::Forbidden | AppError::ForbiddenRecorded => ErrorCode::Forbidden,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            AppError::Conflict { code, .. } => *code,
            AppError::PreconditionFailed => ErrorCode::PreconditionFailed,
            AppError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            AppError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::Unavailable(_) | AppError::TxConflict => ErrorCode::ServiceUnavailable,
            AppError::Internal(_) => ErrorCode::InternalError,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "The request could not be read",
            AppError::Validation { .. } => "The request is invalid",
            AppError::Unauthorized(_) => "Authentication required",
            AppError::Forbidden | AppError::ForbiddenRecorded => "Your role may not do this",
            AppError::NotFound => "Not found",
            AppError::MethodNotAllowed => "Method not allowed",
            AppError::Conflict { .. } => "Conflict with the current state",
            AppError::PreconditionFailed => "The resource has changed",
            AppError::PayloadTooLarge => "Request body too large",
            AppError::UnsupportedMediaType => "Unsupported media type",
            AppError::RateLimited { .. } => "Too many attempts",
            AppError::Unavailable(_) | AppError::TxConflict => "Service temporarily unavailable",
            AppError::Internal(_) => "Internal error",
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::BadRequest(d) => d.clone(),
            AppError::Validation { detail, .. } => detail.clone(),
            AppError::Unauthorized(d) => (*d).to_string(),
            AppError::Forbidden | AppError::ForbiddenRecorded => {
                "Your role is not allowed to perform this action.".into()
            }
            AppError::NotFound => "The requested resource does not exist.".into(),
            AppError::MethodNotAllowed => "This method is not allowed on this resource.".into(),
            AppError::Conflict { detail, .. } => detail.clone(),
            AppError::PreconditionFailed => {
                "The resource was changed since you read it (If-Match does not match its ETag)."
                    .into()
            }
            AppError::PayloadTooLarge => "Request bodies are limited to 256 KiB.".into(),
            AppError::UnsupportedMediaType => "Send the body as application/json.".into(),
            AppError::RateLimited { retry_after_secs } => {
                format!("Too many failed attempts; try again in {retry_after_secs} seconds.")
            }
            AppError::Unavailable(detail) => detail.clone(),
            AppError::TxConflict => {
                "A concurrent change kept interfering; retry the request.".into()
            }
            AppError::Internal(_) => "An unexpected error occurred.".into(),
        }
    }
}

/// The problem document (RFC 9457) as served.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    // Inlined so the one `Problem` schema carries the enum of every code.
    #[schema(inline)]
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::ForbiddenRecorded => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::TxConflict => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(e) = self {
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
        let status = self.status_code();
        let body = Problem {
            type_: format!("urn:groupwork:problem:{}", self.code()),
            title: self.title().to_string(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors: match self {
                AppError::Validation { errors, .. } => Some(errors.clone()),
                _ => None,
            },
        };
        let mut res = HttpResponse::build(status);
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            AppError::RateLimited { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::Unavailable(_) | AppError::TxConflict => {
                res.insert_header((
                    header::RETRY_AFTER,
                    UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
                ));
            }
            AppError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        let mut res = res.body(serde_json::to_vec(&body).unwrap_or_default());
        if let AppError::ForbiddenRecorded = self {
            res.extensions_mut().insert(RefusalRecorded);
        }
        res
    }
}

impl From<DieselError> for AppError {
    /// Database errors by SQLSTATE (see `crate::sqlstate`): a deadlock or serialization failure
    /// that outlived the retries, a lock or statement timeout and an unreachable database are
    /// 503 `service_unavailable` (with `Retry-After`); a unique or exclusion violation is a 409;
    /// a value the database refuses (check, not-null, foreign key, out of range) is the
    /// client's 422 — validation is the first line, the database's constraints the second.
    fn from(e: DieselError) -> Self {
        use crate::sqlstate::DbFailure;
        if let DieselError::NotFound = e {
            return AppError::NotFound;
        }
        let Some(failure) = DbFailure::of(&e) else {
            return AppError::Internal(anyhow::Error::new(e));
        };
        let (constraint, table) = match &e {
            DieselError::DatabaseError(_, info) => (
                info.constraint_name().map(str::to_owned),
                info.table_name().map(str::to_owned),
            ),
            _ => (None, None),
        };
        match failure {
            DbFailure::Deadlock | DbFailure::Serialization => {
                tracing::info!(?failure, "transaction conflict");
                AppError::TxConflict
            }
            DbFailure::LockTimeout | DbFailure::StatementTimeout => {
                tracing::warn!(?failure, error = %e, "database timeout");
                AppError::Unavailable("The database is busy; retry the request shortly.".into())
            }
            DbFailure::Unavailable => {
                AppError::Unavailable("The database is unreachable; try again shortly.".into())
            }
            DbFailure::UniqueViolation | DbFailure::ExclusionViolation => {
                tracing::info!(?constraint, "unique violation");
                AppError::conflict(ErrorCode::Conflict, "A conflicting record already exists.")
            }
            DbFailure::ForeignKeyViolation => {
                tracing::info!(?constraint, "foreign key violation");
                let field = constraint
                    .as_deref()
                    .and_then(|c| c.strip_suffix("_fkey"))
                    .map(|c| match &table {
                        Some(t) => c.strip_prefix(&format!("{t}_")).unwrap_or(c),
                        None => c,
                    })
                    .unwrap_or("body")
                    .to_string();
                AppError::invalid(field, "refers to a record that does not exist")
            }
            DbFailure::CheckViolation | DbFailure::NotNullViolation => {
                tracing::info!(?constraint, "check violation");
                AppError::invalid("body", "a value is outside its allowed range")
            }
            DbFailure::DataException => {
                AppError::invalid("query", "a date or number is outside the supported range")
            }
            DbFailure::Other => AppError::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %e, "no database connection");
        AppError::Unavailable("The database is unreachable; try again shortly.".into())
    }
}

impl From<Validations> for AppError {
    /// The findings of the pure rules as a 422 `validation_failed`, every field at once.
    fn from(v: Validations) -> Self {
        let errors = v.into_errors();
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        AppError::Validation {
            code: ErrorCode::ValidationFailed,
            detail,
            errors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_served() {
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().to_string())
            );
        }
        let unique: std::collections::HashSet<_> = ErrorCode::ALL.iter().collect();
        assert_eq!(unique.len(), ErrorCode::ALL.len());
    }
}
