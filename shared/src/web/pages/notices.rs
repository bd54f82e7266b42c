//! Notices (일반 공지): the notices sent and planned, and for advisors a composer. A notice is made
//! as the API makes it: a draft process first (its kickoff chosen then), then its text and
//! audience, previewed with the API's dry run (who gets it, who not and why, what the first
//! recipient reads), applied, and scheduled or started now.

use super::actions::{audit_start, flash};
use super::clients::{FUND_KINDS, all_staff};
use super::common::all_processes;
use super::kit::{Fields, export, select, telegram_text};
use crate::app::{Audience, AudienceOutcome, AudiencePlan};
use crate::domain::client::Client;
use crate::domain::ids::{ClientId, ProcessId, StaffId};
use crate::domain::phase::Advice;
use crate::domain::phase::notice::{NoticeAdvice, NoticeText};
use crate::domain::process::{Process, ProcessAction, ProcessKind, ProcessState, ReminderPolicy};
use crate::domain::staff::Role;
use crate::domain::text::Label;
use crate::domain::time::{Timestamp, at_kst, kst};
use crate::domain::tracker::TrackerState;
use crate::export::{Cell, Table};
use crate::http::api::auth::{Advisor, Authorized, Principal, Viewer};
use crate::ports::store::PageRequest;
use crate::web::extract::Id;
use crate::web::layout::{export_buttons, heading, link, may, progress_bar};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{NaiveDateTime, Timelike};
use maud::{Markup, html};
use serde_json::json;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/notices", get(page).post(create))
        .route("/ui/notices/export", get(export_list))
        .route("/ui/notices/{id}", get(detail))
        .route("/ui/notices/{id}/preview", post(preview))
        .route("/ui/notices/{id}/audience", post(apply))
        .route("/ui/notices/{id}/schedule", post(schedule))
        .route("/ui/notices/{id}/start", post(start))
        .route("/ui/notices/{id}/cancel", post(cancel))
}

/// A notice process with its title (from its first tracker) and its counts.
struct Row {
    process: Process,
    title: Option<String>,
    counts: Vec<(TrackerState, usize)>,
}

async fn notice_of(state: &WebState, id: &ProcessId) -> Result<Option<NoticeAdvice>, WebError> {
    let first = state.app.store.trackers_page(id, None, &PageRequest::first(1)).await?;
    Ok(first.items.into_iter().next().and_then(|t| match t.value.advice() {
        Advice::Notice(n) => Some(n.clone()),
        _ => None,
    }))
}

async fn rows(state: &WebState) -> Result<Vec<Row>, WebError> {
    let mut notices: Vec<Process> = all_processes(&state.app)
        .await?
        .into_iter()
        .map(|p| p.value)
        .filter(|p| p.kind == ProcessKind::Notice)
        .collect();
    notices.sort_by_key(|p| std::cmp::Reverse(p.kickoff_at));
    notices.truncate(100);
    let mut out = Vec::new();
    for p in notices {
        let title = notice_of(state, &p.id).await?.map(|n| n.title.to_string());
        let counts = state.app.state_counts(&p.id).await?;
        out.push(Row { process: p, title, counts });
    }
    Ok(out)
}

