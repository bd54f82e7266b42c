//! The audit log (admins: who changed what, before and after) and the error log (operators: what
//! failed in the background), newest first, a page at a time, as the API's `/audit` and `/errors`
//! allow them.

use super::kit::{before_or_now, before_query, export, newest_first};
use crate::domain::journal::{AuditEntry, ErrorEntry};
use crate::domain::time::Timestamp;
use crate::export::{Cell, Table};
use crate::http::api::auth::{Admin, Authorized, Operator};
use crate::web::layout::{export_buttons, heading, link};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/audit", get(audit_page))
        .route("/ui/audit/export", get(audit_export))
        .route("/ui/errors", get(errors_page))
        .route("/ui/errors/export", get(errors_export))
}

const PER_PAGE: usize = 50;

#[derive(Debug, Default, Deserialize)]
struct LogQuery {
    before: Option<String>,
    format: Option<String>,
}

async fn audit_entries(state: &WebState, q: &LogQuery) -> Result<(Vec<AuditEntry>, Option<Timestamp>), WebError> {
    let app = &state.app;
    let before = before_or_now(q.before.as_deref(), app.clock.now())?;
    Ok(newest_first(
        before,
        PER_PAGE,
        |e: &AuditEntry| e.at,
        |from, until, page| async move { app.store.audit(from, until, &page).await },
    )
    .await?)
}

async fn error_entries(state: &WebState, q: &LogQuery) -> Result<(Vec<ErrorEntry>, Option<Timestamp>), WebError> {
    let app = &state.app;
    let before = before_or_now(q.before.as_deref(), app.clock.now())?;
    Ok(newest_first(
        before,
        PER_PAGE,
        |e: &ErrorEntry| e.at,
        |from, until, page| async move { app.store.errors(from, until, &page).await },
    )
    .await?)
}

/// The links to the newest page and the next older one.
fn pager(base: &str, q: &LogQuery, older: Option<Timestamp>) -> Markup {
    html! {
        div.toolbar {
            @if q.before.is_some() { (link(base, html! { "최신으로" }, "log-newest")) }
            @if let Some(t) = older { (link(&format!("{base}?{}", before_query(t)), html! { "이전 기록 ▶" }, "log-older")) }
        }
    }
}

fn export_url(base: &str, q: &LogQuery) -> String {
    match &q.before {
        Some(b) => {
            format!("/ui{base}/export?before={}", form_urlencoded::byte_serialize(b.as_bytes()).collect::<String>())
        }
        None => format!("/ui{base}/export"),
    }
}

