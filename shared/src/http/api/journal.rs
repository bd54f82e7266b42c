//! `/api/v1/audit` (admins) and `/api/v1/errors` (operators): the logs, by time.

use super::ApiState;
use super::auth::{Admin, Authorized, Operator};
use super::extract::Params;
use crate::app::AppError;
use crate::domain::time::Timestamp;
use crate::http::problem::Problem;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/audit", get(audit)).route("/api/v1/errors", get(errors))
}

/// `from` and `until` (RFC 3339), by default the last 30 days.
pub(super) fn window(s: &ApiState, params: &Params) -> Result<(Timestamp, Timestamp), Problem> {
    let time = |name: &str, default: Timestamp| -> Result<Timestamp, Problem> {
        match params.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                Problem::bad_request(format!("{name} must be an RFC 3339 time")).field(name, v.to_owned())
            }),
        }
    };
    let now = s.app.clock.now();
    Ok((time("from", now - chrono::TimeDelta::days(30))?, time("until", now + chrono::TimeDelta::minutes(1))?))
}

async fn audit(State(s): State<ApiState>, _: Authorized<Admin>, params: Params) -> Result<Json<Value>, Problem> {
    let (from, until) = window(&s, &params)?;
    let page = s.app.store.audit(from, until, &params.page()?).await.map_err(AppError::from)?;
    Ok(Json(json!(page)))
}

async fn errors(State(s): State<ApiState>, _: Authorized<Operator>, params: Params) -> Result<Json<Value>, Problem> {
    let (from, until) = window(&s, &params)?;
    let page = s.app.store.errors(from, until, &params.page()?).await.map_err(AppError::from)?;
    Ok(Json(json!(page)))
}