async fn page(State(state): State<WebState>, Authorized(caller, _): Authorized<Viewer>) -> Result<Markup, WebError> {
    let rows = rows(&state).await?;
    let now = state.app.clock.now();
    Ok(html! {
        (heading("공지"))
        @if may(caller.role, Role::Advisor) {
            div.card.panel data-testid="new-notice" {
                h3 { "새 공지" }
                p.muted { "초안을 만든 뒤 내용과 받을 고객사를 정하고, 미리 본 다음 보냅니다." }
                form.toolbar hx-post="/ui/notices" hx-target="#main" #new-notice-form {
                    label for="notice-kickoff" { "보낼 시각 (KST, 비우면 지금)" }
                    input #notice-kickoff type="datetime-local" name="kickoff" data-testid="notice-kickoff"
                        min=(now.with_timezone(&kst()).format("%Y-%m-%dT%H:%M").to_string());
                    button.primary type="submit" data-testid="create-notice" id="create-notice" { "초안 만들기" }
                }
            }
        }
        h2 { "공지 목록" span.count { (rows.len()) "건" } span.spacer {} (export_buttons("/ui/notices/export", "export-notices")) }
        @if rows.is_empty() { p.empty { "공지가 없습니다." } }
        div.cards data-testid="notices" {
            @for r in &rows {
                div.card data-testid="notice-card" data-process=(r.process.id) {
                    h3 { (link(&format!("/notices/{}", r.process.id), html! { (r.title.as_deref().unwrap_or("(내용 없음)")) }, "notice-link")) }
                    div.meta { span.badge { (fmt::process_state(r.process.state())) } " " (fmt::kst_short(r.process.kickoff_at)) }
                    @if r.counts.iter().any(|(_, n)| *n > 0) { (progress_bar(&r.counts, "notice-progress")) }
                }
            }
        }
    })
}

async fn export_list(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<crate::web::export::FormatQuery>,
) -> Result<Response, WebError> {
    let rows = rows(&state).await?;
    let mut t =
        Table::new("공지", &["프로세스 ID", "제목", "상태", "보낼 시각 (KST)", "고객사", "확인", "미확인", "실패"]);
    for r in &rows {
        let n = |s: TrackerState| r.counts.iter().find(|(st, _)| *st == s).map_or(0, |(_, n)| *n) as u64;
        t.push(vec![
            Cell::text(r.process.id.as_str()),
            r.title.clone().map_or(Cell::Empty, Cell::Text),
            Cell::text(fmt::process_state(r.process.state())),
            Cell::text(fmt::kst_full(r.process.kickoff_at)),
            Cell::Count(r.counts.iter().map(|(_, n)| *n as u64).sum()),
            Cell::Count(n(TrackerState::Acknowledged) + n(TrackerState::Confirmed)),
            Cell::Count(n(TrackerState::Sent)),
            Cell::Count(n(TrackerState::Failed)),
        ]);
    }
    export(&t, q.format.as_deref(), "notices")
}

/// `2026-11-28T09:00` in KST.
fn kickoff_from(f: &Fields, now: Timestamp) -> Result<Timestamp, WebError> {
    match f.get("kickoff") {
        None => Ok(now.with_nanosecond(0).unwrap_or(now)),
        Some(raw) => NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .map(|local| at_kst(local.date(), local.time()))
            .map_err(|_| {
                WebError::bad_request(format!("보낼 시각: {raw:?}는 2026-11-28T09:00 같은 형식이어야 합니다"))
            }),
    }
}

async fn create(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    f: Fields,
) -> Result<(HeaderMap, Markup), WebError> {
    let now = state.app.clock.now();
    let kickoff = kickoff_from(&f, now)?;
    let process =
        Process::new(ProcessId::generate(), None, ProcessKind::Notice, kickoff, ReminderPolicy::default(), now);
    let created = state.app.store.create_process(&process).await?;
    state
        .app
        .record_audit(&caller.name, "process.create", created.value.id.as_str(), None, Some(json!(created.value)))
        .await;
    let page = render_detail(&state, &caller, &created.value.id, None).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/notices/{}", created.value.id)) {
        headers.insert("HX-Push-Url", v);
    }
    Ok((headers, html! { (page) (flash("공지 초안을 만들었습니다. 내용과 받을 고객사를 정하세요.")) }))
}

async fn detail(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Viewer>,
    Id(id): Id<ProcessId>,
) -> Result<Markup, WebError> {
    render_detail(&state, &caller, &id, None).await
}

