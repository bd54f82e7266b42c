//! `/api/v1/processes`: create, choose the clients (allotment checks and notices), schedule, start
//! now, pause, resume, cancel; each process's trackers with progress; remind one client; confirm or
//! record a client's answer. Bodies and answers are typed, so the OpenAPI document shows each
//! phase's advice and answer.

use super::ApiState;
use super::auth::{Advisor, Authorized, Operator, Principal, Viewer};
use super::extract::{Body, Id, Ids, Limit, OptionalBody, Query, page, referenced};
use crate::app::{AppError, Audience, AudienceOutcome, AudiencePlan, KickoffReport, Progress};
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::{ClientId, ProcessId, StockId};
use crate::domain::phase::notice::{NoticeAdvice, NoticeText};
use crate::domain::phase::{Finding, LineInput};
use crate::domain::process::{Process, ProcessAction, ProcessKind, ProcessState, ReminderPolicy};
use crate::domain::text::Label;
use crate::domain::tracker::{Tracker, TrackerState};
use crate::http::problem::Problem;
use crate::ports::store::Versioned;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read))
        .routes(routes!(audience))
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
    /// Required for every kind but a notice.
    stock_id: Option<StockId>,
    kind: ProcessKind,
    /// Defaults to 09:00 KST on the kind's day (book-building's first or last day, the first
    /// subscription day); a notice without one is sent when started.
    kickoff_at: Option<DateTime<Utc>>,
    /// By default the firm's usual reminders.
    policy: Option<ReminderPolicy>,
}

/// A process as stored, with the version a change must send back.
#[derive(Serialize, ToSchema)]
struct StoredProcess {
    value: Process,
    #[schema(minimum = 1)]
    version: u64,
}

impl From<Versioned<Process>> for StoredProcess {
    fn from(p: Versioned<Process>) -> Self {
        StoredProcess { value: p.value, version: p.version }
    }
}

/// A process with its progress: clients counted by state.
#[derive(Serialize, ToSchema)]
struct ProcessRead {
    value: Process,
    #[schema(minimum = 1)]
    version: u64,
    progress: Progress,
}

#[derive(Serialize, ToSchema)]
struct ProcessPage {
    items: Vec<StoredProcess>,
    /// The cursor of the next page; absent on the last.
    next: Option<String>,
}

/// One client's tracker, with how its answer deviates from the advice.
#[derive(Serialize, ToSchema)]
struct TrackerView {
    value: Tracker,
    #[schema(minimum = 1)]
    version: u64,
    deviations: Vec<Finding>,
}

impl From<Versioned<Tracker>> for TrackerView {
    fn from(t: Versioned<Tracker>) -> Self {
        let deviations = t.value.deviations();
        TrackerView { value: t.value, version: t.version, deviations }
    }
}

#[derive(Serialize, ToSchema)]
struct TrackerList {
    items: Vec<TrackerView>,
    /// The cursor of the next page; absent on the last.
    next: Option<String>,
    progress: Progress,
}

/// A client a send failed for, and why.
#[derive(Serialize, ToSchema)]
struct FailedSend {
    client_id: ClientId,
    reason: String,
}

/// What a start sent now: the clients sent to, and those it failed for.
#[derive(Serialize, ToSchema)]
struct StartReport {
    sent: Vec<ClientId>,
    failed: Vec<FailedSend>,
}

