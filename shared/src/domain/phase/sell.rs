//! Phase 3, 상장 후 매도의견: on each sale date (listing day, then each lock-up's release) the firm
//! advises each fund how to sell what it may sell that day, as one or more orders; the client
//! reports what it sold (quantity and average price) or that it kept the shares (미매도, with why).
//! The checks guard real money: an order off the tick grid never fills, a limit outside the day's
//! price limits is refused by KRX, and selling more than was released is selling locked shares.
//!
//! Rules come from [`Regulation`] for the sale date; what a fund may sell is computed by the app
//! from phase 2's releases and earlier confirmed sales ([`sellable`]) and carried on the advice.

mod limits;
mod parse;

pub use limits::{DayLimits, LimitBasis, Session};
pub use parse::{parse_line, parse_reply};

use super::{Context, FundLine, FundLines, Severity};
use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::FundId;
use crate::domain::money::{Price, Quantity, Won, bid_amount};
use crate::domain::phase::allotment::Release;
use crate::domain::regulation::{Regulation, RegulationError};
use crate::domain::text::Label;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU8;

/// A whole percentage from 1 to 100: a share of what a fund may sell that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Percent(NonZeroU8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a percentage of the sellable shares is from 1 to 100, not {0}")]
pub struct PercentError(pub u64);

impl Percent {
    pub fn new(percent: u64) -> Result<Self, PercentError> {
        u8::try_from(percent)
            .ok()
            .filter(|p| *p <= 100)
            .and_then(NonZeroU8::new)
            .map(Percent)
            .ok_or(PercentError(percent))
    }

    pub fn get(self) -> u8 {
        self.0.get()
    }

    /// This share of `shares`, rounded down: an order never sells more than it says.
    pub fn of(self, shares: u64) -> u64 {
        u64::try_from(u128::from(shares) * u128::from(self.get()) / 100).unwrap_or(shares)
    }
}

impl TryFrom<u8> for Percent {
    type Error = PercentError;
    fn try_from(p: u8) -> Result<Self, PercentError> {
        Percent::new(u64::from(p))
    }
}

impl From<Percent> for u8 {
    fn from(p: Percent) -> u8 {
        p.get()
    }
}

/// How many shares one order sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "unit", rename_all = "snake_case")]
pub enum OrderQuantity {
    /// A number of shares.
    Shares { shares: Quantity },
    /// A share of what the fund may sell that day, in whole percent (1–100), rounded down.
    Percent {
        #[schema(value_type = u8, minimum = 1, maximum = 100)]
        percent: Percent,
    },
    /// 잔량: what the fund may sell that day less the plan's other orders.
    Rest,
}

/// How an order is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderType {
    /// 시가: in the opening auction (pre-open from 08:30).
    Open,
    /// 시장가: at the market during the session.
    Market,
    /// 지정가: at `price` or better.
    Limit { price: Price },
}

impl OrderType {
    pub fn limit(self) -> Option<Price> {
        match self {
            OrderType::Limit { price } => Some(price),
            OrderType::Open | OrderType::Market => None,
        }
    }
}

/// One order of a fund's plan for a sale date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellOrder {
    pub quantity: OrderQuantity,
    pub order_type: OrderType,
    /// When the order applies: `시가가 공모가 대비 +30% 이상이면`. Conditional orders may be
    /// alternatives, so only unconditional ones must fit together within what the fund may sell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub condition: Option<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub comment: Option<Label>,
}

/// Most orders one fund's plan holds: a plan is advice to a person, not an algorithm.
pub const MAX_ORDERS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrdersError {
    #[error("a sell plan needs at least one order")]
    Empty,
    #[error("a sell plan holds at most {MAX_ORDERS} orders")]
    TooMany,
    #[error("only one order can sell the rest (잔량)")]
    SeveralRests,
}

/// A fund's orders for one sale date: at least one, at most [`MAX_ORDERS`], at most one 잔량.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<SellOrder>", into = "Vec<SellOrder>")]
pub struct Orders(Vec<SellOrder>);

impl Orders {
    pub fn new(orders: Vec<SellOrder>) -> Result<Self, OrdersError> {
        if orders.is_empty() {
            return Err(OrdersError::Empty);
        }
        if orders.len() > MAX_ORDERS {
            return Err(OrdersError::TooMany);
        }
        if orders.iter().filter(|o| o.quantity == OrderQuantity::Rest).count() > 1 {
            return Err(OrdersError::SeveralRests);
        }
        Ok(Orders(orders))
    }