/// The notice, and for an advisor the composer (while a draft) and its controls.
async fn render_detail(
    state: &WebState,
    caller: &Principal,
    id: &ProcessId,
    form: Option<&Fields>,
) -> Result<Markup, WebError> {
    let stored = state.app.store.get_process(id).await?;
    let p = &stored.value;
    if p.kind != ProcessKind::Notice {
        return Err(WebError {
            status: axum::http::StatusCode::NOT_FOUND, detail: format!("{id}는 공지가 아닙니다")
        });
    }
    let notice = notice_of(state, id).await?;
    let counts = state.app.state_counts(id).await?;
    let recipients: usize = counts.iter().map(|(_, n)| n).sum();
    let advisor = may(caller.role, Role::Advisor);
    let draft = p.state() == ProcessState::Draft;
    let base = format!("/ui/notices/{id}");
    Ok(html! {
        (heading(notice.as_ref().map_or("공지 초안", |n| n.title.as_str())))
        p { (link("/notices", html! { "← 공지 목록" }, "back-notices")) }
        div.card data-testid="notice-info" data-process=(id) data-state=(p.state().to_string()) {
            dl.facts {
                dt { "상태" } dd data-testid="notice-state" { span.badge { (fmt::process_state(p.state())) } }
                dt { "보낼 시각" } dd { (fmt::kst_full(p.kickoff_at)) }
                dt { "받는 고객사" } dd data-testid="notice-recipients" { (recipients) "곳" }
                dt { "✅ 확인 요청" } dd { @if notice.as_ref().is_some_and(|n| n.acknowledge) { "예 (확인할 때까지 독촉)" } @else { "아니오" } }
            }
            @if recipients > 0 { (progress_bar(&counts, "notice-progress")) }
            @if !draft { p { (link(&format!("/processes/{id}"), html! { "고객사별 상태 보기 →" }, "notice-process")) } }
        }
        @if let Some(n) = &notice {
            h2 { "내용" }
            div.card.message-preview data-testid="notice-text" { strong { (n.title) } p.pre { (n.text.as_str()) } }
        }
        @if advisor && draft {
            (composer(state, &base, notice.as_ref(), form).await?)
        }
        @if advisor && matches!(p.state(), ProcessState::Draft | ProcessState::Scheduled) {
            h2 { "보내기" }
            div.actions data-testid="notice-controls" {
                // A kickoff already past cannot be scheduled (the API refuses it): only sent now.
                @if draft && p.kickoff_at > state.app.clock.now() {
                    button.primary type="button" hx-post={ (base) "/schedule" } hx-target="#main" data-testid="schedule-notice"
                        disabled[recipients == 0] { (fmt::kst_short(p.kickoff_at)) "에 예약" }
                }
                @if draft {
                    button.primary type="button" hx-post={ (base) "/start" } hx-target="#main" data-testid="start-notice"
                        hx-confirm={ (recipients) "곳에 지금 보낼까요?" } disabled[recipients == 0] { "지금 보내기" }
                }
                button.danger type="button" hx-post={ (base) "/cancel" } hx-target="#main" data-testid="cancel-notice"
                    hx-confirm="이 공지를 취소할까요?" { "취소" }
            }
            @if recipients == 0 { p.muted { "받을 고객사를 먼저 적용하세요." } }
        }
    })
}

