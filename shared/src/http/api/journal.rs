//! `/api/v1/audit` (admins) and `/api/v1/errors` (operators): the logs, by time.

use super::ApiState;
use super::auth::{Admin, Authorized, Operator};
use super::extract::{Limit, Query, page};
use super::openapi::Listing;
use crate::app::AppError;
use crate::domain::time::Timestamp;
use crate::http::problem::Problem;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(audit)).routes(routes!(errors))
}

/// A time window over a log, newest last: by default the last 30 days.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Window {
    /// RFC 3339; by default 30 days ago.
    #[param(example = "2026-01-01T00:00:00Z")]
    from: Option<DateTime<Utc>>,
    /// RFC 3339, exclusive; by default now.
    #[param(example = "2036-01-01T00:00:00Z")]
    until: Option<DateTime<Utc>>,
    #[param(example = 10)]
    pub limit: Option<Limit>,
    pub cursor: Option<String>,
}

impl Window {
    pub fn bounds(&self, now: Timestamp) -> Result<(Timestamp, Timestamp), Problem> {
        let from = self.from.unwrap_or(now - chrono::TimeDelta::days(30));
        let until = self.until.unwrap_or(now + chrono::TimeDelta::minutes(1));
        if from > until {
            return Err(Problem::bad_request("from must not be after until").field("from", "after until"));
        }
        Ok((from, until))
    }
}

/// Who changed what, with the record before and after.
#[utoipa::path(get, path = "/api/v1/audit", tag = "journal", params(Window), security(("staff" = ["admin"])),
    responses((status = 200, body = Listing)))]
async fn audit(
    State(s): State<ApiState>,
    _: Authorized<Admin>,
    Query(w): Query<Window>,
) -> Result<Json<Value>, Problem> {
    let (from, until) = w.bounds(s.app.clock.now())?;
    let found = s.app.store.audit(from, until, &page(w.limit, w.cursor)).await.map_err(AppError::from)?;
    Ok(Json(json!(found)))
}

/// What failed in the background: sends, scheduled jobs, webhook updates.
#[utoipa::path(get, path = "/api/v1/errors", tag = "journal", params(Window), security(("staff" = ["operator"])),
    responses((status = 200, body = Listing)))]
async fn errors(
    State(s): State<ApiState>,
    _: Authorized<Operator>,
    Query(w): Query<Window>,
) -> Result<Json<Value>, Problem> {
    let (from, until) = w.bounds(s.app.clock.now())?;
    let found = s.app.store.errors(from, until, &page(w.limit, w.cursor)).await.map_err(AppError::from)?;
    Ok(Json(json!(found)))
}