impl From<KickoffReport> for StartReport {
    fn from(r: KickoffReport) -> Self {
        StartReport {
            sent: r.sent,
            failed: r.failed.into_iter().map(|(client_id, reason)| FailedSend { client_id, reason }).collect(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only the processes of this stock.
    #[param(example = "hanbit")]
    stock: Option<StockId>,
    #[param(example = "running")]
    state: Option<ProcessState>,
    /// Only processes kicking off at or after this time (RFC 3339).
    #[param(example = "2026-01-01T00:00:00Z")]
    from: Option<DateTime<Utc>>,
    /// Only processes kicking off before this time (RFC 3339).
    #[param(example = "2036-01-01T00:00:00Z")]
    until: Option<DateTime<Utc>>,
    #[param(example = 10)]
    limit: Option<Limit>,
    cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TrackersQuery {
    #[param(example = "sent")]
    state: Option<TrackerState>,
    #[param(example = 10)]
    limit: Option<Limit>,
    cursor: Option<String>,
}

/// The processes, a page at a time. A filter other than `stock` applies within each
/// page, so a page may come back short while `next` goes on.
#[utoipa::path(get, path = "/api/v1/processes", tag = "processes", params(ListQuery),
    security(("staff" = ["viewer"])), responses((status = 200, body = ProcessPage)))]
async fn list(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ProcessPage>, Problem> {
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
        .map(StoredProcess::from)
        .collect();
    Ok(Json(ProcessPage { items, next: found.next.map(|c| c.0) }))
}

/// Creates a draft process; its advice (participation) or its clients (allotment, notice) come next.
#[utoipa::path(post, path = "/api/v1/processes", tag = "processes",
    request_body(content = ProcessInput, examples(
        ("notice" = (summary = "A notice to send later", value = json!({"id": "example-notice", "kind": {"kind": "notice"},
            "kickoff_at": "2036-01-02T00:00:00Z"}))),
        ("participation" = (summary = "A first-day participation", value = json!({"id": "example-first-day",
            "stock_id": "nuri-energy", "kind": {"kind": "participation", "round": "first_day"}}))),
    )),
    security(("staff" = ["advisor"])), responses((status = 201, body = StoredProcess)))]
async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Body(input): Body<ProcessInput>,
) -> Result<(StatusCode, Json<StoredProcess>), Problem> {
    let stock = match &input.stock_id {
        Some(id) => Some(referenced(s.app.store.get_stock(id).await, "stock_id")?.value),
        None if input.kind.needs_stock() => {
            return Err(Problem::bad_request(format!("a {} process is about a stock", input.kind.korean()))
                .field("stock_id", "required for this kind"));
        }
        None => None,
    };
    let now = s.app.clock.now();
    let default_kickoff = match (stock.as_ref(), input.kind) {
        // Whole seconds: it is shown to people.
        (_, ProcessKind::Notice) => now.with_nanosecond(0),
        (Some(stock), kind) => kind.default_kickoff(stock.schedule(), KrxCalendar::builtin()),
        (None, _) => None,
    };
    let Some(kickoff_at) = input.kickoff_at.or(default_kickoff) else {
        return Err(Problem::bad_request("this kind of process needs a kickoff time").field("kickoff_at", "required"));
    };
    let process = Process::new(
        input.id.unwrap_or_else(ProcessId::generate),
        input.stock_id,
        input.kind,
        kickoff_at,
        input.policy.unwrap_or_default(),
        now,
    );
    let created = s.app.store.create_process(&process).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "process.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One process with its progress: trackers counted by state.
#[utoipa::path(get, path = "/api/v1/processes/{id}", tag = "processes",
    params(("id" = ProcessId, Path, example = "demo-hanbit-first-day")),
    security(("staff" = ["viewer"])), responses((status = 200, body = ProcessRead)))]