/// The text and audience form; filled from what was posted, else from the notice as applied.
async fn composer(
    state: &WebState,
    base: &str,
    notice: Option<&NoticeAdvice>,
    form: Option<&Fields>,
) -> Result<Markup, WebError> {
    let staff = all_staff(state).await?;
    let app = &state.app;
    let clients: Vec<Client> = crate::app::all_pages(|page| async move { app.store.list_clients(&page).await })
        .await?
        .into_iter()
        .map(|c| c.value)
        .collect();
    let posted = |name: &str| form.and_then(|f| f.get(name)).map(str::to_owned);
    let title = posted("title").or_else(|| notice.map(|n| n.title.to_string()));
    let text = posted("text").or_else(|| notice.map(|n| n.text.as_str().to_owned())).unwrap_or_default();
    let ack = form.map_or_else(|| notice.is_some_and(|n| n.acknowledge), |f| f.checked("acknowledge"));
    let by = posted("by").unwrap_or_else(|| "all_linked".to_owned());
    let chosen: Vec<String> = form.map_or_else(Vec::new, |f| f.all("clients").into_iter().map(str::to_owned).collect());
    let reps: Vec<(String, String)> =
        staff.iter().map(|s| (s.value.id.to_string(), format!("{} ({})", s.value.name, s.value.id))).collect();
    let kinds: Vec<(String, String)> = FUND_KINDS.iter().map(|(_, s, l)| ((*s).to_owned(), (*l).to_owned())).collect();
    let radio = |value: &str, label: &str| {
        html! {
            label.check { input type="radio" name="by" value=(value) checked[by == value] data-testid={ "by-" (value) }; " " (label) }
        }
    };
    Ok(html! {
        h2 { "내용과 받을 고객사" }
        form.stack.card #notice-form hx-post={ (base) "/audience" } hx-target="#main" {
            label for="notice-title" { "제목" }
            input #notice-title name="title" required data-testid="notice-title" value=[title] placeholder="(가상)휴장 안내";
            label for="notice-body" { "본문" }
            textarea #notice-body name="text" rows="6" required data-testid="notice-body" { (text) }
            label.check { input type="checkbox" name="acknowledge" value="true" checked[ack] data-testid="notice-ack"; " 고객사에 ✅ 확인을 요청하고, 확인할 때까지 독촉" }
            fieldset {
                legend { "받을 고객사" }
                (radio("all_linked", "그룹이 연결된 모든 고객사"))
                div.toolbar { (radio("representative", "담당 대표의 고객사:")) (select("representative", "notice-rep", &reps, posted("representative").as_deref())) }
                div.toolbar { (radio("fund_kind", "이 종류의 펀드가 있는 고객사:")) (select("fund_kind", "notice-fund-kind", &kinds, posted("fund_kind").as_deref())) }
                (radio("clients", "고른 고객사만:"))
                div.client-picks {
                    @for c in &clients {
                        label.check { input type="checkbox" name="clients" value=(c.id) checked[chosen.iter().any(|x| x == c.id.as_str())] data-testid={ "pick-" (c.id) }; " " (c.name) }
                    }
                }
            }
            div #audience-preview {}
            div.actions {
                button type="button" hx-post={ (base) "/preview" } hx-target="#audience-preview" data-testid="preview-notice" id="preview-notice" { "미리보기" }
                button.primary type="submit" data-testid="apply-notice" id="apply-notice" { "적용" }
            }
        }
    })
}

fn plan_from(f: &Fields) -> Result<AudiencePlan, WebError> {
    let audience = match f.required("by", "받을 고객사")? {
        "all_linked" => Audience::AllLinked,
        "representative" => {
            Audience::Representative { representative: f.parse::<StaffId>("representative", "담당 대표")? }
        }
        "fund_kind" => {
            let raw = f.required("fund_kind", "펀드 종류")?;
            let fund_kind = FUND_KINDS
                .iter()
                .find(|(_, s, _)| *s == raw)
                .map(|(k, _, _)| *k)
                .ok_or_else(|| WebError::bad_request(format!("펀드 종류: {raw:?}")))?;
            Audience::FundKind { fund_kind }
        }
        "clients" => {
            let clients = f
                .all("clients")
                .into_iter()
                .map(|c| c.parse::<ClientId>().map_err(|_| WebError::bad_request(format!("고객사: {c:?}"))))
                .collect::<Result<Vec<_>, _>>()?;
            if clients.is_empty() {
                return Err(WebError::bad_request("받을 고객사: 한 곳 이상 고르세요"));
            }
            Audience::Clients { clients }
        }
        other => return Err(WebError::bad_request(format!("받을 고객사: {other:?}"))),
    };
    let title: Label = f.label("title", "제목")?;
    let text = NoticeText::new(f.required("text", "본문")?).map_err(|e| WebError::bad_request(format!("본문: {e}")))?;
    Ok(AudiencePlan { audience, notice: Some(NoticeAdvice { title, text, acknowledge: f.checked("acknowledge") }) })
}