/// A record's change, field by field: what was before and what is after, for the fields that differ.
fn changes(before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> Vec<(String, String, String)> {
    let show = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    match (before.and_then(|b| b.as_object()), after.and_then(|a| a.as_object())) {
        (Some(b), Some(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| (k.clone(), show(b.get(k)), show(a.get(k))))
                .collect()
        }
        (None, Some(a)) => a.iter().map(|(k, v)| (k.clone(), String::new(), show(Some(v)))).collect(),
        (Some(b), None) => b.iter().map(|(k, v)| (k.clone(), show(Some(v)), String::new())).collect(),
        (None, None) => match (before, after) {
            (None, None) => Vec::new(),
            (b, a) => vec![(String::new(), show(b), show(a))],
        },
    }
}

async fn audit_page(
    State(state): State<WebState>,
    _: Authorized<Admin>,
    Query(q): Query<LogQuery>,
) -> Result<Markup, WebError> {
    let (entries, older) = audit_entries(&state, &q).await?;
    Ok(html! {
        (heading("감사 기록"))
        p.muted { "누가 무엇을 바꿨는지, 최근 순으로. 행을 펼치면 바뀐 필드가 보입니다." }
        h2 { "기록" span.count { (entries.len()) "건" } span.spacer {} (export_buttons(&export_url("/audit", &q), "export-audit")) }
        @if entries.is_empty() { p.empty data-testid="no-audit" { "기록이 없습니다." } } @else {
            div.table-wrap {
                table data-testid="audit-table" {
                    thead { tr { th { "시각 (KST)" } th { "누가" } th { "무엇" } th { "대상" } th { "변경" } } }
                    tbody {
                        @for e in &entries {
                            @let diff = changes(e.before.as_ref(), e.after.as_ref());
                            tr data-testid="audit-row" data-action=(e.action) data-entity=(e.entity_id) {
                                td.num { (fmt::kst_short(e.at)) }
                                td { (e.actor) }
                                td { code { (e.action) } }
                                td { (e.entity_id) }
                                td {
                                    @if diff.is_empty() { span.muted { "-" } } @else {
                                        details {
                                            summary { (diff.len()) "개 필드" }
                                            table.diff {
                                                @for (k, b, a) in &diff {
                                                    tr { th { (k) } td.before { (b) } td { "→" } td.after { (a) } }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (pager("/audit", &q, older))
    })
}

async fn audit_export(
    State(state): State<WebState>,
    _: Authorized<Admin>,
    Query(q): Query<LogQuery>,
) -> Result<Response, WebError> {
    let (entries, _) = audit_entries(&state, &q).await?;
    let mut t = Table::new("감사 기록", &["시각 (KST)", "누가", "무엇", "대상", "이전", "이후"]);
    for e in &entries {
        let json = |v: &Option<serde_json::Value>| v.as_ref().map_or(Cell::Empty, |v| Cell::text(v.to_string()));
        t.push(vec![
            Cell::text(fmt::kst_full(e.at)),
            Cell::text(e.actor.clone()),
            Cell::text(e.action.clone()),
            Cell::text(e.entity_id.clone()),
            json(&e.before),
            json(&e.after),
        ]);
    }
    export(&t, q.format.as_deref(), "audit")
}

fn source(s: &str) -> &str {
    match s {
        "webhook" => "텔레그램 업데이트",
        "job" => "예약 작업",
        other => other,
    }
}

async fn errors_page(
    State(state): State<WebState>,
    _: Authorized<Operator>,
    Query(q): Query<LogQuery>,
) -> Result<Markup, WebError> {
    let (entries, older) = error_entries(&state, &q).await?;
    Ok(html! {
        (heading("오류 기록"))
        p.muted { "아무도 보지 못한 곳에서 실패한 일: 처리하지 못한 텔레그램 업데이트, 실패한 예약 작업. 최근 순." }
        h2 { "기록" span.count { (entries.len()) "건" } span.spacer {} (export_buttons(&export_url("/errors", &q), "export-errors")) }
        @if entries.is_empty() { p.empty data-testid="no-errors" { "오류가 없습니다." } } @else {
            div.table-wrap {
                table data-testid="errors-table" {
                    thead { tr { th { "시각 (KST)" } th { "어디서" } th { "무엇" } th { "오류" } } }
                    tbody {
                        @for e in &entries {
                            tr data-testid="error-row" .failed {
                                td.num { (fmt::kst_short(e.at)) }
                                td { (source(&e.source)) }
                                td { code { (e.context) } }
                                td.message { (e.message) }
                            }
                        }
                    }
                }
            }
        }
        (pager("/errors", &q, older))
    })
}

async fn errors_export(
    State(state): State<WebState>,
    _: Authorized<Operator>,
    Query(q): Query<LogQuery>,
) -> Result<Response, WebError> {
    let (entries, _) = error_entries(&state, &q).await?;
    let mut t = Table::new("오류 기록", &["시각 (KST)", "어디서", "무엇", "오류"]);
    for e in &entries {
        t.push(vec![
            Cell::text(fmt::kst_full(e.at)),
            Cell::text(source(&e.source)),
            Cell::text(e.context.clone()),
            Cell::text(e.message.clone()),
        ]);
    }
    export(&t, q.format.as_deref(), "errors")
}
