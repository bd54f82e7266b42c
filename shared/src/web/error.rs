//! Errors of the dashboard's fragments, mapped once: the status the API would answer, and a
//! Korean sentence htmx shows in the page's flash area (`app.js` puts any error body there).

use crate::app::AppError;
use crate::http::problem::Problem;
use crate::ports::store::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;

#[derive(Debug, thiserror::Error)]
#[error("{status}: {detail}")]
pub struct WebError {
    pub status: StatusCode,
    pub detail: String,
}

impl WebError {
    pub fn bad_request(detail: impl Into<String>) -> WebError {
        WebError { status: StatusCode::BAD_REQUEST, detail: detail.into() }
    }
}

impl From<Problem> for WebError {
    fn from(p: Problem) -> WebError {
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut detail = p.detail;
        for e in p.errors {
            detail.push_str(&format!(" ({}: {})", e.field, e.message));
        }
        WebError { status, detail }
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> WebError {
        Problem::from(e).into()
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        AppError::from(e).into()
    }
}

impl From<crate::export::ExportError> for WebError {
    fn from(e: crate::export::ExportError) -> WebError {
        tracing::error!(error = %e, "an export could not be written");
        WebError { status: StatusCode::INTERNAL_SERVER_ERROR, detail: e.to_string() }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let heading = match self.status {
            StatusCode::UNAUTHORIZED => "로그인이 필요합니다",
            StatusCode::FORBIDDEN => "권한이 없습니다",
            StatusCode::NOT_FOUND => "찾을 수 없습니다",
            StatusCode::CONFLICT => "지금은 할 수 없습니다",
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "입력을 확인하세요",
            _ => "오류가 났습니다",
        };
        let body = html! {
            div.flash.error role="alert" data-testid="flash-error" {
                strong { (heading) } " " span { (self.detail) }
            }
        };
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        response
    }
}
