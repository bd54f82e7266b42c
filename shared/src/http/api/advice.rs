//! `POST /api/v1/processes/{id}/advice`: load a process's advice from JSON rows, CSV or the firm's
//! workbook. `?dry_run=true` only reviews; otherwise the rows are applied to the draft process,
//! refused (422, nothing written) while any row is rejected unless `?partial=true`.

use super::ApiState;
use super::auth::{Advisor, Authorized};
use super::extract::{Id, Query};
use super::openapi::problem;
use crate::app::{App, ApplyOutcome, SellApplyOutcome};
use crate::domain::ids::ProcessId;
use crate::export::XLSX_CONTENT_TYPE as XLSX;
use crate::http::problem::Problem;
use crate::import::{ImportError, RawRow, RowKind, read_csv_rows, read_xlsx_first, rows_from_json_of};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{IntoParams, IntoResponses, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(load_advice)).layer(DefaultBodyLimit::max(crate::import::MAX_FILE_BYTES))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AdviceQuery {
    /// Only review the rows; nothing is written.
    #[serde(default)]
    #[param(example = false)]
    dry_run: bool,
    /// Apply the accepted rows even when others are rejected.
    #[serde(default)]
    #[param(example = false)]
    partial: bool,
    /// Sell plans only: the previous session's close, which makes a later day's price limits
    /// exact (±30% of it); without it they are only bounded, and a limit outside them is a warning.
    #[param(value_type = Option<u64>, minimum = 1)]
    previous_close: Option<crate::domain::money::Price>,
}

/// One row of advice as JSON; the same columns as the workbook's sheet.
struct AdviceRows;

impl PartialSchema for AdviceRows {
    fn schema() -> RefOr<Schema> {
        let scalar = || {
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Number))
                .item(ObjectBuilder::new().schema_type(Type::Boolean))
                .item(ObjectBuilder::new().schema_type(Type::Null))
        };
        let row = |fields: &[&str], description: &str| {
            fields
                .iter()
                .fold(ObjectBuilder::new().schema_type(Type::Object), |o, f| o.property(*f, scalar()))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .description(Some(description))
        };
        let bids = row(
            &["client", "fund", "price", "quantity", "lockup", "comment", "send"],
            "A participation's bid: 기관명, 펀드, 참여가격, 참여수량, 확약여부, 코멘트 and 발송 (blank means send).",
        );
        let orders = row(
            &crate::import::SELL_FIELDS,
            "A sell process's order: 기관명, 펀드, 매도수량 (shares, 50%, 전량 or 잔량), 주문유형 (시가, 시장가, \
             지정가), 지정가 (limit_price), 조건, 코멘트 and 발송.",
        );
        let array = |items: ObjectBuilder| ArrayBuilder::new().items(items).max_items(Some(crate::import::MAX_ROWS));
        // Either kind's rows: which one a process takes depends on its kind.
        utoipa::openapi::schema::AnyOfBuilder::new().item(array(bids)).item(array(orders)).into()
    }
}

impl ToSchema for AdviceRows {}

/// The report on every row; 422 when rows were rejected and nothing was written.
struct AdviceResponses;

impl IntoResponses for AdviceResponses {
    fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let ok = utoipa::openapi::ResponseBuilder::new()
            .description(
                "The report: each row accepted, rejected (with why) or skipped; `applied` says whether it was written",
            )
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new().schema(Some(ObjectBuilder::new())).build(),
            )
            .build();
        [
            ("200".to_owned(), ok.into()),
            ("422".to_owned(), problem("Rows were rejected and nothing was written: `report` says which").into()),
        ]
        .into()
    }
}

