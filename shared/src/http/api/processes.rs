//! `/api/v1/processes`: create, schedule, start now, pause, resume, cancel; each process's trackers
//! with progress; remind one client; confirm or override a client's values.

use super::ApiState;
use super::auth::{Advisor, Authorized, Operator, Viewer};
use super::extract::{Body, Params, id};
use crate::app::AppError;
use crate::domain::check::{BidInput, parse_bid};
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::process::{Process, ProcessAction, ProcessKind, ReminderPolicy};
use crate::domain::time::Timestamp;
use crate::http::problem::Problem;
use crate::ports::store::Page;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/processes", get(list).post(create))
        .route("/api/v1/processes/{id}", get(read))
        .route("/api/v1/processes/{id}/{action}", post(control))
        .route("/api/v1/processes/{id}/trackers", get(trackers))
        .route("/api/v1/processes/{id}/trackers/{client}/remind", post(remind))
        .route("/api/v1/processes/{id}/trackers/{client}/confirm", post(confirm))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProcessInput {
    id: Option<ProcessId>,
    stock_id: StockId,
    kind: ProcessKind,
    /// Defaults to 09:00 KST on the round's day.
    kickoff_at: Option<Timestamp>,
    #[serde(default)]
    policy: ReminderPolicy,
}

async fn list(State(s): State<ApiState>, _: Authorized<Viewer>, params: Params) -> Result<Json<Page<Value>>, Problem> {
    let page = match params.get("stock") {
        Some(stock) => s.app.store.processes_of_stock(&id::<StockId>("stock", stock)?, &params.page()?).await,
        None => s.app.store.list_processes(&params.page()?).await,
    }
    .map_err(AppError::from)?;
    let state = params.get("state");
    let items = page
        .items
        .into_iter()
        .filter(|p| state.is_none_or(|st| p.value.state().to_string() == st))
        .map(|p| json!(p))
        .collect();
    Ok(Json(Page { items, next: page.next }))
}

async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Body(input): Body<ProcessInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let stock = s.app.store.get_stock(&input.stock_id).await.map_err(AppError::from)?.value;
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
        input.policy,
        s.app.clock.now(),
    );
    let created = s.app.store.create_process(&process).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "process.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, Problem> {
    let process_id = id::<ProcessId>("id", &raw)?;
    let process = s.app.store.get_process(&process_id).await.map_err(AppError::from)?;
    let progress = s.app.progress(&process_id).await.map_err(AppError::from)?;
    Ok(Json(json!({ "value": process.value, "version": process.version, "progress": progress })))
}

async fn control(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Path((raw, action)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    let process_id = id::<ProcessId>("id", &raw)?;
    let result = match action.as_str() {
        "schedule" => s.app.schedule_process(&process_id).await.map(|p| json!(p)),
        "start" => s.app.start_now(&process_id).await.map(|r| json!({ "sent": r.sent, "failed": r.failed })),
        "pause" => s.app.control_process(&process_id, ProcessAction::Pause).await.map(|p| json!(p)),
        "resume" => s.app.control_process(&process_id, ProcessAction::Resume).await.map(|p| json!(p)),
        "cancel" => s.app.control_process(&process_id, ProcessAction::Cancel).await.map(|p| json!(p)),
        "unschedule" => s.app.control_process(&process_id, ProcessAction::Unschedule).await.map(|p| json!(p)),
        other => {
            return Err(Problem::new(StatusCode::NOT_FOUND, "Not Found", format!("no action {other:?}"))
                .field("action", "schedule, start, pause, resume, cancel or unschedule"));
        }
    };
    let result = result?;
    super::audit(&s, &caller, &format!("process.{action}"), process_id.as_str(), None, Some(result.clone())).await;
    Ok(Json(result))
}

async fn trackers(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Path(raw): Path<String>,
    params: Params,
) -> Result<Json<Value>, Problem> {
    let process_id = id::<ProcessId>("id", &raw)?;
    s.app.store.get_process(&process_id).await.map_err(AppError::from)?;
    let state = params.get("state");
    let items: Vec<Value> = s
        .app
        .store
        .trackers_of_process(&process_id)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|t| state.is_none_or(|st| t.value.state().as_str() == st))
        .map(|t| json!({ "value": t.value, "version": t.version, "deviations": t.value.deviations() }))
        .collect();
    let progress = s.app.progress(&process_id).await.map_err(AppError::from)?;
    Ok(Json(json!({ "items": items, "progress": progress })))
}

async fn remind(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Path((raw, client)): Path<(String, String)>,
) -> Result<Json<Value>, Problem> {
    let (process_id, client_id) = (id::<ProcessId>("id", &raw)?, id::<ClientId>("client", &client)?);
    let reminded = s.app.remind_now(&process_id, &client_id).await?;
    super::audit(&s, &caller, "tracker.remind", &format!("{process_id}/{client_id}"), None, None).await;
    Ok(Json(json!({ "reminded": reminded })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmInput {
    /// The values read off a screenshot, or corrections; absent to confirm what the client sent.
    lines: Option<Vec<LineInput>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineInput {
    fund: String,
    price: Option<String>,
    quantity: Option<String>,
    lockup: Option<String>,
}

async fn confirm(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Path((raw, client)): Path<(String, String)>,
    Body(input): Body<ConfirmInput>,
) -> Result<Json<Value>, Problem> {
    let (process_id, client_id) = (id::<ProcessId>("id", &raw)?, id::<ClientId>("client", &client)?);
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