fn outcome_view(o: &AudienceOutcome) -> Markup {
    let unreachable = o.recipients.iter().filter(|r| !r.reachable).count();
    html! {
        div.card.outcome data-testid="audience-outcome" data-applied=(o.applied) {
            h3 { @if o.applied { "적용됨: " } @else { "미리보기: " } (o.recipients.len()) "곳이 받습니다"
                @if o.messages_per_client > 1 { " · 고객사마다 메시지 " (o.messages_per_client) "개" } }
            @if unreachable > 0 { p.finding.error { "그룹에 보낼 수 없는 고객사 " (unreachable) "곳: 보내면 실패로 표시됩니다." } }
            div.table-wrap {
                table data-testid="recipients-table" {
                    thead { tr { th { "받는 고객사" } th { "보낼 수 있음" } } }
                    tbody { @for r in &o.recipients { tr data-testid="recipient-row" data-client=(r.client_id) .failed[!r.reachable] { td { (r.name) } td { @if r.reachable { "예" } @else { "아니오" } } } } }
                }
            }
            @if !o.excluded.is_empty() {
                h3 { "받지 않는 고객사 " (o.excluded.len()) "곳" }
                div.table-wrap {
                    table data-testid="excluded-table" {
                        thead { tr { th { "고객사" } th { "이유" } } }
                        tbody { @for e in &o.excluded { tr data-testid="excluded-row" { td { (e.name) } td { (e.reason) } } } }
                    }
                }
            }
            @if let Some(p) = &o.preview {
                h3 { "첫 고객사가 받는 메시지" }
                div.message-preview data-testid="message-preview" { p.pre { (telegram_text(p)) } }
            }
        }
    }
}

async fn preview(
    State(state): State<WebState>,
    _: Authorized<Advisor>,
    Id(id): Id<ProcessId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let outcome = state.app.choose_audience(&id, plan_from(&f)?, true).await?;
    Ok(outcome_view(&outcome))
}

async fn apply(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<ProcessId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let outcome = state.app.choose_audience(&id, plan_from(&f)?, false).await?;
    let who: Vec<&ClientId> = outcome.recipients.iter().map(|r| &r.client_id).collect();
    state.app.record_audit(&caller.name, "process.audience", id.as_str(), None, Some(json!({ "clients": who }))).await;
    // The composer keeps the choice just applied: the process stores who, not how they were chosen.
    let page = render_detail(&state, &caller, &id, Some(&f)).await?;
    let message = format!("받을 고객사 {}곳을 적용했습니다. 예약하거나 지금 보내세요.", outcome.recipients.len());
    Ok(html! { (page) (flash(&message)) h2 { "적용 결과" } (outcome_view(&outcome)) })
}

async fn schedule(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<ProcessId>,
) -> Result<Markup, WebError> {
    let saved = state.app.schedule_process(&id).await?;
    state.app.record_audit(&caller.name, "process.schedule", id.as_str(), None, Some(json!(saved.value))).await;
    let page = render_detail(&state, &caller, &id, None).await?;
    Ok(html! { (page) (flash(&format!("{}에 보내도록 예약했습니다.", fmt::kst_full(saved.value.kickoff_at)))) })
}

async fn start(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<ProcessId>,
) -> Result<Markup, WebError> {
    let report = state.app.start_now(&id).await?;
    audit_start(&state, &caller, &id, &report).await;
    let page = render_detail(&state, &caller, &id, None).await?;
    let mut message = format!("{}곳에 보냈습니다.", report.sent.len());
    if !report.failed.is_empty() {
        let why: Vec<String> = report.failed.iter().map(|(c, r)| format!("{c}: {r}")).collect();
        message.push_str(&format!(" 실패 {}곳: {}", report.failed.len(), why.join(", ")));
    }
    Ok(html! { (page) (flash(&message)) })
}

async fn cancel(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(id): Id<ProcessId>,
) -> Result<Markup, WebError> {
    let saved = state.app.control_process(&id, ProcessAction::Cancel).await?;
    state.app.record_audit(&caller.name, "process.cancel", id.as_str(), None, Some(json!(saved.value))).await;
    let page = render_detail(&state, &caller, &id, None).await?;
    Ok(html! { (page) (flash("공지를 취소했습니다.")) })
}