/// Loads a process's advice from JSON rows, CSV or the firm's workbook (xlsx): a participation's
/// bids (sheet `firstDay` or `lastDay`), or a sell process's plan, one row per order (sheet
/// `sell-<sale date>`, else `sell`; columns 기관명, 펀드, 매도수량, 주문유형, 지정가, 조건, 코멘트, 발송).
#[utoipa::path(post, path = "/api/v1/processes/{id}/advice", tag = "processes",
    params(("id" = ProcessId, Path, example = "example-first-day"), AdviceQuery),
    request_body(content((AdviceRows = "application/json", example = json!([{"client": "(가상)누리자산운용",
        "fund": "공모 코벤", "price": 45000, "quantity": 100000, "lockup": "미확약", "comment": "밴드 상단"}])),
        (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    security(("staff" = ["advisor"])), responses(AdviceResponses))]
async fn load_advice(
    State(state): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<AdviceQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let process =
        state.app.store.get_process(&process_id).await.map_err(|e| Problem::from(crate::app::AppError::from(e)))?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let (row_kind, sheets) = App::advice_rows(process.value.kind);
    let rows = read_rows(content_type, &body, &sheets, row_kind).map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "Bad Request", e.to_string()).field("body", e.to_string())
    })?;
    if row_kind == RowKind::Sell {
        return load_sell_plan(&state, &caller, &process_id, &q, &rows).await;
    }
    if q.previous_close.is_some() {
        return Err(
            Problem::bad_request("previous_close is for sell plans").field("previous_close", "only for a sell process")
        );
    }
    if q.dry_run {
        let report = state.app.review_advice(&process_id, &rows).await?;
        return Ok(Json(json!({ "applied": false, "report": report })).into_response());
    }
    match state.app.apply_advice(&process_id, &rows, q.partial).await? {
        ApplyOutcome::Applied(report) => {
            tracing::info!(by = %caller.name, process = %process_id, "advice applied");
            let summary =
                json!({ "accepted": report.accepted, "rejected": report.rejected, "skipped": report.skipped });
            super::audit(&state, &caller, "process.advice", process_id.as_str(), None, Some(summary)).await;
            Ok(Json(json!({ "applied": true, "report": report })).into_response())
        }
        ApplyOutcome::Refused(report) => Err(refused(report.rejected, json!({ "report": report }))),
    }
}

/// [`load_advice`] for a sell process: the same report, dry run and partial rules.
async fn load_sell_plan(
    state: &ApiState,
    caller: &super::auth::Principal,
    process_id: &ProcessId,
    q: &AdviceQuery,
    rows: &[RawRow],
) -> Result<Response, Problem> {
    if q.dry_run {
        let report = state.app.review_sell_plan(process_id, rows, q.previous_close).await?;
        return Ok(Json(json!({ "applied": false, "report": report })).into_response());
    }
    match state.app.apply_sell_plan(process_id, rows, q.partial, q.previous_close).await? {
        SellApplyOutcome::Applied(report) => {
            tracing::info!(by = %caller.name, process = %process_id, "sell plan applied");
            let summary =
                json!({ "accepted": report.accepted, "rejected": report.rejected, "skipped": report.skipped });
            super::audit(state, caller, "process.sell_plan", process_id.as_str(), None, Some(summary)).await;
            Ok(Json(json!({ "applied": true, "report": report })).into_response())
        }
        SellApplyOutcome::Refused(report) => Err(refused(report.rejected, json!({ "report": report }))),
    }
}

/// 422: rows were rejected and nothing was written.
fn refused(rejected: usize, report: serde_json::Value) -> Problem {
    let mut problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Unprocessable Content",
        if rejected == 0 {
            "no row was accepted; nothing was written".to_owned()
        } else {
            format!("{rejected} rows were rejected; nothing was written (fix them, or apply with partial=true)")
        },
    );
    problem.extension = Some(report);
    problem
}

/// The rows of the body, read by its content type; without one (or a generic one), by its bytes:
/// a workbook is a zip file, JSON starts with `[` or `{`, anything else is read as CSV.
fn read_rows(
    content_type: Option<&str>,
    body: &[u8],
    sheets: &[String],
    kind: RowKind,
) -> Result<Vec<RawRow>, ImportError> {
    let essence = content_type.map(|c| c.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    let format = match essence.as_deref() {
        None | Some("application/octet-stream") => sniff(body),
        Some(declared) => declared,
    };
    match format {
        XLSX => read_xlsx_first(body, sheets, kind),
        "text/csv" => read_csv_rows(body, kind),
        _ => {
            let value: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| ImportError::InvalidJson { reason: e.to_string() })?;
            rows_from_json_of(&value, kind)
        }
    }
}

fn sniff(body: &[u8]) -> &'static str {
    if body.starts_with(b"PK\x03\x04") {
        XLSX
    } else if matches!(body.iter().find(|b| !b.is_ascii_whitespace()), Some(b'[' | b'{')) {
        "application/json"
    } else {
        "text/csv"
    }
}
