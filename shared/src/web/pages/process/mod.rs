//! A process's page: its clients one row each (state, who acknowledged, the advice, the answer,
//! deviations highlighted, evidence), a tab per representative and 내 고객사, remind one or all
//! silent, confirm an answer beside its screenshot, skip, retry a failed send, and the advice
//! import with its dry-run report.

mod confirm;
mod control;
mod import;

use super::actions::{View, tracker_buttons};
use super::common::Names;
use super::lines::fund_lines;
use crate::domain::client::Client;
use crate::domain::ids::{ClientId, ProcessId, StaffId};
use crate::domain::phase::Severity;
use crate::domain::process::{Process, ProcessKind, ProcessState};
use crate::domain::staff::Role;
use crate::domain::templates;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::export::{Cell, Table};
use crate::http::api::auth::{Authorized, Principal, Viewer};
use crate::web::export::{Format, download};
use crate::web::extract::Id;
use crate::web::layout::{export_buttons, heading, progress_bar, state_badge};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/processes/{id}", get(page))
        .route("/ui/processes/{id}/export", get(export))
        .merge(confirm::routes())
        .merge(control::routes())
        .merge(import::routes())
}

#[derive(Debug, Default, Deserialize)]
struct TabQuery {
    rep: Option<String>,
    format: Option<String>,
    /// A client whose confirm form opens with the page (a link from a staff notice, say).
    confirm: Option<String>,
}

/// The tab `me` is the caller's own clients.
const MINE: &str = "me";

/// What the page shows, read once.
struct ProcessPage {
    process: Process,
    counts: Vec<(TrackerState, usize)>,
    /// Every tracker, by client id.
    trackers: Vec<Tracker>,
    names: Names,
    /// Representatives with clients in this process, by id, with their names.
    reps: BTreeMap<StaffId, String>,
    now: crate::domain::time::Timestamp,
}

impl ProcessPage {
    async fn read(state: &WebState, process_id: &ProcessId) -> Result<ProcessPage, WebError> {
        let app = &state.app;
        let process = app.store.get_process(process_id).await?.value;
        let mut trackers: Vec<Tracker> =
            app.store.trackers_of_process(process_id).await?.into_iter().map(|t| t.value).collect();
        // Counted from the trackers read anyway: exact, and no second read for a draft.
        let counts =
            TrackerState::ALL.iter().map(|s| (*s, trackers.iter().filter(|t| t.state() == *s).count())).collect();
        trackers.sort_by(|a, b| a.client_id.as_str().cmp(b.client_id.as_str()));
        let names = Names::read(app, trackers.iter().map(|t| &t.client_id), std::iter::once(&process)).await?;
        let staff = app.active_staff().await?;
        let reps = names
            .clients
            .values()
            .map(|c| {
                let name =
                    staff.by_id.get(&c.representative).map_or_else(|| c.representative.to_string(), |s| s.name.clone());
                (c.representative.clone(), name)
            })
            .collect();
        Ok(ProcessPage { process, counts, trackers, names, reps, now: app.clock.now() })
    }

    /// The trackers on a tab: a representative's clients, the caller's own, or all.
    fn on_tab<'a>(&'a self, caller: &Principal, rep: Option<&str>) -> Vec<&'a Tracker> {
        let wanted: Option<String> = match rep {
            Some(MINE) => Some(caller.staff_id.as_ref().map_or_else(String::new, ToString::to_string)),
            Some(rep) => Some(rep.to_owned()),
            None => None,
        };
        self.trackers
            .iter()
            .filter(|t| {
                wanted.as_ref().is_none_or(|rep| {
                    self.names.clients.get(&t.client_id).is_some_and(|c| c.representative.as_str() == rep)
                })
            })
            .collect()
    }
}

/// The trackers of a tab, for an action on all of them (remind every silent client).
pub async fn trackers_on_tab(
    state: &WebState,
    caller: &Principal,
    process_id: &ProcessId,
    rep: Option<&str>,
) -> Result<Vec<Tracker>, WebError> {
    let page = ProcessPage::read(state, process_id).await?;
    Ok(page.on_tab(caller, rep).into_iter().cloned().collect())
}

async fn page(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Viewer>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<TabQuery>,
) -> Result<Markup, WebError> {
    let rep = q.rep.as_deref().filter(|r| !r.is_empty());
    let open = q.confirm.filter(|_| caller.role.allows(Role::Operator)).and_then(|c| c.parse::<ClientId>().ok());
    let page = ProcessPage::read(&state, &process_id).await?;
    Ok(render(&page, &caller, rep, open.as_ref()))
}

