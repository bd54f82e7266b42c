//! `/api/v1/staff`: the firm's staff and their roles. Everyone reads; only admins write.

use super::ApiState;
use super::auth::{Admin, Authorized, Viewer};
use super::extract::{Body, Id, Limit, Query, new_record, page, revision};
use super::openapi::{Listing, Stored};
use crate::app::AppError;
use crate::domain::ids::{StaffId, TelegramUserId};
use crate::domain::staff::{Role, Staff};
use crate::domain::text::Label;
use crate::http::problem::Problem;
use crate::ports::store::Page;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(read, update))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StaffInput {
    /// Generated when absent.
    id: Option<StaffId>,
    name: Label,
    role: Role,
    telegram_user_id: Option<TelegramUserId>,
    #[serde(default = "yes")]
    #[schema(default = true)]
    active: bool,
    /// The version read: required on update, refused on create.
    #[schema(minimum = 1)]
    version: Option<u64>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[param(example = 10)]
    limit: Option<Limit>,
    cursor: Option<String>,
}

/// The staff, a page at a time.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", params(ListQuery), security(("staff" = ["viewer"])),
    responses((status = 200, body = Listing)))]
async fn list(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<Value>>, Problem> {
    let found = s.app.store.list_staff(&page(q.limit, q.cursor)).await.map_err(AppError::from)?;
    Ok(Json(Page { items: found.items.into_iter().map(|p| json!(p)).collect(), next: found.next }))
}

/// Adds a staff member.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff",
    request_body(content = StaffInput, example = json!({"id": "example-viewer", "name": "(가상)이조회", "role": "viewer"})),
    security(("staff" = ["admin"])), responses((status = 201, body = Stored)))]
async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Body(input): Body<StaffInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let staff = Staff {
        id: new_record(input.id, input.version, StaffId::generate)?,
        name: input.name,
        role: input.role,
        telegram_user_id: input.telegram_user_id,
        active: input.active,
    };
    let created = s.app.create_staff(&staff).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "staff.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

/// One staff member.
#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = StaffId, Path, example = "rep-kim")),
    security(("staff" = ["viewer"])), responses((status = 200, body = Stored)))]
async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(staff_id): Id<StaffId>,
) -> Result<Json<Value>, Problem> {
    let staff = s.app.store.get_staff(&staff_id).await.map_err(AppError::from)?;
    Ok(Json(json!(staff)))
}

/// Replaces a staff member's record; `version` must be the one read.
#[utoipa::path(put, path = "/api/v1/staff/{id}", tag = "staff", params(("id" = StaffId, Path, example = "rep-kim")),
    request_body(content = StaffInput, example = json!({"name": "김대리", "role": "operator", "version": 1})), security(("staff" = ["admin"])), responses((status = 200, body = Stored)))]
async fn update(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Admin>,
    Id(staff_id): Id<StaffId>,
    Body(input): Body<StaffInput>,
) -> Result<Json<Value>, Problem> {
    let version = revision(&staff_id, input.id.as_ref(), input.version)?;
    let staff = Staff {
        id: staff_id,
        name: input.name,
        role: input.role,
        telegram_user_id: input.telegram_user_id,
        active: input.active,
    };
    let before = s.app.store.get_staff(&staff.id).await.ok().map(|st| json!(st.value));
    let updated = s.app.update_staff(&staff, version).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "staff.update", updated.value.id.as_str(), before, Some(json!(updated.value))).await;
    Ok(Json(json!(updated)))
}
