//! `/api/v1/staff`: the firm's staff and their roles. Everyone reads; only admins write.

use super::ApiState;
use super::auth::{Admin, Authorized, Viewer};
use super::extract::{Body, Params, id};
use crate::app::AppError;
use crate::domain::ids::{StaffId, TelegramUserId};
use crate::domain::staff::{Role, Staff};
use crate::domain::text::Label;
use crate::http::problem::Problem;
use crate::ports::store::Page;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/staff", get(list).post(create)).route("/api/v1/staff/{id}", get(read).put(update))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffInput {
    id: Option<StaffId>,
    name: Label,
    role: Role,
    telegram_user_id: Option<TelegramUserId>,
    #[serde(default = "yes")]
    active: bool,
    /// Required on update: the version read.
    version: Option<u64>,
}

fn yes() -> bool {
    true
}

async fn list(State(s): State<ApiState>, _: Authorized<Viewer>, params: Params) -> Result<Json<Page<Value>>, Problem> {
    let page = s.app.store.list_staff(&params.page()?).await.map_err(AppError::from)?;
    Ok(Json(Page { items: page.items.into_iter().map(|p| json!(p)).collect(), next: page.next }))
}

async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Body(input): Body<StaffInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let staff = Staff {
        id: input.id.unwrap_or_else(StaffId::generate),
        name: input.name,
        role: input.role,
        telegram_user_id: input.telegram_user_id,
        active: input.active,
    };
    let created = s.app.store.create_staff(&staff).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "staff.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, Problem> {
    let staff = s.app.store.get_staff(&id::<StaffId>("id", &raw)?).await.map_err(AppError::from)?;
    Ok(Json(json!(staff)))
}

async fn update(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Path(raw): Path<String>,
    Body(input): Body<StaffInput>,
) -> Result<Json<Value>, Problem> {
    let version =
        input.version.ok_or_else(|| Problem::bad_request("send the version you read").field("version", "required"))?;
    let staff = Staff {
        id: id::<StaffId>("id", &raw)?,
        name: input.name,
        role: input.role,
        telegram_user_id: input.telegram_user_id,
        active: input.active,
    };
    let before = s.app.store.get_staff(&staff.id).await.ok().map(|st| json!(st.value));
    let updated = s.app.store.update_staff(&staff, version).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "staff.update", updated.value.id.as_str(), before, Some(json!(updated.value))).await;
    Ok(Json(json!(updated)))
}