async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<ProcessRead>, Problem> {
    let process = s.app.store.get_process(&process_id).await.map_err(AppError::from)?;
    let progress = s.app.progress(&process_id).await.map_err(AppError::from)?;
    Ok(Json(ProcessRead { value: process.value, version: process.version, progress }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AudienceQuery {
    /// Only say who would get it; nothing is written.
    #[serde(default)]
    #[param(example = false)]
    dry_run: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AudienceInput {
    audience: Audience,
    /// A notice's title and text; only for notices.
    notice: Option<NoticeInput>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NoticeInput {
    title: Label,
    text: NoticeText,
    /// Ask each client to press ✅, and chase those who do not (default: no).
    #[serde(default)]
    acknowledge: bool,
}

/// Chooses who a draft allotment check or notice goes to (and a notice's text). The allotment
/// check goes to the clients with a confirmed bid, or a list of them; a notice to every linked
/// client, a representative's, a fund type's, or a list. `dry_run` previews who and what.
#[utoipa::path(post, path = "/api/v1/processes/{id}/audience", tag = "processes",
    params(("id" = ProcessId, Path, example = "example-notice"), AudienceQuery),
    request_body(content = AudienceInput, example = json!({"audience": {"by": "all_linked"},
        "notice": {"title": "(가상)휴장 안내", "text": "내일은 휴장입니다.", "acknowledge": true}})),
    security(("staff" = ["advisor"])), responses((status = 200, body = AudienceOutcome)))]
async fn audience(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<AudienceQuery>,
    Body(input): Body<AudienceInput>,
) -> Result<Json<AudienceOutcome>, Problem> {
    let notice = input.notice.map(|n| NoticeAdvice { title: n.title, text: n.text, acknowledge: n.acknowledge });
    let plan = AudiencePlan { audience: input.audience, notice };
    let outcome = s.app.choose_audience(&process_id, plan, q.dry_run).await?;
    if outcome.applied {
        let who: Vec<&ClientId> = outcome.recipients.iter().map(|r| &r.client_id).collect();
        super::audit(&s, &caller, "process.audience", process_id.as_str(), None, Some(json!({ "clients": who }))).await;
    }
    Ok(Json(outcome))
}

async fn control(
    s: &ApiState,
    caller: &Principal,
    process_id: ProcessId,
    name: &str,
    action: ProcessAction,
) -> Result<Json<StoredProcess>, Problem> {
    let saved = s.app.control_process(&process_id, action).await?;
    super::audit(s, caller, &format!("process.{name}"), process_id.as_str(), None, Some(json!(saved.value))).await;
    Ok(Json(saved.into()))
}

/// Schedules the kickoff at `kickoff_at`; refused when that time has passed (start it now
/// instead) or the process could not start then (no advice, no final price for an allotment check).
#[utoipa::path(post, path = "/api/v1/processes/{id}/schedule", tag = "processes",
    params(("id" = ProcessId, Path, example = "example-notice")),
    security(("staff" = ["advisor"])), responses((status = 200, body = StoredProcess)))]
async fn schedule(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<StoredProcess>, Problem> {
    let saved = s.app.schedule_process(&process_id).await?;
    super::audit(&s, &caller, "process.schedule", process_id.as_str(), None, Some(json!(saved.value))).await;
    Ok(Json(saved.into()))
}

/// Takes a scheduled process back to draft; its kickoff is cancelled.
#[utoipa::path(post, path = "/api/v1/processes/{id}/unschedule", tag = "processes",
    params(("id" = ProcessId, Path, example = "example-notice")), security(("staff" = ["advisor"])), responses((status = 200, body = StoredProcess)))]
async fn unschedule(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<StoredProcess>, Problem> {
    control(&s, &caller, process_id, "unschedule", ProcessAction::Unschedule).await
}

/// Sends now instead of at the kickoff; says who was sent to and who not. Refused, saying why,
/// for a process with no advice, one cancelled or paused, or one whose stock lacks what its phase
/// needs.
#[utoipa::path(post, path = "/api/v1/processes/{id}/start", tag = "processes",
    params(("id" = ProcessId, Path, example = "example-notice")),
    security(("staff" = ["advisor"])), responses((status = 200, body = StartReport)))]
async fn start(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<StartReport>, Problem> {
    let report = StartReport::from(s.app.start_now(&process_id).await?);
    super::audit(&s, &caller, "process.start", process_id.as_str(), None, Some(json!(report))).await;
    Ok(Json(report))
}

/// Stops reminders until resumed.
#[utoipa::path(post, path = "/api/v1/processes/{id}/pause", tag = "processes",
    params(("id" = ProcessId, Path, example = "demo-hanbit-first-day")),
    security(("staff" = ["advisor"])), responses((status = 200, body = StoredProcess)))]
async fn pause(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<StoredProcess>, Problem> {
    control(&s, &caller, process_id, "pause", ProcessAction::Pause).await
}

/// Resumes a paused process; clients still waiting are chased again.
#[utoipa::path(post, path = "/api/v1/processes/{id}/resume", tag = "processes",
    params(("id" = ProcessId, Path, example = "demo-hanbit-first-day")),
    security(("staff" = ["advisor"])), responses((status = 200, body = StoredProcess)))]
async fn resume(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<StoredProcess>, Problem> {
    control(&s, &caller, process_id, "resume", ProcessAction::Resume).await
}

/// Cancels the process: nothing more is sent.
#[utoipa::path(post, path = "/api/v1/processes/{id}/cancel", tag = "processes",
    params(("id" = ProcessId, Path, example = "example-first-day")),
    security(("staff" = ["advisor"])), responses((status = 200, body = StoredProcess)))]
async fn cancel(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(process_id): Id<ProcessId>,
) -> Result<Json<StoredProcess>, Problem> {
    control(&s, &caller, process_id, "cancel", ProcessAction::Cancel).await
}

