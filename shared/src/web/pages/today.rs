//! Today: what staff look at first on a book-building morning. The processes running or kicking
//! off today with their progress; every client still silent across processes, the longest
//! waiting first, with a remind button; escalations and failed sends.

use super::actions::{View, tracker_buttons};
use super::common::{Names, all_processes, counts_of, open_in_state, silent};
use crate::domain::ids::ProcessId;
use crate::domain::process::{Process, ProcessState};
use crate::domain::staff::Role;
use crate::domain::time::kst_date;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::export::{Cell, Table};
use crate::http::api::auth::{Authorized, Viewer};
use crate::web::export::{Format, FormatQuery, download};
use crate::web::layout::{export_buttons, heading, link, progress_bar, state_badge};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use std::collections::HashMap;

pub fn routes() -> Router<WebState> {
    Router::new().route("/ui/today", get(page)).route("/ui/today/silent", get(export_silent))
}

/// What the page shows, read once.
struct Today {
    now: crate::domain::time::Timestamp,
    /// Running, paused, or kicking off today, with their counts by state.
    processes: Vec<(Process, Vec<(TrackerState, usize)>)>,
    /// The longest waiting, at most [`SHOWN`] on the page.
    silent: Vec<Tracker>,
    /// Whether more clients are waiting than the page shows.
    more: bool,
    failed: Vec<Tracker>,
    by_id: HashMap<ProcessId, Process>,
    names: Names,
}

/// The most silent clients the page lists; the export has them all.
const SHOWN: usize = 100;

/// What is read: the page, or only the silent list for its download.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    Page,
    SilentOnly,
}

impl Today {
    async fn read(state: &WebState, read: Read) -> Result<Today, WebError> {
        let app = &state.app;
        let now = app.clock.now();
        let today = kst_date(now);
        let by_id: HashMap<ProcessId, Process> =
            all_processes(app).await?.into_iter().map(|p| (p.value.id.clone(), p.value)).collect();
        let limit = (read == Read::Page).then_some(SHOWN);
        let on_card = |p: &&Process| {
            let live = matches!(p.state(), ProcessState::Running | ProcessState::Paused);
            read == Read::Page && (live || (kst_date(p.kickoff_at) == today && !p.state().is_final()))
        };
        let mut cards: Vec<Process> = by_id.values().filter(on_card).cloned().collect();
        cards.sort_by(|a, b| (a.kickoff_at, &a.id).cmp(&(b.kickoff_at, &b.id)));
        // A draft's card says it is not scheduled yet instead of counts.
        let counts = counts_of(&state.app, &cards).await?;
        let processes: Vec<_> = cards.into_iter().zip(counts).collect();
        let (silent, more) = silent(app, &by_id, limit).await?;
        let failed: Vec<Tracker> = if read == Read::Page {
            open_in_state(app, TrackerState::Failed)
                .await?
                .into_iter()
                .map(|t| t.value)
                .filter(|t| by_id.get(&t.process_id).is_some_and(|p| !p.state().is_final()))
                .collect()
        } else {
            Vec::new()
        };
        let clients = silent.iter().chain(&failed).map(|t| &t.client_id);
        let shown = silent.iter().chain(&failed).filter_map(|t| by_id.get(&t.process_id));
        let names = Names::read(app, clients, shown.chain(processes.iter().map(|(p, _)| p))).await?;
        Ok(Today { now, processes, silent, more, failed, by_id, names })
    }

    fn title_of(&self, process: &ProcessId) -> String {
        self.by_id.get(process).map_or_else(|| process.to_string(), |p| self.names.process_title(p))
    }
}

async fn page(State(state): State<WebState>, Authorized(caller, _): Authorized<Viewer>) -> Result<Markup, WebError> {
    let today = Today::read(&state, Read::Page).await?;
    Ok(render(&today, caller.role))
}

pub(super) async fn render_for(state: &WebState, role: Role) -> Result<Markup, WebError> {
    Ok(render(&Today::read(state, Read::Page).await?, role))
}