pub async fn render_for(
    state: &WebState,
    caller: &Principal,
    process_id: &ProcessId,
    rep: Option<&str>,
) -> Result<Markup, WebError> {
    let page = ProcessPage::read(state, process_id).await?;
    Ok(render(&page, caller, rep, None))
}

fn tab_href(process: &ProcessId, rep: Option<&str>) -> String {
    match rep {
        Some(rep) => {
            let q = form_urlencoded::Serializer::new(String::new()).append_pair("rep", rep).finish();
            format!("/processes/{process}?{q}")
        }
        None => format!("/processes/{process}"),
    }
}

/// The page; with `open`, that client's confirm form loads into the panel at once.
fn render(page: &ProcessPage, caller: &Principal, rep: Option<&str>, open: Option<&ClientId>) -> Markup {
    let p = &page.process;
    let role = caller.role;
    let view = View::Process { rep: rep.map(str::to_owned) };
    let shown = page.on_tab(caller, rep);
    let silent = shown.iter().filter(|t| t.awaits_client()).count();
    let title = page.names.process_title(p);
    let export_url = match rep {
        Some(rep) => format!(
            "/ui/processes/{}/export?{}",
            p.id,
            form_urlencoded::Serializer::new(String::new()).append_pair("rep", rep).finish()
        ),
        None => format!("/ui/processes/{}/export", p.id),
    };
    html! {
        (heading(&title))
        p.muted data-testid="process-meta" {
            span.badge data-testid="process-state" data-state=(p.state()) { (fmt::process_state(p.state())) } " "
            (fmt::process_kind(p.kind)) " · 시작 " (fmt::kst_short(p.kickoff_at)) " · " (p.id)
        }
        (progress_bar(&page.counts, "process-progress"))
        @if role.allows(Role::Advisor) { div.toolbar { (control::buttons(role, p, &view)) } }

        @if role.allows(Role::Advisor) && p.state() == ProcessState::Draft && matches!(p.kind, ProcessKind::Participation { .. } | ProcessKind::Sell { .. }) {
            (import::form(&p.id, p.kind))
        }

        nav.tabs role="tablist" data-testid="rep-tabs" {
            (tab(&p.id, None, "전체", rep.is_none()))
            @if caller.staff_id.is_some() {
                (tab(&p.id, Some(MINE), "내 고객사", rep == Some(MINE)))
            }
            @for (id, name) in &page.reps {
                (tab(&p.id, Some(id.as_str()), name, rep == Some(id.as_str())))
            }
        }

        div.toolbar {
            span.muted { (shown.len()) "곳 · 미응답 " (silent) "곳" }
            span.spacer {}
            @if role.allows(Role::Operator) && silent > 0 && p.state() == ProcessState::Running {
                button type="button" hx-post={ "/ui/processes/" (p.id) "/remind-silent" (view.query()) } hx-target="#main"
                    hx-confirm={ "미응답 고객사 " (silent) "곳에 독촉 메시지를 보낼까요?" }
                    data-testid="remind-all" id="remind-all" { "미응답 모두 독촉" }
            }
            (export_buttons(&export_url, "export-process"))
        }

        @match open {
            Some(client) => div #panel hx-trigger="load"
                hx-get={ "/ui/processes/" (p.id) "/trackers/" (client) "/confirm" (view.query()) } {},
            None => div #panel {},
        }

        @if shown.is_empty() {
            p.empty { "이 탭에는 고객사가 없습니다." }
        } @else {
            div.table-wrap {
                table data-testid="trackers-table" {
                    thead { tr {
                        th { "고객사" } th { "상태" } th.hide-narrow { "확인자" } th { "권고" } th { "답변" }
                        th { "차이" } th.hide-narrow { "증빙" } th.hide-narrow { "독촉" } th { "" }
                    } }
                    tbody {
                        @for t in &shown {
                            (row(page, t, role, &view))
                        }
                    }
                }
            }
        }
    }
}

fn tab(process: &ProcessId, rep: Option<&str>, label: &str, selected: bool) -> Markup {
    let href = tab_href(process, rep);
    let testid = format!("tab-{}", rep.unwrap_or("all"));
    html! {
        a href=(href) hx-get={ "/ui" (href) } hx-target="#main" hx-push-url=(href) role="tab"
            aria-selected=(if selected { "true" } else { "false" }) data-testid=(testid) { (label) }
    }
}