    pub fn iter(&self) -> std::slice::Iter<'_, SellOrder> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[SellOrder] {
        &self.0
    }
}

impl TryFrom<Vec<SellOrder>> for Orders {
    type Error = OrdersError;
    fn try_from(orders: Vec<SellOrder>) -> Result<Self, OrdersError> {
        Orders::new(orders)
    }
}

impl From<Orders> for Vec<SellOrder> {
    fn from(o: Orders) -> Vec<SellOrder> {
        o.0
    }
}

/// The firm's plan for one fund on the sale date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellPlanLine {
    pub fund_id: FundId,
    /// What the fund may sell that day ([`sellable`]), as the app computed it when the plan was
    /// made: percentages and 잔량 are of it, and a sale above it is a sale of locked shares.
    pub sellable: Quantity,
    #[schema(value_type = Vec<SellOrder>, min_items = 1, max_items = 10)]
    pub orders: Orders,
}

impl FundLine for SellPlanLine {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

/// Shares a plan's orders come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// Every order, conditional or not (잔량 as what the others leave).
    pub all: u64,
    /// The orders without a condition: these are meant to be placed together.
    pub unconditional: u64,
    /// The largest single order.
    pub largest: u64,
}

impl SellPlanLine {
    /// The shares each order comes to, in order.
    pub fn order_shares(&self) -> Vec<u64> {
        let sellable = self.sellable.get();
        let fixed: u64 = self
            .orders
            .iter()
            .map(|o| match o.quantity {
                OrderQuantity::Shares { shares } => shares.get(),
                OrderQuantity::Percent { percent } => percent.of(sellable),
                OrderQuantity::Rest => 0,
            })
            .fold(0, u64::saturating_add);
        self.orders
            .iter()
            .map(|o| match o.quantity {
                OrderQuantity::Shares { shares } => shares.get(),
                OrderQuantity::Percent { percent } => percent.of(sellable),
                OrderQuantity::Rest => sellable.saturating_sub(fixed),
            })
            .collect()
    }

    pub fn planned(&self) -> Planned {
        let shares = self.order_shares();
        let unconditional = self
            .orders
            .iter()
            .zip(&shares)
            .filter(|(o, _)| o.condition.is_none())
            .map(|(_, s)| *s)
            .fold(0, u64::saturating_add);
        Planned {
            all: shares.iter().copied().fold(0, u64::saturating_add),
            unconditional,
            largest: shares.iter().copied().max().unwrap_or(0),
        }
    }

    /// The shares the advice asks to sell, at most what the fund may sell: what a sale is
    /// compared with.
    pub fn advised_quantity(&self) -> u64 {
        self.planned().all.min(self.sellable.get())
    }

    /// The lowest price the plan accepts, when every order is a limit order (a limit sell never
    /// fills below its limit); none when any order sells at the open or the market.
    pub fn floor_price(&self) -> Option<Price> {
        self.orders.iter().map(|o| o.order_type.limit()).collect::<Option<Vec<Price>>>()?.into_iter().min()
    }

    /// The lowest limit price among the plan's orders, if any.
    pub fn lowest_limit(&self) -> Option<Price> {
        self.orders.iter().filter_map(|o| o.order_type.limit()).min()
    }
}

/// What the firm sends on a sale date: each fund's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellAdvice {
    /// The KST day the orders are for.
    #[schema(value_type = String, format = Date)]
    pub sale_date: NaiveDate,
    /// The previous session's close, when known: from the second day of trading the day's price
    /// limits are ±30% of it; without it they can only be bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_close: Option<Price>,
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<SellPlanLine>, min_items = 1)]
    pub lines: FundLines<SellPlanLine>,
}

impl SellAdvice {
    /// When an execution report can first be due: the regular session's close (15:30 KST) on the
    /// sale date. A client that acknowledged the plan at 08:00 has nothing to report before then,
    /// so reminders and escalation count from the close, not from the acknowledgement.
    pub fn report_due_from(&self) -> crate::domain::time::Timestamp {
        let close = chrono::NaiveTime::from_hms_opt(15, 30, 0).unwrap_or(chrono::NaiveTime::MIN);
        crate::domain::time::at_kst(self.sale_date, close)
    }
}

