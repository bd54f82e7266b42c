//! Staff's moves on one client's tracker, from Today or a process's page: remind, skip, retry a
//! failed send, and remind every silent client of a process. Each checks the role with the API's
//! extractor (operator), records the audit entry the API would, and answers with the page it was
//! pressed on re-rendered (its counts change too) and a sentence in the flash area.

use super::{process, today};
use crate::app::KickoffReport;
use crate::domain::ids::{ClientId, ProcessId, StaffId};
use crate::domain::staff::Role;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::http::api::auth::{Authorized, Operator, Principal};
use crate::http::problem::Problem;
use crate::web::extract::{Id, Ids};
use crate::web::{WebError, WebState};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::post;
use maud::{Markup, html};
use serde::Deserialize;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/processes/{id}/trackers/{client}/remind", post(remind))
        .route("/ui/processes/{id}/trackers/{client}/skip", post(skip))
        .route("/ui/processes/{id}/trackers/{client}/retry", post(retry))
        .route("/ui/processes/{id}/remind-silent", post(remind_silent))
}

/// The page an action was pressed on, to answer with it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Today,
    /// A process's page, on a representative's tab or all.
    Process {
        rep: Option<String>,
    },
}

#[derive(Debug, Default, Deserialize)]
pub struct ViewQuery {
    pub view: Option<String>,
    pub rep: Option<String>,
}

impl View {
    pub fn from_query(q: ViewQuery) -> View {
        match q.view.as_deref() {
            Some("today") => View::Today,
            _ => View::Process { rep: q.rep.filter(|r| !r.is_empty()) },
        }
    }

    /// The query string that brings the page back.
    pub fn query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        match self {
            View::Today => {
                out.append_pair("view", "today");
            }
            View::Process { rep } => {
                out.append_pair("view", "process");
                if let Some(rep) = rep {
                    out.append_pair("rep", rep);
                }
            }
        }
        format!("?{}", out.finish())
    }
}

/// The staff record acting; confirmations and skips are recorded in its name.
pub fn acting(caller: &Principal) -> Result<StaffId, WebError> {
    caller.staff_id.clone().ok_or_else(|| Problem::forbidden("staff").into())
}

/// The buttons a tracker's row offers the caller; none below operator, since a viewer may not act.
pub fn tracker_buttons(role: Role, tracker: &Tracker, view: &View) -> Markup {
    if !role.allows(Role::Operator) {
        return html! {};
    }
    let base = format!("/ui/processes/{}/trackers/{}", tracker.process_id, tracker.client_id);
    let q = view.query();
    let client = tracker.client_id.as_str();
    let state = tracker.state();
    html! {
        span.actions {
            @if tracker.awaits_client() {
                button type="button" hx-post={ (base) "/remind" (q) } hx-target="#main"
                    data-testid="remind" id={ "remind-" (client) } { "독촉" }
            }
            @if state == TrackerState::Failed {
                button.primary type="button" hx-post={ (base) "/retry" (q) } hx-target="#main"
                    data-testid="retry" id={ "retry-" (client) } { "다시 보내기" }
            }
            @if matches!(view, View::Process { .. })
                && matches!(state, TrackerState::Sent | TrackerState::Acknowledged | TrackerState::Submitted) {
                button.primary[state == TrackerState::Submitted] type="button"
                    hx-get={ (base) "/confirm" (q) } hx-target="#panel"
                    data-testid="open-confirm" id={ "confirm-" (client) } { "확정" }
            }
            @if matches!(state, TrackerState::Pending | TrackerState::Sent | TrackerState::Acknowledged | TrackerState::Failed) {
                button.danger type="button" hx-post={ (base) "/skip" (q) } hx-target="#main"
                    hx-confirm="이 고객사를 이 프로세스에서 제외할까요? 더 이상 독촉하지 않습니다."
                    data-testid="skip" id={ "skip-" (client) } { "제외" }
            }
        }
    }
}

/// A sentence for the flash area, swapped in beside the page.
pub fn flash(message: &str) -> Markup {
    html! {
        div #flash hx-swap-oob="true" role="status" aria-live="polite" {
            div.flash data-testid="flash" { (message) }
        }
    }
}

/// The page the action was pressed on, with `message` in the flash area.
pub async fn answer(
    state: &WebState,
    caller: &Principal,
    view: &View,
    process_id: &ProcessId,
    message: &str,
) -> Result<Markup, WebError> {
    let page = match view {
        View::Today => today::render_for(state, caller.role).await?,
        View::Process { rep } => process::render_for(state, caller, process_id, rep.as_deref()).await?,
    };
    Ok(html! { (page) (flash(message)) })
}

