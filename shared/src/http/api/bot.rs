//! `/api/v1/bot`: the emergency stop. Any operator may stop the bot (whoever watches it misbehave
//! must be able to pull the brake); resuming sends again, which is an advisor's call, as is
//! resuming one process. Both are audited and told to the staff group.

use super::ApiState;
use super::auth::{Advisor, Authorized, Operator, Viewer};
use super::extract::Body;
use crate::domain::bot::BotStatus;
use crate::domain::ids::ProcessId;
use crate::domain::text::Label;
use crate::http::problem::Problem;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(state)).routes(routes!(stop)).routes(routes!(resume))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StopInput {
    /// Why, for the staff group and the audit log: one line.
    reason: Label,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ResumeInput {
    /// Why it is safe to go on, for the audit log: one line.
    note: Option<Label>,
}

/// What a resume did: the bot's state, and the processes that go on where they stood (each
/// within about a minute).
#[derive(Serialize, ToSchema)]
struct Resumed {
    bot: BotStatus,
    processes: Vec<ProcessId>,
}

/// Whether the bot is running or stopped, by whom, since when and why.
#[utoipa::path(get, path = "/api/v1/bot", tag = "bot", security(("staff" = ["viewer"])),
    responses((status = 200, body = BotStatus)))]
async fn state(State(s): State<ApiState>, _: Authorized<Viewer>) -> Result<Json<BotStatus>, Problem> {
    Ok(Json(s.app.bot_state().await?))
}

/// The emergency stop: every send and chase of every process is held (nothing is dropped or
/// marked failed) until the bot is resumed; clients' answers are still taken. 409 when it is
/// stopped already.
#[utoipa::path(post, path = "/api/v1/bot/stop", tag = "bot",
    request_body(content = StopInput, examples(("stop" = (summary = "Wrong advice went out",
        value = json!({"reason": "잘못된 가격이 발송됨"}))))),
    security(("staff" = ["operator"])), responses((status = 200, body = BotStatus)))]
async fn stop(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Body(input): Body<StopInput>,
) -> Result<Json<BotStatus>, Problem> {
    let before = s.app.bot_state().await?;
    let after = s.app.stop_bot(&caller.name, caller.staff_id.clone(), input.reason).await?;
    super::audit(&s, &caller, "bot.stop", "bot", Some(json!(before)), Some(json!(after))).await;
    Ok(Json(after))
}

/// Resumes the bot: each process goes on where it stood, and what was held for the staff group
/// is sent. 409 when it is running.
#[utoipa::path(post, path = "/api/v1/bot/resume", tag = "bot", security(("staff" = ["advisor"])),
    request_body(content = Option<ResumeInput>, description = "Optional: an empty body resumes without a note.",
        examples(("resume" = (summary = "The corrected advice is out", value = json!({"note": "정정 권고 발송 완료"}))))),
    responses((status = 200, body = Resumed)))]
async fn resume(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    body: axum::body::Bytes,
) -> Result<Json<Resumed>, Problem> {
    let input: ResumeInput = if body.iter().all(u8::is_ascii_whitespace) {
        ResumeInput { note: None }
    } else {
        serde_json::from_slice::<Option<ResumeInput>>(&body)
            .map_err(|e| Problem::bad_request(format!("the body is not valid: {e}")))?
            .unwrap_or(ResumeInput { note: None })
    };
    let before = s.app.bot_state().await?;
    let (bot, processes) = s.app.resume_bot(&caller.name).await?;
    let after = json!({ "bot": bot, "processes": processes, "note": input.note });
    super::audit(&s, &caller, "bot.resume", "bot", Some(json!(before)), Some(after)).await;
    Ok(Json(Resumed { bot, processes }))
}
