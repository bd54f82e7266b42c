//! `POST /api/v1/processes/{id}/advice`: load a process's advice from JSON rows, CSV or the firm's
//! workbook. `?dry_run=true` only reviews; otherwise the rows are applied to the draft process,
//! refused (422, nothing written) while any row is rejected unless `?partial=true`.

use super::ApiState;
use super::auth::{Advisor, Authorized};
use super::extract::Params;
use crate::app::{App, ApplyOutcome};
use crate::domain::ids::ProcessId;
use crate::http::problem::Problem;
use crate::import::{ImportError, RawRow, read_csv, read_xlsx, rows_from_json};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/processes/{id}/advice", post(load_advice))
        .layer(DefaultBodyLimit::max(crate::import::MAX_FILE_BYTES))
}

async fn load_advice(
    State(state): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let process_id: ProcessId = id.parse().map_err(|e: crate::domain::ids::IdError| {
        Problem::bad_request("invalid process id").field("id", e.to_string())
    })?;
    let process =
        state.app.store.get_process(&process_id).await.map_err(|e| Problem::from(crate::app::AppError::from(e)))?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json");
    let rows = read_rows(content_type, &body, App::advice_sheet(process.value.kind)).map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "Bad Request", e.to_string()).field("body", e.to_string())
    })?;
    let flag = |name: &str| matches!(params.get(name), Some("true" | "1" | "yes"));
    if flag("dry_run") {
        let report = state.app.review_advice(&process_id, &rows).await?;
        return Ok(Json(json!({ "applied": false, "report": report })).into_response());
    }
    match state.app.apply_advice(&process_id, &rows, flag("partial")).await? {
        ApplyOutcome::Applied(report) => {
            tracing::info!(by = %caller.name, process = %process_id, "advice applied");
            let summary =
                json!({ "accepted": report.accepted, "rejected": report.rejected, "skipped": report.skipped });
            super::audit(&state, &caller, "process.advice", process_id.as_str(), None, Some(summary)).await;
            Ok(Json(json!({ "applied": true, "report": report })).into_response())
        }
        ApplyOutcome::Refused(report) => {
            let mut problem = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unprocessable Content",
                format!(
                    "{} rows were rejected; nothing was written (fix them, or apply with partial=true)",
                    report.rejected
                ),
            );
            problem.extension = Some(json!({ "report": report }));
            Err(problem)
        }
    }
}

fn read_rows(content_type: &str, body: &[u8], sheet: &str) -> Result<Vec<RawRow>, ImportError> {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        XLSX => read_xlsx(body, sheet),
        "text/csv" => read_csv(body),
        _ => {
            let value: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| ImportError::InvalidJson { reason: e.to_string() })?;
            rows_from_json(&value)
        }
    }
}