/// The client's name for a flash sentence; its id when it cannot be read.
pub async fn client_name(state: &WebState, client: &ClientId) -> String {
    state.app.store.get_client(client).await.map_or_else(|_| client.to_string(), |c| c.value.name.to_string())
}

/// The audit entry of a process started now, as the API records it (its `StartReport`): who was
/// sent to, and who not with why.
pub async fn audit_start(state: &WebState, caller: &Principal, process_id: &ProcessId, report: &KickoffReport) {
    let failed: Vec<serde_json::Value> = report
        .failed
        .iter()
        .map(|(client_id, reason)| serde_json::json!({ "client_id": client_id, "reason": reason }))
        .collect();
    let after = serde_json::json!({ "sent": report.sent, "failed": failed });
    state.app.record_audit(&caller.name, "process.start", process_id.as_str(), None, Some(after)).await;
}

/// The audit entry of a move on a tracker, as the API records it: `process/client`, and the
/// tracker saved, when the move saved one.
pub async fn audit_tracker(
    state: &WebState,
    caller: &Principal,
    action: &str,
    process_id: &ProcessId,
    client_id: &ClientId,
    saved: Option<&Tracker>,
) {
    let entity = format!("{process_id}/{client_id}");
    let after = saved.and_then(|t| serde_json::to_value(t).ok());
    state.app.record_audit(&caller.name, action, &entity, None, after).await;
}

async fn remind(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
    Query(q): Query<ViewQuery>,
) -> Result<Markup, WebError> {
    state.app.remind_now(&process_id, &client_id).await?;
    audit_tracker(&state, &caller, "tracker.remind", &process_id, &client_id, None).await;
    let message = format!("{}에 독촉 메시지를 보냈습니다.", client_name(&state, &client_id).await);
    answer(&state, &caller, &View::from_query(q), &process_id, &message).await
}

async fn skip(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
    Query(q): Query<ViewQuery>,
) -> Result<Markup, WebError> {
    let by = acting(&caller)?;
    let saved = state.app.skip_tracker(&process_id, &client_id, &by).await?;
    audit_tracker(&state, &caller, "tracker.skip", &process_id, &client_id, Some(&saved.value)).await;
    let message = format!("{}을(를) 이 프로세스에서 제외했습니다.", client_name(&state, &client_id).await);
    answer(&state, &caller, &View::from_query(q), &process_id, &message).await
}

async fn retry(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
    Query(q): Query<ViewQuery>,
) -> Result<Markup, WebError> {
    let saved = state.app.retry_send(&process_id, &client_id).await?;
    audit_tracker(&state, &caller, "tracker.retry", &process_id, &client_id, Some(&saved.value)).await;
    let name = client_name(&state, &client_id).await;
    let message = match saved.value.state() {
        TrackerState::Failed => {
            format!("{name}에 다시 보냈지만 실패했습니다: {}", saved.value.failure().unwrap_or("-"))
        }
        _ => format!("{name}에 다시 보냈습니다."),
    };
    answer(&state, &caller, &View::from_query(q), &process_id, &message).await
}

/// Reminds every client of the process still silent; says how many were reminded and who not.
async fn remind_silent(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<ViewQuery>,
) -> Result<Markup, WebError> {
    let view = View::from_query(q);
    let rep = match &view {
        View::Process { rep } => rep.clone(),
        View::Today => None,
    };
    let trackers = process::trackers_on_tab(&state, &caller, &process_id, rep.as_deref()).await?;
    let (mut reminded, mut refused) = (0, Vec::new());
    for t in trackers.iter().filter(|t| t.awaits_client()) {
        match state.app.remind_now(&process_id, &t.client_id).await {
            Ok(()) => {
                reminded += 1;
                audit_tracker(&state, &caller, "tracker.remind", &process_id, &t.client_id, None).await;
            }
            Err(e) => refused.push(format!("{}: {e}", client_name(&state, &t.client_id).await)),
        }
    }
    let mut message = format!("미응답 고객사 {reminded}곳에 독촉 메시지를 보냈습니다.");
    if !refused.is_empty() {
        message.push_str(&format!(" 보내지 못한 곳: {}", refused.join(", ")));
    }
    answer(&state, &caller, &view, &process_id, &message).await
}