fn row(page: &ProcessPage, t: &Tracker, role: Role, view: &View) -> Markup {
    let client = page.names.clients.get(&t.client_id);
    let deviations = t.deviations();
    let class = match t.state() {
        TrackerState::Failed => "failed",
        // Info findings (what was sold, shares carried to the next date) are no deviation.
        _ if deviations.iter().any(|f| f.severity() >= Severity::Warning) => "deviates",
        _ => "",
    };
    html! {
        tr class=(class) data-testid="tracker-row" data-client=(t.client_id) data-state=(t.state().as_str())
            id={ "row-" (t.client_id) } {
            td.client { (page.names.client(&t.client_id)) }
            td {
                (state_badge(t.state()))
                @if t.escalated_at().is_some() { " " span.badge.escalated { "에스컬레이션" } }
                br; span.muted { (fmt::elapsed(t.state_since(), page.now)) " 전" }
                @if let Some(why) = t.failure() { br; span.finding.error { (why) } }
            }
            td.hide-narrow { @if let Some(by) = t.acknowledged_by() { (by.name) } @else { span.muted { "-" } } }
            td { (lines_list(client, t.advice())) }
            td {
                @match t.answer() {
                    Some(answer) => (lines_list(client, answer)),
                    None => span.muted { "-" },
                }
                @if let Some(by) = t.confirmed_by() { br; span.muted { "확정: " (by) } }
            }
            td.deviations data-testid="deviations" {
                @for f in &deviations {
                    // The staff group's own sentence; its template escapes every name in it.
                    div.finding.info[f.severity() == Severity::Info].error[f.severity() == Severity::Error] {
                        (PreEscaped(client.map_or_else(String::new, |c| templates::finding(c, f))))
                    }
                }
            }
            td.hide-narrow {
                @if t.evidence().is_empty() { span.muted { "-" } } @else { (t.evidence().len()) "개" }
            }
            td.hide-narrow.num { (t.reminders_total()) "회" }
            td.buttons { (tracker_buttons(role, t, view)) }
        }
    }
}

fn lines_list(client: Option<&Client>, content: &impl serde::Serialize) -> Markup {
    html! {
        ul.lines {
            @for line in fund_lines(client, content) {
                li { (line.sentence()) @if let Some(c) = line.comment() { " " span.comment { (c) } } }
            }
        }
    }
}

/// The tab's rows as a file: one line per fund, so a workbook can sum them.
async fn export(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Viewer>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<TabQuery>,
) -> Result<Response, WebError> {
    let format = Format::parse(q.format.as_deref())?;
    let page = ProcessPage::read(&state, &process_id).await?;
    let rep = q.rep.as_deref().filter(|r| !r.is_empty());
    let mut table = Table::new(
        "고객사별 현황",
        &["고객사", "상태", "확인자", "펀드", "권고", "답변", "차이", "증빙", "독촉 횟수", "상태 변경 (KST)"],
    );
    for t in page.on_tab(&caller, rep) {
        let client = page.names.clients.get(&t.client_id);
        let advice = fund_lines(client, t.advice());
        let answer = t.answer().map(|a| fund_lines(client, a)).unwrap_or_default();
        let deviations: Vec<String> = t
            .deviations()
            .iter()
            .map(|f| client.map_or_else(String::new, |c| strip_tags(&templates::finding(c, f))))
            .collect();
        let funds = advice.len().max(1);
        for i in 0..funds {
            let fund = advice.get(i);
            let answered = fund.and_then(|f| answer.iter().find(|a| a.fund_id == f.fund_id));
            table.push(vec![
                Cell::text(page.names.client(&t.client_id)),
                Cell::text(fmt::tracker_state(t.state())),
                t.acknowledged_by().map_or(Cell::Empty, |a| Cell::text(a.name.clone())),
                fund.map_or(Cell::Empty, |f| Cell::text(f.fund.clone())),
                fund.map_or(Cell::Empty, |f| {
                    Cell::text(f.values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" / "))
                }),
                answered.map_or(Cell::Empty, |a| {
                    Cell::text(a.values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" / "))
                }),
                if i == 0 { Cell::text(deviations.join("\n")) } else { Cell::Empty },
                Cell::Count(t.evidence().len() as u64),
                Cell::Count(u64::from(t.reminders_total())),
                Cell::text(fmt::kst_full(t.state_since())),
            ]);
        }
    }
    download(&table, format, &format!("process-{process_id}"))
}

/// Telegram HTML as plain text, for a spreadsheet cell.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}
