//! The emergency stop on every page: while the bot is stopped, a banner says by whom, since when
//! and why, with resume for an advisor; while it runs, an operator finds the stop behind a small
//! button in the header. The same use cases and audit entries as `/api/v1/bot`.

use super::actions::flash;
use crate::domain::bot::{BotState, BotStatus};
use crate::domain::staff::Role;
use crate::domain::text::Label;
use crate::http::api::auth::{Advisor, Authorized, Operator, Viewer};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde_json::json;

pub fn routes() -> Router<WebState> {
    Router::new().route("/ui/bot", get(banner)).route("/ui/bot/stop", post(stop)).route("/ui/bot/resume", post(resume))
}

async fn banner(State(state): State<WebState>, Authorized(caller, _): Authorized<Viewer>) -> Result<Markup, WebError> {
    Ok(render(&state.app.bot_state().await?, caller.role))
}

/// `#bot`, swapped whole (the shell's placeholder is replaced by it) and read again every 30 s,
/// so a stop made elsewhere shows on every open page.
fn render(bot: &BotStatus, role: Role) -> Markup {
    html! {
        div #bot hx-get="/ui/bot" hx-trigger="every 30s" hx-swap="outerHTML" data-testid="bot" {
        @match bot.state {
            BotState::Stopped => div.stop-banner role="alert" data-testid="bot-stopped" {
                strong { "⛔ 긴급 정지 중" }
                span {
                    " 모든 발송과 독촉이 멈춰 있습니다"
                    @if let Some(by) = &bot.by { " · " (by) }
                    @if let Some(since) = bot.since { " · " (fmt::kst_short(since)) "부터" }
                    @if let Some(reason) = &bot.reason { " · " (reason) }
                }
                @if role.allows(Role::Advisor) {
                    button.primary type="button" hx-post="/ui/bot/resume" hx-target="#bot" hx-swap="outerHTML"
                        hx-confirm="발송을 재개할까요? 각 프로세스가 멈춘 곳에서 이어집니다." data-testid="bot-resume" { "재개" }
                }
            },
            BotState::Running => @if role.allows(Role::Operator) {
                details.stop-control data-testid="bot-stop-control" {
                    summary { "긴급 정지" }
                    form.inline hx-post="/ui/bot/stop" hx-target="#bot" hx-swap="outerHTML" data-testid="bot-stop-form" {
                        input type="text" name="reason" required maxlength="200" placeholder="정지 사유" aria-label="정지 사유";
                        button.danger type="submit" data-testid="bot-stop" { "모든 발송 멈추기" }
                    }
                }
            },
        }
        }
    }
}

async fn stop(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Operator>,
    body: Bytes,
) -> Result<Markup, WebError> {
    let reason =
        form_urlencoded::parse(&body).find(|(k, _)| k == "reason").map(|(_, v)| v.into_owned()).unwrap_or_default();
    let reason = Label::new(&reason).map_err(|e| WebError::bad_request(format!("정지 사유: {e}")))?;
    let before = state.app.bot_state().await?;
    let after = state.app.stop_bot(&caller.name, caller.staff_id.clone(), reason).await?;
    state.app.record_audit(&caller.name, "bot.stop", "bot", Some(json!(before)), Some(json!(after))).await;
    Ok(html! { (render(&after, caller.role)) (flash("긴급 정지했습니다. 재개할 때까지 아무것도 보내지 않습니다.")) })
}

async fn resume(State(state): State<WebState>, Authorized(caller, _): Authorized<Advisor>) -> Result<Markup, WebError> {
    let before = state.app.bot_state().await?;
    let (bot, processes) = state.app.resume_bot(&caller.name).await?;
    let after = json!({ "bot": bot, "processes": processes });
    state.app.record_audit(&caller.name, "bot.resume", "bot", Some(json!(before)), Some(after)).await;
    let message = format!("재개했습니다. 프로세스 {}건이 멈춘 곳에서 이어집니다.", processes.len());
    Ok(html! { (render(&bot, caller.role)) (flash(&message)) })
}
