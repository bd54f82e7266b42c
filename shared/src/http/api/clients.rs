//! `/api/v1/clients`: the firm's clients, their fund accounts, group link codes and message logs.

use super::ApiState;
use super::auth::{Admin, Authorized, Operator, Viewer};
use super::extract::{Body, Params, id};
use crate::app::AppError;
use crate::domain::client::{Client, FundAccount};
use crate::domain::ids::{ClientId, StaffId};
use crate::domain::text::Label;
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
        .route("/api/v1/clients", get(list).post(create))
        .route("/api/v1/clients/{id}", get(read).put(update))
        .route("/api/v1/clients/{id}/link-code", post(link_code))
        .route("/api/v1/clients/{id}/messages", get(messages))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientInput {
    id: Option<ClientId>,
    name: Label,
    representative: StaffId,
    funds: Vec<FundAccount>,
    #[serde(default = "yes")]
    response_tracking: bool,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    memo: String,
    /// Required on update: the version read.
    version: Option<u64>,
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

async fn list(State(s): State<ApiState>, _: Authorized<Viewer>, params: Params) -> Result<Json<Page<Value>>, Problem> {
    let page = s.app.store.list_clients(&params.page()?).await.map_err(AppError::from)?;
    let representative = params.get("representative");
    let items = page
        .items
        .into_iter()
        .filter(|c| representative.is_none_or(|r| c.value.representative.as_str() == r))
        .map(|c| json!(c))
        .collect();
    Ok(Json(Page { items, next: page.next }))
}

async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Body(input): Body<ClientInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let id = input.id.clone().unwrap_or_else(ClientId::generate);
    let client = build(input, id)?;
    let created = s.app.store.create_client(&client).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "client.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, Problem> {
    let client = s.app.store.get_client(&id::<ClientId>("id", &raw)?).await.map_err(AppError::from)?;
    Ok(Json(json!(client)))
}

async fn update(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Path(raw): Path<String>,
    Body(input): Body<ClientInput>,
) -> Result<Json<Value>, Problem> {
    let client_id = id::<ClientId>("id", &raw)?;
    let version =
        input.version.ok_or_else(|| Problem::bad_request("send the version you read").field("version", "required"))?;
    let client = build(input, client_id)?;
    let before = s.app.store.get_client(&client.id).await.ok().map(|c| json!(c.value));
    let updated = s.app.store.update_client(&client, version).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "client.update", updated.value.id.as_str(), before, Some(json!(updated.value))).await;
    Ok(Json(json!(updated)))
}

async fn link_code(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Operator>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, Problem> {
    let client = s.app.store.get_client(&id::<ClientId>("id", &raw)?).await.map_err(AppError::from)?;
    let (code, expires_at) = s.app.issue_link_code(&client.value).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "client.link_code", client.value.id.as_str(), None, None).await;
    Ok(Json(json!({ "code": code, "expires_at": expires_at, "send_in_group": format!("/link {code}") })))
}

async fn messages(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Path(raw): Path<String>,
    params: Params,
) -> Result<Json<Value>, Problem> {
    let client_id = id::<ClientId>("id", &raw)?;
    let (from, until) = super::journal::window(&s, &params)?;
    let page = s.app.store.client_messages(&client_id, from, until, &params.page()?).await.map_err(AppError::from)?;
    Ok(Json(json!(page)))
}
