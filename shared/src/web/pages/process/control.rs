//! An advisor's control of a process, as the API offers it: schedule or start now, take back to
//! draft, pause, resume, cancel. Only the moves the process's state allows are offered.

use crate::domain::ids::ProcessId;
use crate::domain::process::{Process, ProcessAction, ProcessState};
use crate::domain::staff::Role;
use crate::http::api::auth::{Advisor, Authorized};
use crate::web::extract::Ids;
use crate::web::pages::actions::{View, ViewQuery, answer, audit_start};
use crate::web::{WebError, WebState};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::post;
use maud::{Markup, html};

pub fn routes() -> Router<WebState> {
    Router::new().route("/ui/processes/{id}/control/{action}", post(control))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Schedule,
    Start,
    Unschedule,
    Pause,
    Resume,
    Cancel,
}

impl Move {
    const ALL: [Move; 6] = [Move::Schedule, Move::Start, Move::Unschedule, Move::Pause, Move::Resume, Move::Cancel];

    fn name(self) -> &'static str {
        match self {
            Move::Schedule => "schedule",
            Move::Start => "start",
            Move::Unschedule => "unschedule",
            Move::Pause => "pause",
            Move::Resume => "resume",
            Move::Cancel => "cancel",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Move::Schedule => "예약",
            Move::Start => "지금 시작",
            Move::Unschedule => "작성 중으로 되돌리기",
            Move::Pause => "일시 중지",
            Move::Resume => "재개",
            Move::Cancel => "취소",
        }
    }

    /// What the button asks before it acts, for the moves that reach clients or cannot be undone.
    fn confirm(self) -> Option<&'static str> {
        match self {
            Move::Start => Some("지금 모든 고객사에 보낼까요?"),
            Move::Cancel => Some("이 프로세스를 취소할까요? 되돌릴 수 없습니다."),
            _ => None,
        }
    }

    fn offered(self, state: ProcessState) -> bool {
        let action = match self {
            Move::Schedule => ProcessAction::Schedule,
            Move::Start => ProcessAction::Start,
            Move::Unschedule => ProcessAction::Unschedule,
            Move::Pause => ProcessAction::Pause,
            Move::Resume => ProcessAction::Resume,
            Move::Cancel => ProcessAction::Cancel,
        };
        state.after(action).is_ok()
    }
}

/// The buttons an advisor is offered; none below advisor.
pub fn buttons(role: Role, process: &Process, view: &View) -> Markup {
    if !role.allows(Role::Advisor) {
        return html! {};
    }
    html! {
        span.actions data-testid="process-controls" {
            @for m in Move::ALL.into_iter().filter(|m| m.offered(process.state())) {
                button type="button" class=(if m == Move::Cancel { "danger" } else { "" })
                    hx-post={ "/ui/processes/" (process.id) "/control/" (m.name()) (view.query()) } hx-target="#main"
                    hx-confirm=[m.confirm()] data-testid={ "control-" (m.name()) } { (m.label()) }
            }
        }
    }
}

async fn control(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Advisor>,
    Ids(process_id, action): Ids<ProcessId, String>,
    Query(q): Query<ViewQuery>,
) -> Result<Markup, WebError> {
    let Some(m) = Move::ALL.into_iter().find(|m| m.name() == action) else {
        return Err(WebError::bad_request(format!("{action:?} is not a move of a process")));
    };
    let app = &state.app;
    let message = match m {
        Move::Start => {
            let report = app.start_now(&process_id).await?;
            audit_start(&state, &caller, &process_id, &report).await;
            match report.failed.len() {
                0 => format!("{}곳에 보냈습니다.", report.sent.len()),
                failed => format!("{}곳에 보냈고 {failed}곳은 실패했습니다.", report.sent.len()),
            }
        }
        Move::Schedule => {
            let saved = app.schedule_process(&process_id).await?;
            let after = serde_json::to_value(&saved.value).ok();
            app.record_audit(&caller.name, "process.schedule", process_id.as_str(), None, after).await;
            "예약했습니다.".to_owned()
        }
        Move::Unschedule | Move::Pause | Move::Resume | Move::Cancel => {
            let action = match m {
                Move::Unschedule => ProcessAction::Unschedule,
                Move::Pause => ProcessAction::Pause,
                Move::Resume => ProcessAction::Resume,
                _ => ProcessAction::Cancel,
            };
            let saved = app.control_process(&process_id, action).await?;
            let after = serde_json::to_value(&saved.value).ok();
            app.record_audit(&caller.name, &format!("process.{}", m.name()), process_id.as_str(), None, after).await;
            match m {
                Move::Unschedule => "예약을 풀고 작성 중으로 되돌렸습니다.",
                Move::Pause => "일시 중지했습니다. 재개할 때까지 독촉하지 않습니다.",
                Move::Resume => "재개했습니다.",
                _ => "취소했습니다.",
            }
            .to_owned()
        }
    };
    let view = match View::from_query(q) {
        View::Today => View::Process { rep: None },
        view => view,
    };
    answer(&state, &caller, &view, &process_id, &message).await
}
