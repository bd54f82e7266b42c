//! `/api/v1/clients`: the firm's clients, their fund accounts, group link codes and message logs.

use super::ApiState;
use super::auth::{Admin, Authorized, Operator, Viewer};
use super::extract::{Body, Id, Limit, Query, new_record, page, referenced, revision};
use super::journal::Window;
use super::openapi::{Listing, Stored};
use crate::app::AppError;
use crate::domain::client::{Client, FundAccount};
use crate::domain::ids::{ClientId, StaffId};
use crate::domain::text::Label;
use crate::http::problem::Problem;
use crate::ports::store::Page;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update))
        .routes(routes!(link_code, revoke_link_codes))
        .routes(routes!(messages))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClientInput {
    /// Generated when absent.
    id: Option<ClientId>,
    name: Label,
    /// The staff member who looks after this client.
    representative: StaffId,
    /// At least one; names unique ignoring spaces.
    #[schema(min_items = 1)]
    funds: Vec<FundAccount>,
    /// Whether the client is chased for answers.
    #[serde(default = "yes")]
    #[schema(default = true)]
    response_tracking: bool,
    #[serde(default = "yes")]
    #[schema(default = true)]
    active: bool,
    #[serde(default)]
    memo: String,
    /// The version read: required on update, refused on create.
    #[schema(minimum = 1)]
    version: Option<u64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only the clients of this representative.
    #[param(example = "rep-kim")]
    representative: Option<StaffId>,
    #[param(example = 10)]
    limit: Option<Limit>,
    cursor: Option<String>,
}

/// A one-time code to link a client's Telegram group.
#[derive(Serialize, ToSchema)]
struct IssuedCode {
    code: String,
    expires_at: DateTime<Utc>,
    /// What to send in the group.
    send_in_group: String,
}

fn yes() -> bool {
    true
}

fn build(input: ClientInput, id: ClientId) -> Result<Client, Problem> {
    let mut client = Client::new(id, input.name, input.representative, input.funds)
        .map_err(|e| Problem::bad_request(e.to_string()).field("funds", e.to_string()))?;
    client.response_tracking = input.response_tracking;
    client.active = input.active;
    client.memo = input.memo;
    Ok(client)
}

/// The clients, a page at a time. A filter applies within each page, so a page may come back
/// short while `next` goes on.
#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", params(ListQuery), security(("staff" = ["viewer"])),
    responses((status = 200, body = Listing)))]
async fn list(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<Value>>, Problem> {
    let found = s.app.store.list_clients(&page(q.limit, q.cursor)).await.map_err(AppError::from)?;
    let items = found
        .items
        .into_iter()
        .filter(|c| q.representative.as_ref().is_none_or(|r| &c.value.representative == r))
        .map(|c| json!(c))
        .collect();
    Ok(Json(Page { items, next: found.next }))
}

/// Adds a client with its fund accounts.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients",
    request_body(content = ClientInput, example = json!({"id": "example-client", "name": "(가상)예시자산운용",
        "representative": "rep-kim", "funds": [{"id": "ipo", "name": "공모주", "kind": "ipo_fund", "aum": 10_000_000_000_i64}]})),
    security(("staff" = ["admin"])), responses((status = 201, body = Stored)))]
async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Body(input): Body<ClientInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id = new_record(input.id.clone(), input.version, ClientId::generate)?;
    referenced(s.app.store.get_staff(&input.representative).await, "representative")?;
    let client = build(input, id)?;
    let created = s.app.store.create_client(&client).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "client.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = ClientId, Path, example = "saebyeok")),
    security(("staff" = ["viewer"])), responses((status = 200, body = Stored)))]
async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(client_id): Id<ClientId>,
) -> Result<Json<Value>, Problem> {
    let client = s.app.store.get_client(&client_id).await.map_err(AppError::from)?;
    Ok(Json(json!(client)))
}

/// Replaces a client's record; `version` must be the one read.
#[utoipa::path(put, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = ClientId, Path, example = "gaon")),
    request_body(content = ClientInput, example = json!({"name": "(가상)가온자산운용", "representative": "rep-kim",
        "funds": [{"id": "ipo", "name": "공모주 채권혼합", "kind": "ipo_fund", "aum": 230_000_000_000_i64},
                  {"id": "pv", "name": "사모", "kind": "private", "aum": 30_000_000_000_i64}], "version": 1})), security(("staff" = ["admin"])), responses((status = 200, body = Stored)))]
async fn update(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Id(client_id): Id<ClientId>,
    Body(input): Body<ClientInput>,
) -> Result<Json<Value>, Problem> {
    let version = revision(&client_id, input.id.as_ref(), input.version)?;
    referenced(s.app.store.get_staff(&input.representative).await, "representative")?;
    let client = build(input, client_id)?;
    let before = s.app.store.get_client(&client.id).await.ok().map(|c| json!(c.value));
    let updated = s.app.store.update_client(&client, version).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "client.update", updated.value.id.as_str(), before, Some(json!(updated.value))).await;
    Ok(Json(json!(updated)))
}

/// Issues a one-time code that links the client's Telegram group when sent there.
#[utoipa::path(post, path = "/api/v1/clients/{id}/link-code", tag = "clients", params(("id" = ClientId, Path, example = "saebyeok")),
    security(("staff" = ["operator"])), responses((status = 200, body = IssuedCode)))]
async fn link_code(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Id(client_id): Id<ClientId>,
) -> Result<Json<IssuedCode>, Problem> {
    let client = s.app.store.get_client(&client_id).await.map_err(AppError::from)?;
    let (code, expires_at) = s.app.issue_link_code(&client.value).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "client.link_code", client.value.id.as_str(), None, None).await;
    Ok(Json(IssuedCode { send_in_group: format!("/link {code}"), code: code.to_string(), expires_at }))
}

/// Revokes every link code issued to the client (a code shared with the wrong person, say):
/// none of them links any more. A linked group stays linked.
#[utoipa::path(delete, path = "/api/v1/clients/{id}/link-code", tag = "clients", params(("id" = ClientId, Path, example = "nuri")),
    security(("staff" = ["operator"])), responses((status = 204, description = "every code of the client revoked")))]
async fn revoke_link_codes(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Id(client_id): Id<ClientId>,
) -> Result<axum::http::StatusCode, Problem> {
    let client = s.app.store.get_client(&client_id).await.map_err(AppError::from)?;
    let until = s.app.clock.now() + s.app.config.link_code_lifetime;
    s.app.store.revoke_link_codes(&client.value.id, until).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "client.link_codes_revoked", client.value.id.as_str(), None, None).await;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The messages sent to and received from the client's group, by time.
#[utoipa::path(get, path = "/api/v1/clients/{id}/messages", tag = "clients", params(("id" = ClientId, Path, example = "saebyeok"), Window),
    security(("staff" = ["viewer"])), responses((status = 200, body = Listing)))]
async fn messages(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(client_id): Id<ClientId>,
    Query(w): Query<Window>,
) -> Result<Json<Value>, Problem> {
    let (from, until) = w.bounds(s.app.clock.now())?;
    let found =
        s.app.store.client_messages(&client_id, from, until, &page(w.limit, w.cursor)).await.map_err(AppError::from)?;
    Ok(Json(json!(found)))
}
