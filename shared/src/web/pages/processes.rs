//! The process list: every process by kickoff, newest first, filtered by state, each with its
//! progress; a row opens the process's page.

use super::common::{Names, all_processes, counts_of};
use crate::domain::process::{Process, ProcessState};
use crate::domain::tracker::TrackerState;
use crate::export::{Cell, Table};
use crate::http::api::auth::{Authorized, Viewer};
use crate::web::export::{Format, download};
use crate::web::layout::{export_buttons, heading, link, progress_bar};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

pub fn routes() -> Router<WebState> {
    Router::new().route("/ui/processes", get(page)).route("/ui/processes/export", get(export))
}

/// The most rows one page shows: each needs its counts read.
const SHOWN: usize = 50;

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    state: Option<String>,
    format: Option<String>,
}

const FILTERS: [(&str, &str); 6] = [
    ("open", "진행 중 · 예정"),
    ("running", "진행 중"),
    ("scheduled", "예약됨"),
    ("draft", "작성 중"),
    ("done", "끝남"),
    ("all", "전체"),
];

fn wanted(filter: &str, state: ProcessState) -> bool {
    match filter {
        "running" => matches!(state, ProcessState::Running | ProcessState::Paused),
        "scheduled" => state == ProcessState::Scheduled,
        "draft" => state == ProcessState::Draft,
        "done" => state.is_final(),
        "all" => true,
        _ => !state.is_final(),
    }
}

struct Listed {
    rows: Vec<(Process, Vec<(TrackerState, usize)>)>,
    total: usize,
    names: Names,
}

async fn read(state: &WebState, filter: &str) -> Result<Listed, WebError> {
    let mut all: Vec<Process> =
        all_processes(&state.app).await?.into_iter().map(|p| p.value).filter(|p| wanted(filter, p.state())).collect();
    all.sort_by_key(|p| std::cmp::Reverse(p.kickoff_at));
    let total = all.len();
    all.truncate(SHOWN);
    let counts = counts_of(&state.app, &all).await?;
    let rows: Vec<_> = all.into_iter().zip(counts).collect();
    let names = Names::read(&state.app, std::iter::empty(), rows.iter().map(|(p, _)| p)).await?;
    Ok(Listed { rows, total, names })
}

fn filter_of(q: &ListQuery) -> &str {
    q.state.as_deref().filter(|s| FILTERS.iter().any(|(k, _)| k == s)).unwrap_or("open")
}

async fn page(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Markup, WebError> {
    let filter = filter_of(&q);
    let listed = read(&state, filter).await?;
    Ok(html! {
        (heading("프로세스"))
        nav.tabs data-testid="process-filters" {
            @for (key, label) in FILTERS {
                @let href = format!("/processes?state={key}");
                a href=(href) hx-get={ "/ui" (href) } hx-target="#main" hx-push-url=(href) role="tab"
                    aria-selected=(if key == filter { "true" } else { "false" }) data-testid={ "filter-" (key) } { (label) }
            }
        }
        div.toolbar {
            span.muted { (listed.total) "건" @if listed.total > SHOWN { " 중 최근 " (SHOWN) "건" } }
            span.spacer {}
            (export_buttons(&format!("/ui/processes/export?state={filter}"), "export-processes"))
        }
        @if listed.rows.is_empty() {
            p.empty { "해당하는 프로세스가 없습니다." }
        } @else {
            div.table-wrap {
                table data-testid="processes-table" {
                    thead { tr { th { "프로세스" } th { "상태" } th { "시작 (KST)" } th { "진행" } } }
                    tbody {
                        @for (p, counts) in &listed.rows {
                            tr data-testid="process-row" data-process=(p.id) {
                                td { (link(&format!("/processes/{}", p.id), html! { (listed.names.process_title(p)) }, "process-link")) }
                                td { span.badge { (fmt::process_state(p.state())) } }
                                td.num { (fmt::kst_short(p.kickoff_at)) }
                                td {
                                    @if p.state() == ProcessState::Draft { span.muted { "예약 전" } }
                                    @else { (progress_bar(counts, "progress")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn export(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let format = Format::parse(q.format.as_deref())?;
    let listed = read(&state, filter_of(&q)).await?;
    let mut columns = vec!["프로세스", "종류", "상태", "시작 (KST)", "전체"];
    columns.extend(TrackerState::ALL.iter().map(|s| fmt::tracker_state(*s)));
    let mut table = Table::new("프로세스", &columns);
    for (p, counts) in &listed.rows {
        let mut row = vec![
            Cell::text(listed.names.process_title(p)),
            Cell::text(fmt::process_kind(p.kind)),
            Cell::text(fmt::process_state(p.state())),
            Cell::text(fmt::kst_full(p.kickoff_at)),
            Cell::Count(counts.iter().map(|(_, n)| *n as u64).sum()),
        ];
        row.extend(
            TrackerState::ALL
                .iter()
                .map(|s| Cell::Count(counts.iter().find(|(st, _)| st == s).map_or(0, |(_, n)| *n as u64))),
        );
        table.push(row);
    }
    download(&table, format, "processes")
}