fn render(t: &Today, role: Role) -> Markup {
    let escalated: Vec<&Tracker> = t.silent.iter().filter(|tr| tr.escalated_at().is_some()).collect();
    html! {
        (heading("오늘"))
        p.muted { (fmt::kst_full(t.now)) " 기준" }

        h2 { "진행 중인 프로세스" span.count { (t.processes.len()) "건" } }
        @if t.processes.is_empty() {
            p.empty data-testid="no-processes" { "오늘 진행하거나 시작하는 프로세스가 없습니다." }
        }
        div.cards data-testid="today-processes" {
            @for (p, counts) in &t.processes {
                @let waiting: usize = counts.iter().filter(|(s, _)| matches!(s, TrackerState::Sent | TrackerState::Acknowledged)).map(|(_, n)| n).sum();
                div.card data-testid="process-card" data-process=(p.id) {
                    h3 { (link(&format!("/processes/{}", p.id), html! { (t.names.process_title(p)) }, "process-link")) }
                    div.meta {
                        span.badge { (fmt::process_state(p.state())) } " "
                        "시작 " (fmt::kst_short(p.kickoff_at))
                        @if waiting > 0 { " · 미응답 " strong { (waiting) } "곳" }
                    }
                    @if p.state() == ProcessState::Draft {
                        p.finding data-testid="not-scheduled" { "아직 예약되지 않았습니다: 권고를 확인하고 예약하거나 시작하세요." }
                    } @else {
                        (progress_bar(counts, "progress"))
                    }
                }
            }
        }

        h2 #silent {
            "미응답 고객사"
            span.count {
                @if t.more { "오래된 " (t.silent.len()) "곳 · 나머지는 내려받기로" } @else { (t.silent.len()) "곳 · 오래된 순" }
            }
            span.spacer {}
            (export_buttons("/ui/today/silent", "export-silent"))
        }
        @if t.silent.is_empty() {
            p.empty { "모든 고객사가 답했습니다." }
        } @else {
            div.table-wrap {
                table data-testid="silent-table" {
                    thead { tr { th { "대기" } th { "고객사" } th { "프로세스" } th { "상태" } th.hide-narrow { "독촉" } th { "" } } }
                    tbody {
                        @for tr in &t.silent {
                            tr data-testid="silent-row" data-client=(tr.client_id) data-process=(tr.process_id) {
                                td.num { (fmt::elapsed(tr.state_since(), t.now)) }
                                td { (t.names.client(&tr.client_id)) }
                                td { (link(&format!("/processes/{}", tr.process_id), html! { (t.title_of(&tr.process_id)) }, "silent-process")) }
                                td {
                                    (state_badge(tr.state()))
                                    @if tr.escalated_at().is_some() { " " span.badge.escalated { "에스컬레이션" } }
                                }
                                td.hide-narrow.num { (tr.reminders_total()) "회" }
                                td.buttons { (tracker_buttons(role, tr, &View::Today)) }
                            }
                        }
                    }
                }
            }
        }

        h2 { "에스컬레이션" span.count { (escalated.len()) "곳" } }
        @if escalated.is_empty() {
            p.empty { "에스컬레이션된 고객사가 없습니다." }
        } @else {
            div.table-wrap {
                table data-testid="escalated-table" {
                    thead { tr { th { "고객사" } th { "프로세스" } th { "에스컬레이션" } th { "독촉" } } }
                    tbody {
                        @for tr in &escalated {
                            tr {
                                td { (t.names.client(&tr.client_id)) }
                                td { (t.title_of(&tr.process_id)) }
                                td { @if let Some(at) = tr.escalated_at() { (fmt::kst_short(at)) } }
                                td.num { (tr.reminders_total()) "회" }
                            }
                        }
                    }
                }
            }
        }

        h2 { "발송 실패" span.count { (t.failed.len()) "곳" } }
        @if t.failed.is_empty() {
            p.empty { "실패한 발송이 없습니다." }
        } @else {
            div.table-wrap {
                table data-testid="failed-table" {
                    thead { tr { th { "고객사" } th { "프로세스" } th { "사유" } th { "" } } }
                    tbody {
                        @for tr in &t.failed {
                            tr.failed data-testid="failed-row" data-client=(tr.client_id) {
                                td { (t.names.client(&tr.client_id)) }
                                td { (t.title_of(&tr.process_id)) }
                                td { (tr.failure().unwrap_or("-")) }
                                td.buttons { (tracker_buttons(role, tr, &View::Today)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The silent list as a file.
async fn export_silent(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<FormatQuery>,
) -> Result<Response, WebError> {
    let format = Format::parse(q.format.as_deref())?;
    let t = Today::read(&state, Read::SilentOnly).await?;
    let mut table = Table::new(
        "미응답 고객사",
        &["고객사", "프로세스", "상태", "대기 시작 (KST)", "대기 (분)", "독촉 횟수", "에스컬레이션"],
    );
    for tr in &t.silent {
        let waited = u64::try_from((t.now - tr.state_since()).num_minutes()).unwrap_or(0);
        table.push(vec![
            Cell::text(t.names.client(&tr.client_id)),
            Cell::text(t.title_of(&tr.process_id)),
            Cell::text(fmt::tracker_state(tr.state())),
            Cell::text(fmt::kst_full(tr.state_since())),
            Cell::Count(waited),
            Cell::Count(u64::from(tr.reminders_total())),
            tr.escalated_at().map_or(Cell::Empty, |at| Cell::text(fmt::kst_full(at))),
        ]);
    }
    download(&table, format, "silent-clients")
}
