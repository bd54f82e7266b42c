//! `/api/v1/stocks`: IPOs with their schedules; KRX's ordering rules refuse, the soft rules warn.

use super::ApiState;
use super::auth::{Advisor, Authorized, Viewer};
use super::extract::{Body, Id, Limit, Query, page};
use super::openapi::Listing;
use crate::app::AppError;
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::StockId;
use crate::domain::money::Price;
use crate::domain::regulation::Regulation;
use crate::domain::stock::{Market, NewStock, PriceBand, Schedule, ScheduleDates, Stock, StockCode};
use crate::domain::text::Label;
use crate::http::problem::Problem;
use crate::ports::store::Page;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read))
        .routes(routes!(final_price))
        .routes(routes!(amend))
        .routes(routes!(withdraw))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StockInput {
    /// Generated when absent.
    id: Option<StockId>,
    name: Label,
    code: Option<StockCode>,
    market: Market,
    lead_manager: Label,
    band: PriceBand,
    /// Checked against KRX's order here, so each broken rule is named.
    schedule: ScheduleDates,
    #[serde(default)]
    spac: bool,
}

/// A stock as stored, with what its schedule should be checked for.
#[derive(ToSchema)]
#[allow(dead_code)] // describes responses
struct StockView {
    #[schema(value_type = Object)]
    value: (),
    #[schema(minimum = 1)]
    version: u64,
    /// Soft rules the schedule breaks, such as a short book-building.
    #[schema(value_type = Vec<Object>)]
    warnings: (),
    /// After an amendment: how many kickoffs still to come moved with it.
    #[schema(value_type = Option<u64>)]
    moved_kickoffs: (),
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only stocks whose schedule (filing to listing) reaches this KST date or later.
    #[param(example = "2026-03-01")]
    from: Option<NaiveDate>,
    /// Only stocks whose schedule starts on or before this KST date.
    #[param(example = "2026-04-30")]
    until: Option<NaiveDate>,
    #[param(example = 10)]
    limit: Option<Limit>,
    cursor: Option<String>,
}

fn with_warnings(stock: &crate::ports::store::Versioned<Stock>) -> Value {
    let warnings = stock.value.warnings(KrxCalendar::builtin(), Regulation::builtin());
    json!({ "value": stock.value, "version": stock.version, "warnings": warnings })
}

/// The stocks, a page at a time. A filter applies within each page, so a page may come back short
/// while `next` goes on.
#[utoipa::path(get, path = "/api/v1/stocks", tag = "stocks", params(ListQuery), security(("staff" = ["viewer"])),
    responses((status = 200, body = Listing)))]
async fn list(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Page<Value>>, Problem> {
    let found = s.app.store.list_stocks(&page(q.limit, q.cursor)).await.map_err(AppError::from)?;
    let items = found
        .items
        .iter()
        .filter(|st| {
            let dates = st.value.schedule().dates();
            q.from.is_none_or(|from| dates.listing >= from) && q.until.is_none_or(|until| dates.filing <= until)
        })
        .map(with_warnings)
        .collect();
    Ok(Json(Page { items, next: found.next }))
}

/// Adds a stock; a schedule out of KRX's order is refused, naming each broken rule.
#[utoipa::path(post, path = "/api/v1/stocks", tag = "stocks",
    request_body(content = StockInput, example = json!({"id": "example-stock", "name": "(가상)예시바이오", "market": "KOSDAQ",
        "lead_manager": "(가상)미래증권", "band": {"low": 10000, "high": 12000},
        "schedule": {"filing": "2027-02-01", "bookbuilding_start": "2027-03-08", "bookbuilding_end": "2027-03-12",
            "price_fixing": "2027-03-15", "subscription_start": "2027-03-17", "subscription_end": "2027-03-18",
            "payment": "2027-03-22", "listing": "2027-03-29"}})),
    security(("staff" = ["advisor"])), responses((status = 201, body = StockView)))]
async fn create(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Body(input): Body<StockInput>,
) -> Result<(StatusCode, Json<Value>), Problem> {
    let schedule = checked(input.schedule)?;
    let stock = Stock::new(NewStock {
        id: input.id.unwrap_or_else(StockId::generate),
        name: input.name,
        code: input.code,
        market: input.market,
        lead_manager: input.lead_manager,
        band: input.band,
        schedule,
        spac: input.spac,
    });
    let created = s.app.store.create_stock(&stock).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "stock.create", created.value.id.as_str(), None, Some(json!(created.value))).await;
    Ok((StatusCode::CREATED, Json(with_warnings(&created))))
}