/// What one fund did on the sale date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Execution {
    /// Shares sold, at this average price (whole won, as clients report it).
    Sold { quantity: Quantity, average_price: Price },
    /// 미매도: nothing sold, with the client's reason when it gave one.
    NotSold {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        reason: Option<Label>,
    },
}

impl Execution {
    /// Shares sold (0 for 미매도).
    pub fn sold(&self) -> u64 {
        match self {
            Execution::Sold { quantity, .. } => quantity.get(),
            Execution::NotSold { .. } => 0,
        }
    }
}

/// One fund's execution report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecutionLine {
    pub fund_id: FundId,
    pub execution: Execution,
}

impl FundLine for ExecutionLine {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SellAnswer {
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<ExecutionLine>, min_items = 1)]
    pub lines: FundLines<ExecutionLine>,
}

/// A fund's earlier confirmed sale of the same stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierSale {
    pub fund_id: FundId,
    pub date: NaiveDate,
    pub quantity: u64,
}

/// What `fund` may sell on `date`: its allotted shares released by then, less what its sales
/// before that date used. Sales on `date` itself are the ones being planned, so they do not count.
pub fn sellable(fund: &FundId, date: NaiveDate, releases: &[Release], earlier: &[EarlierSale]) -> u64 {
    let released = releases
        .iter()
        .filter(|r| &r.fund_id == fund && r.date <= date)
        .map(|r| r.quantity.get())
        .fold(0, u64::saturating_add);
    let used =
        earlier.iter().filter(|s| &s.fund_id == fund && s.date < date).map(|s| s.quantity).fold(0, u64::saturating_add);
    released.saturating_sub(used)
}

/// Something a check found about a fund's plan or its execution report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Each phase has a `Finding`: named apart in the OpenAPI document, or one would replace the others.
#[schema(as = SellFinding)]
pub enum Finding {
    /// A limit price off the KRX tick grid: the order is refused.
    OffGrid { fund_id: FundId, price: Price, tick: u64 },
    /// A limit price outside the day's price limits.
    LimitOutsideLimits { fund_id: FundId, price: Price, limits: DayLimits },
    /// The plan's unconditional orders (or one order alone) sell more than the fund may sell.
    PlanOverSellable { fund_id: FundId, sellable: Quantity, planned: u64 },
    /// Every order together, conditional ones included, comes to more than the fund may sell:
    /// right only if the conditional orders are alternatives.
    OrdersMayExceed { fund_id: FundId, sellable: Quantity, planned: u64 },
    /// Sold more than the fund could sell that day: locked shares, or shares already sold.
    SoldMoreThanSellable { fund_id: FundId, sellable: Quantity, sold: Quantity },
    /// An average price outside the day's price limits.
    AverageOutsideLimits { fund_id: FundId, average_price: Price, limits: DayLimits },
    /// Sold another number of shares than advised (0 for 미매도).
    QuantityDiffers { fund_id: FundId, advised: u64, sold: u64, diff: i64 },
    /// Sold on average below the plan's limit price, which a limit sell cannot do.
    BelowLimit { fund_id: FundId, average_price: Price, limit: Price },
    /// What was sold, and for how much.
    Sold { fund_id: FundId, quantity: Quantity, average_price: Price, amount: Won },
    /// 미매도.
    NotSold {
        fund_id: FundId,
        #[schema(value_type = Option<String>)]
        reason: Option<Label>,
    },
    /// Shares the fund could sell and did not: they carry to the next sale date's plan.
    Unsold { fund_id: FundId, remaining: u64 },
    /// A fund with a plan and no report.
    Missing { fund_id: FundId },
    /// A sale reported for a fund with no plan that day: nothing says its shares were free.
    Unexpected { fund_id: FundId },
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::OffGrid { .. }
            | Finding::PlanOverSellable { .. }
            | Finding::SoldMoreThanSellable { .. }
            | Finding::Unexpected { .. } => Severity::Error,
            Finding::LimitOutsideLimits { limits, .. } | Finding::AverageOutsideLimits { limits, .. } => {
                if limits.basis.is_exact() { Severity::Error } else { Severity::Warning }
            }
            Finding::OrdersMayExceed { .. }
            | Finding::QuantityDiffers { .. }
            | Finding::BelowLimit { .. }
            | Finding::Missing { .. } => Severity::Warning,
            Finding::Sold { .. } | Finding::NotSold { .. } | Finding::Unsold { .. } => Severity::Info,
        }
    }
}

