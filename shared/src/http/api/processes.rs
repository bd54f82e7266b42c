//! `/api/v1/processes`: create, schedule, start now, pause, resume, cancel; each process's trackers
//! with progress; remind one client; confirm or override a client's values.

use super::ApiState;
use super::auth::{Advisor, Authorized, Operator, Principal, Viewer};
use super::extract::{Body, Id, Ids, Limit, Query, page, referenced};
use super::openapi::{Listing, Stored};
use crate::app::AppError;
use crate::domain::check::{BidInput, parse_bid};
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::process::{Process, ProcessAction, ProcessKind, ProcessState, ReminderPolicy};
use crate::domain::tracker::TrackerState;
use crate::http::problem::Problem;
use crate::ports::store::Page;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read))
        .routes(routes!(schedule))
        .routes(routes!(unschedule))
        .routes(routes!(start))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(cancel))
        .routes(routes!(trackers))
        .routes(routes!(remind))
        .routes(routes!(confirm))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProcessInput {
    /// Generated when absent.
    id: Option<ProcessId>,
    stock_id: StockId,
    kind: ProcessKind,
    /// Defaults to 09:00 KST on the round's day.
    kickoff_at: Option<DateTime<Utc>>,
    /// By default the firm's usual reminders.
    policy: Option<ReminderPolicy>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only the processes of this stock.
    stock: Option<StockId>,
    state: Option<ProcessState>,
    /// Only processes kicking off at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Only processes kicking off before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    limit: Option<Limit>,
    cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TrackersQuery {
    state: Option<TrackerState>,
}

/// The processes, a page at a time. A filter other than `stock` applies within each
/// page, so a page may come back short while `next` goes on.
#[utoipa::path(get, path = "/api/v1/processes", tag = "processes", params(ListQuery),
    security(("staff" = ["viewer"])), responses((status = 200, body = Listing)))]
async fn list(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<Value>>, Problem> {
    let request = page(q.limit, q.cursor);
    let found = match &q.stock {
        Some(stock) => s.app.store.processes_of_stock(stock, &request).await,
        None => s.app.store.list_processes(&request).await,
    }
    .map_err(AppError::from)?;
    let items = found
        .items
        .into_iter()
        .filter(|p| q.state.is_none_or(|st| p.value.state() == st))
        .filter(|p| q.from.is_none_or(|from| p.value.kickoff_at >= from))
        .filter(|p| q.until.is_none_or(|until| p.value.kickoff_at < until))
        .map(|p| json!(p))
        .collect();
    Ok(Json(Page { items, next: found.next }))
}

/// Creates a draft process for a stock; its advice is loaded next.
#[utoipa::path(post, path = "/api/v1/processes", tag = "processes", request_body = ProcessInput,
    security(("staff" = ["advisor"])), responses((status = 201, body = Stored)))]
async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Body(input): Body<ProcessInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let stock = referenced(s.app.store.get_stock(&input.stock_id).await, "stock_id")?.value;
    let kickoff_at = match input.kickoff_at.or_else(|| input.kind.default_kickoff(stock.schedule())) {
        Some(t) => t,
        None => {
            return Err(
                Problem::bad_request("this kind of process needs a kickoff time").field("kickoff_at", "required")
            );
        }
    };
    let process = Process::new(
        input.id.unwrap_or_else(ProcessId::generate),
        input.stock_id,
        input.kind,
        kickoff_at,
        input.policy.unwrap_or_default(),
        s.app.clock.now(),
    );
    let created = s.app.store.create_process(&process).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "process.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

/// One process with its progress: trackers counted by state.
#[utoipa::path(get, path = "/api/v1/processes/{id}", tag = "processes", params(("id" = ProcessId, Path)),
    security(("staff" = ["viewer"])), responses((status = 200, body = Object)))]
async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<Value>, Problem> {
    let process = s.app.store.get_process(&process_id).await.map_err(AppError::from)?;
    let progress = s.app.progress(&process_id).await.map_err(AppError::from)?;
    Ok(Json(json!({ "value": process.value, "version": process.version, "progress": progress })))
}

#[derive(Clone, Copy)]
enum Action {
    Schedule,
    Start,
    Control(ProcessAction),
}

async fn act(
    s: &ApiState,
    caller: &Principal,
    process_id: ProcessId,
    name: &str,
    action: Action,
) -> Result<Json<Value>, Problem> {
    let result = match action {
        Action::Schedule => s.app.schedule_process(&process_id).await.map(|p| json!(p)),
        Action::Start => s.app.start_now(&process_id).await.map(|r| json!({ "sent": r.sent, "failed": r.failed })),
        Action::Control(action) => s.app.control_process(&process_id, action).await.map(|p| json!(p)),
    }?;
    super::audit(s, caller, &format!("process.{name}"), process_id.as_str(), None, Some(result.clone())).await;
    Ok(Json(result))
}

/// Schedules the kickoff at `kickoff_at`.
#[utoipa::path(post, path = "/api/v1/processes/{id}/schedule", tag = "processes", params(("id" = ProcessId, Path)),
    security(("staff" = ["advisor"])), responses((status = 200, body = Stored)))]
async fn schedule(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<Value>, Problem> {
    act(&s, &caller, process_id, "schedule", Action::Schedule).await
}

/// Takes a scheduled process back to draft; its kickoff is cancelled.
#[utoipa::path(post, path = "/api/v1/processes/{id}/unschedule", tag = "processes",
    params(("id" = ProcessId, Path)), security(("staff" = ["advisor"])), responses((status = 200, body = Stored)))]
