//! Staff: everyone reads the list; admins add staff and change a member's role or deactivate them
//! (the API's `/staff` routes, the same extractors and audit entries).

use super::actions::flash;
use super::clients::all_staff;
use super::kit::{Fields, export, select, write_error};
use crate::domain::ids::{StaffId, TelegramUserId};
use crate::domain::staff::{Role, Staff};
use crate::export::{Cell, Table};
use crate::http::api::auth::{Admin, Authorized, Principal, Viewer};
use crate::web::extract::Id;
use crate::web::layout::{export_buttons, heading, may};
use crate::web::{WebError, WebState, fmt};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, put};
use maud::{Markup, html};
use serde_json::json;

pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/ui/staff", get(page).post(create))
        .route("/ui/staff/export", get(export_list))
        .route("/ui/staff/{id}", put(update))
}

const ROLES: [Role; 4] = [Role::Viewer, Role::Operator, Role::Advisor, Role::Admin];

fn role_options() -> Vec<(String, String)> {
    ROLES
        .iter()
        .map(|r| (fmt::role_name(*r).to_owned(), format!("{} ({})", fmt::role_korean(*r), fmt::role_name(*r))))
        .collect()
}

fn role_from(f: &Fields) -> Result<Role, WebError> {
    let raw = f.required("role", "역할")?;
    ROLES.into_iter().find(|r| fmt::role_name(*r) == raw).ok_or_else(|| {
        WebError::bad_request(format!("역할: {raw:?}는 viewer, operator, advisor, admin 중 하나여야 합니다"))
    })
}

async fn page(State(state): State<WebState>, Authorized(caller, _): Authorized<Viewer>) -> Result<Markup, WebError> {
    render(&state, &caller).await
}

async fn render(state: &WebState, caller: &Principal) -> Result<Markup, WebError> {
    let staff = all_staff(state).await?;
    let admin = may(caller.role, Role::Admin);
    Ok(html! {
        (heading("직원"))
        @if admin {
            details.card #new-staff data-testid="new-staff" {
                summary { "직원 추가" }
                form.stack hx-post="/ui/staff" hx-target="#main" #new-staff-form {
                    div.form-grid {
                        label for="staff-name" { "이름" input #staff-name name="name" required data-testid="staff-name"; }
                        label for="staff-id" { "직원 ID (비우면 자동)" input #staff-id name="id" data-testid="staff-id" pattern="[A-Za-z0-9_-]{1,56}"; }
                        label for="staff-role" { "역할" (select("role", "staff-role", &role_options(), Some("viewer"))) }
                        label for="staff-tg" { "텔레그램 사용자 ID (선택)" input #staff-tg name="telegram_user_id" inputmode="numeric" data-testid="staff-tg"; }
                    }
                    div.actions { button.primary type="submit" data-testid="create-staff" id="create-staff" { "추가" } }
                }
            }
        }
        h2 { "직원 목록" span.count { (staff.len()) "명" } span.spacer {} (export_buttons("/ui/staff/export", "export-staff")) }
        div.table-wrap {
            table.nowrap data-testid="staff-table" {
                thead { tr { th { "이름" } th { "ID" } th { "역할" } th.hide-narrow { "텔레그램" } th { "상태" } @if admin { th { "변경" } } } }
                tbody {
                    @for s in &staff {
                        @let m = &s.value;
                        tr data-testid="staff-row" data-staff=(m.id) .inactive[!m.active] {
                            td { (m.name) }
                            td { (m.id) }
                            td data-testid="staff-role-shown" { (fmt::role_korean(m.role)) }
                            td.hide-narrow { @if let Some(u) = m.telegram_user_id { (u.0) } @else { span.muted { "미연결" } } }
                            td { @if m.active { "활성" } @else { span.muted { "비활성" } } }
                            @if admin {
                                td {
                                    form.inline hx-put={ "/ui/staff/" (m.id) } hx-target="#main" data-testid="edit-staff" {
                                        input type="hidden" name="version" value=(s.version);
                                        (select("role", &format!("role-{}", m.id), &role_options(), Some(fmt::role_name(m.role))))
                                        label.check { input type="checkbox" name="active" value="true" checked[m.active] data-testid={ "active-" (m.id) }; " 활성" }
                                        button type="submit" data-testid={ "save-staff-" (m.id) } { "저장" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

async fn export_list(
    State(state): State<WebState>,
    _: Authorized<Viewer>,
    Query(q): Query<crate::web::export::FormatQuery>,
) -> Result<Response, WebError> {
    let staff = all_staff(&state).await?;
    let mut t = Table::new("직원", &["직원 ID", "이름", "역할", "텔레그램 사용자 ID", "활성"]);
    for s in &staff {
        let m = &s.value;
        t.push(vec![
            Cell::text(m.id.as_str()),
            Cell::text(m.name.as_str()),
            Cell::text(fmt::role_korean(m.role)),
            m.telegram_user_id.map_or(Cell::Empty, |u| Cell::text(u.0.to_string())),
            Cell::text(if m.active { "예" } else { "아니오" }),
        ]);
    }
    export(&t, q.format.as_deref(), "staff")
}

async fn create(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Admin>,
    f: Fields,
) -> Result<Markup, WebError> {
    let staff = Staff {
        id: f.parse_opt::<StaffId>("id", "직원 ID")?.unwrap_or_else(StaffId::generate),
        name: f.label("name", "이름")?,
        role: role_from(&f)?,
        telegram_user_id: f.parse_opt::<i64>("telegram_user_id", "텔레그램 사용자 ID")?.map(TelegramUserId),
        active: true,
    };
    let created = state.app.create_staff(&staff).await.map_err(write_error)?;
    state
        .app
        .record_audit(&caller.name, "staff.create", created.value.id.as_str(), None, Some(json!(created.value)))
        .await;
    let page = render(&state, &caller).await?;
    Ok(html! { (page) (flash(&format!("{}을(를) 추가했습니다.", created.value.name))) })
}

async fn update(
    State(state): State<WebState>,
    Authorized(caller, _): Authorized<Admin>,
    Id(id): Id<StaffId>,
    f: Fields,
) -> Result<Markup, WebError> {
    let version = f.version()?;
    let before = state.app.store.get_staff(&id).await?;
    // Only the role and whether active change here; name and Telegram account stay as they were.
    let staff = Staff { role: role_from(&f)?, active: f.checked("active"), ..before.value.clone() };
    let updated = state.app.update_staff(&staff, version).await.map_err(write_error)?;
    state
        .app
        .record_audit(&caller.name, "staff.update", id.as_str(), Some(json!(before.value)), Some(json!(updated.value)))
        .await;
    let page = render(&state, &caller).await?;
    let m = &updated.value;
    let message = format!("{}: {}, {}", m.name, fmt::role_korean(m.role), if m.active { "활성" } else { "비활성" });
    Ok(html! { (page) (flash(&message)) })
}
