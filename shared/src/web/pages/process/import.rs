//! The advice import on a draft participation process: the firm's workbook (or CSV) is reviewed
//! first (a dry run, its report shown as a table) and applied only when staff press apply, which
//! sends the same file again: the server reviews it afresh and never trusts a report.

use crate::app::{App, ApplyOutcome, SellApplyOutcome};
use crate::domain::ids::ProcessId;
use crate::domain::phase::sell::SellOrder;
use crate::domain::process::ProcessKind;
use crate::http::api::auth::{Advisor, Authorized};
use crate::import::{ImportError, RawRow, RowKind, read_csv_rows, read_xlsx_rows};
use crate::web::extract::Id;
use crate::web::pages::actions::{View, answer};
use crate::web::{WebError, WebState};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/processes/{id}/advice", post(load))
        .layer(DefaultBodyLimit::max(crate::import::MAX_FILE_BYTES + 64 * 1024))
}

/// The upload form; its two buttons post the same file, one as a dry run.
pub fn form(process: &ProcessId, kind: ProcessKind) -> Markup {
    let url = format!("/ui/processes/{process}/advice");
    let columns = match App::advice_rows(kind).0 {
        RowKind::Sell => {
            " 엑셀(xlsx, 시트 sell-매도일 또는 sell) 또는 CSV: 기관명, 펀드, 매도수량 (주, %, 잔량), 주문유형 (시가, 시장가, 지정가), 지정가, 조건, 코멘트, 발송"
        }
        RowKind::Bid => " 엑셀(xlsx) 또는 CSV: 기관명, 펀드, 참여가격, 참여수량, 확약여부, 코멘트, 발송",
    };
    html! {
        details.card data-testid="advice-import" open {
            summary { strong { "권고 불러오기" } span.muted { (columns) } }
            form.toolbar hx-encoding="multipart/form-data" hx-target="#import-report" id="advice-form" {
                input type="file" name="file" accept=".xlsx,.csv,text/csv" required data-testid="advice-file";
                button type="submit" hx-post={ (url) "?dry_run=true" } data-testid="advice-review" { "검토" }
                button.primary type="submit" hx-post=(url) data-testid="advice-apply"
                    hx-confirm="검토한 권고를 이 프로세스에 적용할까요? 이전 권고는 바뀝니다." { "적용" }
            }
            div #import-report data-testid="import-report" {}
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
}

/// The uploaded file's rows: a workbook by its zip bytes (the first of `sheets` it has), CSV
/// otherwise.
async fn rows(mut multipart: Multipart, sheets: &[String], kind: RowKind) -> Result<Vec<RawRow>, WebError> {
    while let Some(field) = multipart.next_field().await.map_err(|e| WebError::bad_request(e.body_text()))? {
        if field.name() != Some("file") {
            continue;
        }
        let bytes = field.bytes().await.map_err(|e| WebError::bad_request(e.body_text()))?;
        if !bytes.starts_with(b"PK\x03\x04") {
            return read_csv_rows(&bytes, kind).map_err(|e| WebError::bad_request(e.to_string()));
        }
        let mut missing = None;
        for sheet in sheets {
            match read_xlsx_rows(&bytes, sheet, kind) {
                Err(e @ ImportError::SheetMissing { .. }) => {
                    missing.get_or_insert(e);
                }
                read => return read.map_err(|e| WebError::bad_request(e.to_string())),
            }
        }
        return Err(WebError::bad_request(missing.map_or_else(|| "시트가 없습니다".to_owned(), |e| e.to_string())));
    }
    Err(WebError::bad_request("파일을 골라 주세요"))
}

async fn load(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<ImportQuery>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let process = state.app.store.get_process(&process_id).await?.value;
    let (row_kind, sheets) = App::advice_rows(process.kind);
    let rows = rows(multipart, &sheets, row_kind).await?;
    if row_kind == RowKind::Sell {
        return load_sell_plan(&state, &caller, &process_id, q.dry_run, &rows).await;
    }
    if q.dry_run {
        let report = state.app.review_advice(&process_id, &rows).await?;
        return Ok(report_table(&serde_json::to_value(&report).unwrap_or_default(), false).into_response());
    }
    match state.app.apply_advice(&process_id, &rows, false).await? {
        ApplyOutcome::Applied(report) => {
            let summary = serde_json::json!({ "accepted": report.accepted, "rejected": report.rejected, "skipped": report.skipped });
            state.app.record_audit(&caller.name, "process.advice", process_id.as_str(), None, Some(summary)).await;
            let message = format!("권고 {}행을 적용했습니다.", report.accepted);
            let page = answer(&state, &caller, &View::Process { rep: None }, &process_id, &message).await?;
            // The applied advice changes the whole page, not only the report.
            let mut response = page.into_response();
            response.headers_mut().insert(HeaderName::from_static("hx-retarget"), HeaderValue::from_static("#main"));
            Ok(response)
        }
        ApplyOutcome::Refused(report) => {
            let mut response = report_table(&serde_json::to_value(&report).unwrap_or_default(), true).into_response();
            *response.status_mut() = StatusCode::OK;
            Ok(response)
        }
    }
}

/// [`load`] for a sell process: the same review, audit and page as the API's sell-plan import.
async fn load_sell_plan(
    state: &WebState,
    caller: &crate::http::api::auth::Principal,
    process_id: &ProcessId,
    dry_run: bool,
    rows: &[RawRow],
) -> Result<Response, WebError> {
    if dry_run {
        let report = state.app.review_sell_plan(process_id, rows, None).await?;
        return Ok(report_table(&serde_json::to_value(&report).unwrap_or_default(), false).into_response());
    }
    match state.app.apply_sell_plan(process_id, rows, false, None).await? {
        SellApplyOutcome::Applied(report) => {
            let summary = serde_json::json!({ "accepted": report.accepted, "rejected": report.rejected, "skipped": report.skipped });
            state.app.record_audit(&caller.name, "process.sell_plan", process_id.as_str(), None, Some(summary)).await;
            let message = format!("매도 권고 {}행을 적용했습니다.", report.accepted);
            let page = answer(state, caller, &View::Process { rep: None }, process_id, &message).await?;
            let mut response = page.into_response();
            response.headers_mut().insert(HeaderName::from_static("hx-retarget"), HeaderValue::from_static("#main"));
            Ok(response)
        }
        SellApplyOutcome::Refused(report) => {
            Ok(report_table(&serde_json::to_value(&report).unwrap_or_default(), true).into_response())
        }
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The report, row by row, read from its serialised form (each phase's rows carry their own
/// advice and warnings).
fn report_table(report: &Value, refused: bool) -> Markup {
    let rows = report.get("rows").and_then(Value::as_array).cloned().unwrap_or_default();
    let count = |k: &str| report.get(k).and_then(Value::as_u64).unwrap_or(0);
    html! {
        @if refused {
            div.flash.error data-testid="import-refused" {
                "거부된 행이 " (count("rejected")) "개 있어 아무것도 적용하지 않았습니다. 고친 뒤 다시 검토하세요."
            }
        }
        p data-testid="import-summary" {
            "적용 " strong { (count("accepted")) } "행 · 거부 " strong { (count("rejected")) } "행 · 발송 제외 " (count("skipped")) "행"
        }
        div.table-wrap {
            table data-testid="import-table" {
                thead { tr { th { "행" } th { "기관명" } th { "펀드" } th { "결과" } th { "권고" } th { "경고 · 사유" } } }
                tbody {
                    @for row in &rows {
                        @let outcome = row.get("outcome");
                        @let status = text(outcome.and_then(|o| o.get("status")));
                        tr class=(match status.as_str() { "rejected" => "failed", "accepted" => "", _ => "" })
                            data-testid="import-row" data-status=(status) {
                            td.num { (text(row.get("source").and_then(|s| s.get("sheet")))) " " (text(row.get("source").and_then(|s| s.get("row")))) }
                            td { (text(row.get("client_input"))) }
                            td { (text(row.get("fund_id"))) }
                            td { (match status.as_str() { "accepted" => "적용", "rejected" => "거부", "skipped" => "발송 안 함", other => other }) }
                            td {
                                @if let Some(order) = outcome.and_then(|o| o.get("advice")).and_then(|a| serde_json::from_value::<SellOrder>(a.clone()).ok()) {
                                    (crate::domain::templates::sell::order_summary(&order))
                                } @else if let Some(advice) = outcome.and_then(|o| o.get("advice")) {
                                    @for line in crate::web::pages::lines::fund_lines(None, &serde_json::json!({ "lines": [advice] })) {
                                        (line.values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" / "))
                                    }
                                }
                            }
                            td {
                                @for reason in outcome.and_then(|o| o.get("reasons")).and_then(Value::as_array).into_iter().flatten() {
                                    div.finding.error { (text(Some(reason))) }
                                }
                                @for warning in outcome.and_then(|o| o.get("warnings")).and_then(Value::as_array).into_iter().flatten() {
                                    div.finding { (warning_text(warning)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A warning as its kind and values (`off_tick: price 17,050원`).
fn warning_text(w: &Value) -> String {
    let kind = text(w.get("kind"));
    let lines = crate::web::pages::lines::fund_lines(None, &serde_json::json!({ "lines": [w] }));
    let values = lines
        .first()
        .map(|l| {
            l.values.iter().filter(|(k, _)| k != "kind").map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ")
        })
        .unwrap_or_default();
    if values.is_empty() { kind } else { format!("{kind}: {values}") }
}