async fn unschedule(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<Value>, Problem> {
    act(&s, &caller, process_id, "unschedule", Action::Control(ProcessAction::Unschedule)).await
}

/// Sends the advice now instead of at the kickoff; counts what was sent and what failed.
#[utoipa::path(post, path = "/api/v1/processes/{id}/start", tag = "processes", params(("id" = ProcessId, Path)),
    security(("staff" = ["advisor"])), responses((status = 200, body = Object)))]
async fn start(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<Value>, Problem> {
    act(&s, &caller, process_id, "start", Action::Start).await
}

/// Stops reminders until resumed.
#[utoipa::path(post, path = "/api/v1/processes/{id}/pause", tag = "processes", params(("id" = ProcessId, Path)),
    security(("staff" = ["advisor"])), responses((status = 200, body = Stored)))]
async fn pause(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<Value>, Problem> {
    act(&s, &caller, process_id, "pause", Action::Control(ProcessAction::Pause)).await
}

/// Resumes a paused process; clients still waiting are chased again.
#[utoipa::path(post, path = "/api/v1/processes/{id}/resume", tag = "processes", params(("id" = ProcessId, Path)),
    security(("staff" = ["advisor"])), responses((status = 200, body = Stored)))]
async fn resume(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<Value>, Problem> {
    act(&s, &caller, process_id, "resume", Action::Control(ProcessAction::Resume)).await
}

/// Cancels the process: nothing more is sent.
#[utoipa::path(post, path = "/api/v1/processes/{id}/cancel", tag = "processes", params(("id" = ProcessId, Path)),
    security(("staff" = ["advisor"])), responses((status = 200, body = Stored)))]
async fn cancel(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<Value>, Problem> {
    act(&s, &caller, process_id, "cancel", Action::Control(ProcessAction::Cancel)).await
}

/// Each client's tracker, with its deviations from the advice, and the progress counts.
#[utoipa::path(get, path = "/api/v1/processes/{id}/trackers", tag = "processes",
    params(("id" = ProcessId, Path), TrackersQuery), security(("staff" = ["viewer"])),
    responses((status = 200, body = Object)))]
async fn trackers(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<TrackersQuery>,
) -> Result<Json<Value>, Problem> {
    s.app.store.get_process(&process_id).await.map_err(AppError::from)?;
    let items: Vec<Value> = s
        .app
        .store
        .trackers_of_process(&process_id)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|t| q.state.is_none_or(|st| t.value.state() == st))
        .map(|t| json!({ "value": t.value, "version": t.version, "deviations": t.value.deviations() }))
        .collect();
    let progress = s.app.progress(&process_id).await.map_err(AppError::from)?;
    Ok(Json(json!({ "items": items, "progress": progress })))
}

/// Reminds one client now, whatever the policy's timing.
#[utoipa::path(post, path = "/api/v1/processes/{id}/trackers/{client}/remind", tag = "processes",
    params(("id" = ProcessId, Path), ("client" = ClientId, Path)), security(("staff" = ["operator"])),
    responses((status = 200, body = Object)))]
async fn remind(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
) -> Result<Json<Value>, Problem> {
    let reminded = s.app.remind_now(&process_id, &client_id).await?;
    super::audit(&s, &caller, "tracker.remind", &format!("{process_id}/{client_id}"), None, None).await;
    Ok(Json(json!({ "reminded": reminded })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfirmInput {
    /// The values read off a screenshot, or corrections; absent to confirm what the client sent.
    lines: Option<Vec<LineInput>>,
}

/// One fund's values, written as a client would: `17,000`, `1만주`, `15일`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LineInput {
    /// The fund's id or name.
    fund: String,
    price: Option<String>,
    quantity: Option<String>,
    lockup: Option<String>,
}

/// Confirms what the client sent, or records the values staff read or corrected.
#[utoipa::path(post, path = "/api/v1/processes/{id}/trackers/{client}/confirm", tag = "processes",
    params(("id" = ProcessId, Path), ("client" = ClientId, Path)), request_body = ConfirmInput,
    security(("staff" = ["operator"])), responses((status = 200, body = Object)))]

async fn confirm(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
    Body(input): Body<ConfirmInput>,
) -> Result<Json<Value>, Problem> {
    let by = caller.staff_id.clone().ok_or_else(|| Problem::forbidden("staff"))?;
    let lines =
        match input.lines {
            None => None,
            Some(lines) => {
                let client = s.app.store.get_client(&client_id).await.map_err(AppError::from)?.value;
                let mut parsed = Vec::with_capacity(lines.len());
                for (i, l) in lines.into_iter().enumerate() {
                    let bid = BidInput { fund: l.fund, price: l.price, quantity: l.quantity, lockup: l.lockup };
                    parsed.push(parse_bid(&client, &bid).map_err(|e| {
                        Problem::bad_request(e.to_string()).field(&format!("lines[{i}]"), e.to_string())
                    })?);
                }
                Some(parsed)
            }
        };
    let saved = s.app.confirm(&process_id, &client_id, &by, lines).await?;
    super::audit(&s, &caller, "tracker.confirm", &format!("{process_id}/{client_id}"), None, Some(json!(saved.value)))
        .await;
    Ok(Json(json!({ "value": saved.value, "version": saved.version, "deviations": saved.value.deviations() })))
}