/// Checks one fund's plan on its own: each limit price on the tick grid and inside the day's
/// limits, and the orders against what the fund may sell. Errors refuse the plan at import.
pub fn check_plan_line(
    line: &SellPlanLine,
    session: Option<&Session>,
    sale_date: NaiveDate,
    reg: &Regulation,
    calendar: &KrxCalendar,
) -> Result<Vec<Finding>, RegulationError> {
    let fund_id = &line.fund_id;
    let mut out = Vec::new();
    let limits = match session {
        Some(s) => s.limits(reg, calendar)?,
        None => None,
    };
    for price in line.orders.iter().filter_map(|o| o.order_type.limit()) {
        let tick = reg.tick_size(sale_date, price)?;
        if !price.get().is_multiple_of(tick) {
            out.push(Finding::OffGrid { fund_id: fund_id.clone(), price, tick });
        }
        if let Some(limits) = limits
            && !limits.contains(price)
        {
            out.push(Finding::LimitOutsideLimits { fund_id: fund_id.clone(), price, limits });
        }
    }
    let planned = line.planned();
    let sellable = line.sellable;
    let hard = planned.unconditional.max(planned.largest);
    if hard > sellable.get() {
        out.push(Finding::PlanOverSellable { fund_id: fund_id.clone(), sellable, planned: hard });
    } else if planned.all > sellable.get() {
        out.push(Finding::OrdersMayExceed { fund_id: fund_id.clone(), sellable, planned: planned.all });
    }
    Ok(out)
}

/// The execution report against the plan, fund by fund, then reports for funds without a plan.
/// Needs no dated rules: the price limits are [`check`]'s.
pub fn compare(advice: &SellAdvice, answer: &SellAnswer) -> Vec<Finding> {
    let mut out = Vec::new();
    for plan in &advice.lines {
        let fund_id = plan.fund_id.clone();
        let Some(line) = answer.lines.of(&plan.fund_id) else {
            out.push(Finding::Missing { fund_id });
            continue;
        };
        let advised = plan.advised_quantity();
        let sold = line.execution.sold();
        match &line.execution {
            Execution::Sold { quantity, average_price } => {
                if *quantity > plan.sellable {
                    out.push(Finding::SoldMoreThanSellable {
                        fund_id: fund_id.clone(),
                        sellable: plan.sellable,
                        sold: *quantity,
                    });
                }
                if let Some(limit) = plan.floor_price()
                    && *average_price < limit
                {
                    out.push(Finding::BelowLimit { fund_id: fund_id.clone(), average_price: *average_price, limit });
                }
                let amount = bid_amount(*average_price, *quantity).unwrap_or(Won::new(u64::MAX));
                out.push(Finding::Sold {
                    fund_id: fund_id.clone(),
                    quantity: *quantity,
                    average_price: *average_price,
                    amount,
                });
            }
            Execution::NotSold { reason } => {
                out.push(Finding::NotSold { fund_id: fund_id.clone(), reason: reason.clone() });
            }
        }
        if sold != advised {
            let diff = i128::from(sold) - i128::from(advised);
            let diff = diff.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
            out.push(Finding::QuantityDiffers { fund_id: fund_id.clone(), advised, sold, diff });
        }
        let remaining = plan.sellable.get().saturating_sub(sold);
        if remaining > 0 {
            out.push(Finding::Unsold { fund_id, remaining });
        }
    }
    out.extend(
        answer
            .lines
            .iter()
            .filter(|l| advice.lines.of(&l.fund_id).is_none() && l.execution.sold() > 0)
            .map(|l| Finding::Unexpected { fund_id: l.fund_id.clone() }),
    );
    out
}

/// [`compare`], with each average price against the day's price limits.
pub fn check(advice: &SellAdvice, answer: &SellAnswer, ctx: &Context<'_>) -> Result<Vec<Finding>, RegulationError> {
    let mut out = compare(advice, answer);
    let session = ctx.stock.and_then(|stock| Session::of(stock, advice));
    let Some(limits) = (match &session {
        Some(s) => s.limits(ctx.regulation, ctx.calendar)?,
        None => None,
    }) else {
        return Ok(out);
    };
    for line in &answer.lines {
        if let Execution::Sold { average_price, .. } = line.execution
            && !limits.contains(average_price)
        {
            out.push(Finding::AverageOutsideLimits { fund_id: line.fund_id.clone(), average_price, limits });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
