//! Errors as RFC 9457 problem details (`application/problem+json`), mapped once, here.

use crate::app::{AppError, Refusal};
use crate::domain::phase::AnswerInputError;
use crate::ports::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra members, such as an import's per-row report.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub extension: Option<serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            extension: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }

    pub fn field(mut self, field: &str, message: impl Into<String>) -> Problem {
        self.errors.push(FieldError { field: field.to_owned(), message: message.into() });
        self
    }

    /// No credentials at all.
    pub fn missing_token() -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", "missing token: send Authorization: Bearer <token>")
    }

    /// Credentials that are not valid (unknown, expired, malformed).
    pub fn invalid_token() -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", "invalid token: sign in again for a new one")
    }

    pub fn forbidden(needed: &str) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "Forbidden", format!("this needs the {needed} role"))
    }

    pub fn no_staff_record() -> Problem {
        Problem::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this sign-in is not on an active staff record: ask an admin to add or reactivate it",
        )
    }

    pub fn unavailable() -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", "the store failed; try again")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// A use case declined: bad input names its field (400); anything else is the state of things
/// (409), with a `reason` a program can tell apart.
fn refused(refusal: Refusal, detail: String) -> Problem {
    let conflict = |reason: &str| {
        let mut p = Problem::new(StatusCode::CONFLICT, "Conflict", detail.clone());
        p.extension = Some(serde_json::json!({ "reason": reason }));
        p
    };
    match refusal {
        Refusal::Invalid { field, reason } => Problem::bad_request(detail).field(&field, reason),
        Refusal::BadAnswer(AnswerInputError::Line { index, error }) => {
            Problem::bad_request(detail).field(&format!("lines[{index}]"), error.to_string())
        }
        Refusal::BadAnswer(e @ (AnswerInputError::Lines(_) | AnswerInputError::NotAnswerable)) => {
            Problem::bad_request(detail).field("lines", e.to_string())
        }
        Refusal::WrongPhase(_) => conflict("wrong_phase"),
        Refusal::NoAdvice => conflict("no_advice"),
        Refusal::NotStartable(_) => conflict("not_startable"),
        Refusal::KickoffPassed { .. } => conflict("kickoff_passed"),
        Refusal::NoFinalPrice { .. } => conflict("no_final_price"),
        Refusal::StockWithdrawn { .. } => conflict("stock_withdrawn"),
        Refusal::NoStock => conflict("no_stock"),
        Refusal::NotAwaitingClient(_) => conflict("not_awaiting_client"),
        Refusal::BotStopped { .. } => conflict("bot_stopped"),
        Refusal::BotRunning => conflict("bot_running"),
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        let detail = e.to_string();
        match e {
            AppError::Store(StoreError::NotFound { .. }) => Problem::new(StatusCode::NOT_FOUND, "Not Found", detail),
            AppError::Store(
                StoreError::Conflict { .. } | StoreError::AlreadyExists { .. } | StoreError::ChatTaken { .. },
            )
            | AppError::Tracker(_)
            | AppError::Process(_)
            | AppError::Stock(_) => Problem::new(StatusCode::CONFLICT, "Conflict", detail),
            AppError::Store(StoreError::ItemTooLarge { .. }) => {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large", detail)
            }
            AppError::Store(StoreError::InvalidCursor) => {
                Problem::bad_request(detail).field("cursor", "not valid for this list")
            }
            AppError::Store(StoreError::Unavailable(_) | StoreError::Corrupt { .. }) => {
                tracing::error!(error = %detail, "store failure");
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", "the store failed; try again")
            }
            AppError::Telegram(_) | AppError::Scheduler(_) => {
                Problem::new(StatusCode::BAD_GATEWAY, "Bad Gateway", detail)
            }
            AppError::Refused(refusal) => refused(refusal, detail),
        }
    }
}