/// The clients' trackers (each with its phase's advice and answer, and its deviations), a page at
/// a time by client, and the progress counts. With `state`, a page may come back short while
/// `next` goes on.
#[utoipa::path(get, path = "/api/v1/processes/{id}/trackers", tag = "processes",
    params(("id" = ProcessId, Path, example = "demo-hanbit-first-day"), TrackersQuery), security(("staff" = ["viewer"])),
    responses((status = 200, body = TrackerList)))]
async fn trackers(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(process_id): Id<ProcessId>,
    Query(q): Query<TrackersQuery>,
) -> Result<Json<TrackerList>, Problem> {
    s.app.store.get_process(&process_id).await.map_err(AppError::from)?;
    let found =
        s.app.store.trackers_page(&process_id, q.state, &page(q.limit, q.cursor)).await.map_err(AppError::from)?;
    let items = found.items.into_iter().map(TrackerView::from).collect();
    let progress = s.app.progress(&process_id).await.map_err(AppError::from)?;
    Ok(Json(TrackerList { items, next: found.next.map(|c| c.0), progress }))
}

#[derive(Serialize, ToSchema)]
struct Reminded {
    reminded: bool,
}

/// Reminds one client now, whatever the policy's timing; refused, saying why, when the client
/// is not the one who has to act.
#[utoipa::path(post, path = "/api/v1/processes/{id}/trackers/{client}/remind", tag = "processes",
    params(("id" = ProcessId, Path, example = "demo-hanbit-first-day"), ("client" = ClientId, Path, example = "saebyeok")),
    security(("staff" = ["operator"])), responses((status = 200, body = Reminded)))]
async fn remind(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
) -> Result<Json<Reminded>, Problem> {
    s.app.remind_now(&process_id, &client_id).await?;
    super::audit(&s, &caller, "tracker.remind", &format!("{process_id}/{client_id}"), None, None).await;
    Ok(Json(Reminded { reminded: true }))
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfirmInput {
    /// The values read off a screenshot, corrected, or taken by phone; absent (or no body at all)
    /// to confirm what the client sent.
    lines: Option<Vec<LineBody>>,
}

/// One fund's values, written as a person would: `17,000`, `1만주`, `15일`. A bid needs all
/// three; an allotment a quantity (`0` or `미배정` for none) and, when allotted, its lock-up; an
/// execution report a quantity (`0`, `미매도`, `전량`) and, when sold, the average price (`note` for
/// why not); a statement quantity, price, amount, commission, tax and net.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LineBody {
    /// The fund's id or name.
    fund: String,
    price: Option<String>,
    quantity: Option<String>,
    lockup: Option<String>,
    /// A statement's gross amount (매매금액).
    amount: Option<String>,
    /// A statement's commission (수수료).
    commission: Option<String>,
    /// A statement's tax (거래세, with 농특세).
    tax: Option<String>,
    /// A statement's net settlement (정산금액).
    net: Option<String>,
    /// Why nothing was sold (미매도).
    note: Option<String>,
}

/// Confirms what the client sent, or records the values staff read, corrected or took by phone
/// (then also from a tracker that was sent but not answered).
#[utoipa::path(post, path = "/api/v1/processes/{id}/trackers/{client}/confirm", tag = "processes",
    params(("id" = ProcessId, Path, example = "demo-hanbit-first-day"), ("client" = ClientId, Path, example = "nuri")),
    request_body(content = Option<ConfirmInput>,
        example = json!({"lines": [{"fund": "kv", "price": "17,500", "quantity": "50만주", "lockup": "3개월"}]})),
    security(("staff" = ["operator"])), responses((status = 200, body = TrackerView)))]
async fn confirm(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Ids(process_id, client_id): Ids<ProcessId, ClientId>,
    OptionalBody(input): OptionalBody<ConfirmInput>,
) -> Result<Json<TrackerView>, Problem> {
    let by = caller.staff_id.clone().ok_or_else(|| Problem::forbidden("staff"))?;
    let lines: Option<Vec<LineInput>> = input.lines.map(|lines| {
        lines
            .into_iter()
            .map(|l| LineInput {
                fund: l.fund,
                price: l.price,
                quantity: l.quantity,
                lockup: l.lockup,
                amount: l.amount,
                commission: l.commission,
                tax: l.tax,
                net: l.net,
                note: l.note,
            })
            .collect()
    });
    let saved = s.app.confirm(&process_id, &client_id, &by, lines.as_deref()).await?;
    super::audit(&s, &caller, "tracker.confirm", &format!("{process_id}/{client_id}"), None, Some(json!(saved.value)))
        .await;
    Ok(Json(saved.into()))
}