/// One stock.
#[utoipa::path(get, path = "/api/v1/stocks/{id}", tag = "stocks", params(("id" = StockId, Path, example = "hanbit")),
    security(("staff" = ["viewer"])), responses((status = 200, body = StockView)))]
async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Id(stock_id): Id<StockId>,
) -> Result<Json<Value>, Problem> {
    let stock = s.app.store.get_stock(&stock_id).await.map_err(AppError::from)?;
    Ok(Json(with_warnings(&stock)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct FinalPrice {
    price: Price,
    #[schema(minimum = 1)]
    version: u64,
}

/// Sets the final offer price (공모가 확정), once book-building has ended. A price off the tick grid or
/// outside the band is kept, with a warning.
#[utoipa::path(post, path = "/api/v1/stocks/{id}/final-price", tag = "stocks",
    params(("id" = StockId, Path, example = "hanbit")),
    request_body(content = FinalPrice, example = json!({"price": 17000, "version": 1})), security(("staff" = ["advisor"])), responses((status = 200, body = StockView)))]
async fn final_price(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(stock_id): Id<StockId>,
    Body(input): Body<FinalPrice>,
) -> Result<Json<Value>, Problem> {
    let saved = s.app.set_final_price(&stock_id, input.price, input.version).await.map_err(|e| match e {
        AppError::Stock(e) => {
            Problem::new(StatusCode::CONFLICT, "Conflict", e.to_string()).field("price", e.to_string())
        }
        e => e.into(),
    })?;
    super::audit(&s, &caller, "stock.final_price", stock_id.as_str(), None, Some(json!(saved.value))).await;
    Ok(Json(with_warnings(&saved)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Amendment {
    schedule: ScheduleDates,
    #[schema(minimum = 1)]
    version: u64,
}

/// 정정신고서: a new schedule, checked like a new stock's; kickoffs still to come move with it.
#[utoipa::path(put, path = "/api/v1/stocks/{id}/schedule", tag = "stocks",
    params(("id" = StockId, Path, example = "nuri-energy")),
    request_body(content = Amendment, example = json!({"version": 1,
        "schedule": {"filing": "2026-02-25", "bookbuilding_start": "2026-03-19", "bookbuilding_end": "2026-03-25",
            "price_fixing": "2026-03-27", "subscription_start": "2026-03-31", "subscription_end": "2026-04-01",
            "payment": "2026-04-03", "listing": "2026-04-13"}})), security(("staff" = ["advisor"])), responses((status = 200, body = StockView)))]
async fn amend(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(stock_id): Id<StockId>,
    Body(input): Body<Amendment>,
) -> Result<Json<Value>, Problem> {
    let schedule = checked(input.schedule)?;
    let before = s.app.store.get_stock(&stock_id).await.ok().map(|st| json!(st.value));
    let (saved, moved) = s.app.amend_schedule(&stock_id, schedule, input.version).await?;
    super::audit(&s, &caller, "stock.amend", stock_id.as_str(), before, Some(json!(saved.value))).await;
    let mut body = with_warnings(&saved);
    body["moved_kickoffs"] = json!(moved);
    Ok(Json(body))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Withdrawal {
    #[schema(minimum = 1)]
    version: u64,
}

/// 철회: every process of the stock is cancelled and the clients concerned are told.
#[utoipa::path(post, path = "/api/v1/stocks/{id}/withdraw", tag = "stocks",
    params(("id" = StockId, Path, example = "hangyeol-spac7")),
    request_body(content = Withdrawal, example = json!({"version": 1})), security(("staff" = ["advisor"])), responses((status = 200, body = StockView)))]
async fn withdraw(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Id(stock_id): Id<StockId>,
    Body(input): Body<Withdrawal>,
) -> Result<Json<Value>, Problem> {
    let saved = s.app.withdraw_stock(&stock_id, input.version).await?;
    super::audit(&s, &caller, "stock.withdraw", stock_id.as_str(), None, Some(json!(saved.value))).await;
    Ok(Json(with_warnings(&saved)))
}

/// KRX's order, with each broken rule named as a field error.
fn checked(dates: ScheduleDates) -> Result<Schedule, Problem> {
    Schedule::new(dates).map_err(|e| {
        let mut problem = Problem::bad_request(e.to_string());
        if let crate::domain::stock::StockError::ScheduleOutOfOrder(violations) = &e {
            for v in violations {
                problem = problem.field(&format!("schedule.{}", v.earlier), v.to_string());
            }
        }
        problem
    })
}
