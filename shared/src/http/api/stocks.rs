//! `/api/v1/stocks`: IPOs with their schedules; KRX's ordering rules refuse, the soft rules warn.

use super::ApiState;
use super::auth::{Advisor, Authorized, Viewer};
use super::extract::{Body, Params, id};
use crate::app::AppError;
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::StockId;
use crate::domain::money::Price;
use crate::domain::stock::{Market, NewStock, PriceBand, Schedule, ScheduleDates, Stock, StockCode};
use crate::domain::text::Label;
use crate::domain::time::kst_date;
use crate::http::problem::Problem;
use crate::ports::store::Page;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/stocks", get(list).post(create))
        .route("/api/v1/stocks/{id}", get(read))
        .route("/api/v1/stocks/{id}/final-price", post(final_price))
        .route("/api/v1/stocks/{id}/schedule", put(amend))
        .route("/api/v1/stocks/{id}/withdraw", post(withdraw))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StockInput {
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

fn with_warnings(stock: &crate::ports::store::Versioned<Stock>) -> Value {
    let warnings = stock.value.schedule().warnings(KrxCalendar::builtin(), stock.value.spac);
    json!({ "value": stock.value, "version": stock.version, "warnings": warnings })
}

async fn list(State(s): State<ApiState>, _: Authorized<Viewer>, params: Params) -> Result<Json<Page<Value>>, Problem> {
    let page = s.app.store.list_stocks(&params.page()?).await.map_err(AppError::from)?;
    Ok(Json(Page { items: page.items.iter().map(with_warnings).collect(), next: page.next }))
}

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

async fn read(
    State(s): State<ApiState>,
    _: Authorized<Viewer>,
    Path(raw): Path<String>,
) -> Result<Json<Value>, Problem> {
    let stock = s.app.store.get_stock(&id::<StockId>("id", &raw)?).await.map_err(AppError::from)?;
    Ok(Json(with_warnings(&stock)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinalPrice {
    price: Price,
    version: u64,
}

async fn final_price(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Path(raw): Path<String>,
    Body(input): Body<FinalPrice>,
) -> Result<Json<Value>, Problem> {
    let stock_id = id::<StockId>("id", &raw)?;
    let mut stock = s.app.store.get_stock(&stock_id).await.map_err(AppError::from)?.value;
    stock
        .set_final_price(input.price, kst_date(s.app.clock.now()))
        .map_err(|e| Problem::new(StatusCode::CONFLICT, "Conflict", e.to_string()).field("price", e.to_string()))?;
    let saved = s.app.store.update_stock(&stock, input.version).await.map_err(AppError::from)?;
    super::audit(&s, &caller, "stock.final_price", stock_id.as_str(), None, Some(json!(saved.value))).await;
    Ok(Json(with_warnings(&saved)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Amendment {
    schedule: ScheduleDates,
    version: u64,
}

/// 정정신고서: a new schedule, checked like a new stock's; kickoffs still to come move with it.
async fn amend(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Path(raw): Path<String>,
    Body(input): Body<Amendment>,
) -> Result<Json<Value>, Problem> {
    let stock_id = id::<StockId>("id", &raw)?;
    let schedule = checked(input.schedule)?;
    let before = s.app.store.get_stock(&stock_id).await.ok().map(|st| json!(st.value));
    let (saved, moved) = s.app.amend_schedule(&stock_id, schedule, input.version).await?;
    super::audit(&s, &caller, "stock.amend", stock_id.as_str(), before, Some(json!(saved.value))).await;
    let mut body = with_warnings(&saved);
    body["moved_kickoffs"] = json!(moved);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Withdrawal {
    version: u64,
}

/// 철회: every process of the stock is cancelled and the clients concerned are told.
async fn withdraw(
    State(s): State<ApiState>,
    Authorized(caller, _): Authorized<Advisor>,
    Path(raw): Path<String>,
    Body(input): Body<Withdrawal>,
) -> Result<Json<Value>, Problem> {
    let stock_id = id::<StockId>("id", &raw)?;
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
