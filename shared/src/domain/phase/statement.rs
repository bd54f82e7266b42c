//! Phase 4, 매매명세서 확인: after a sale settles (T+2) the firm asks each fund that sold for its
//! trade statement and reconciles it: gross = quantity × price, the transaction tax at the dated
//! rate for the market and sale date (each component truncated to whole won), net = gross −
//! commission − tax, a commission rate inside the configured range, and quantity and price as the
//! confirmed execution report said. Every difference names both amounts.
//!
//! Each check uses the statement's own figures for what it builds on (the tax is checked against
//! the stated gross), so one wrong figure is reported once rather than in every later line.

mod parse;

pub use parse::{parse_line, parse_reply};

use super::sell::{Execution, SellAnswer};
use super::{Context, FundLine, FundLines, Severity};
use crate::domain::ids::FundId;
use crate::domain::market::Market;
use crate::domain::money::{Price, Quantity, Won, bid_amount};
use crate::domain::regulation::{Regulation, RegulationError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One fund's confirmed sale, whose statement is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConfirmedSale {
    pub fund_id: FundId,
    pub quantity: Quantity,
    pub average_price: Price,
    /// The KST day of the sale: which tax rate applies.
    #[schema(value_type = String, format = Date)]
    pub sale_date: NaiveDate,
    pub market: Market,
}

impl FundLine for ConfirmedSale {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

/// What the firm sends: the client's confirmed sales, whose statements it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementAdvice {
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<ConfirmedSale>, min_items = 1)]
    pub lines: FundLines<ConfirmedSale>,
}

impl StatementAdvice {
    /// The statements to ask for after a confirmed execution report: one per fund that sold;
    /// none when nothing was sold.
    pub fn from_execution(answer: &SellAnswer, sale_date: NaiveDate, market: Market) -> Option<StatementAdvice> {
        let sales = answer
            .lines
            .iter()
            .filter_map(|l| match l.execution {
                Execution::Sold { quantity, average_price } => {
                    Some(ConfirmedSale { fund_id: l.fund_id.clone(), quantity, average_price, sale_date, market })
                }
                Execution::NotSold { .. } => None,
            })
            .collect();
        FundLines::new(sales).ok().map(|lines| StatementAdvice { lines })
    }
}

/// One fund's trade statement, as the broker wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementLine {
    pub fund_id: FundId,
    pub quantity: Quantity,
    pub price: Price,
    /// 매매금액.
    pub gross: Won,
    /// 수수료.
    pub commission: Won,
    /// 거래세 (with 농특세 on KOSPI).
    pub tax: Won,
    /// 정산금액.
    pub net: Won,
}

impl FundLine for StatementLine {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatementAnswer {
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<StatementLine>, min_items = 1)]
    pub lines: FundLines<StatementLine>,
}

/// A sale's statement as the rules compute it, for a given commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExpectedStatement {
    pub gross: Won,
    pub commission: Won,
    pub tax: Won,
    /// Gross − commission − tax; negative only when costs exceed the sale.
    pub net: i64,
}

/// The statement of selling `quantity` at `price` on `sale_date` in `market`, with `commission`.
pub fn expected(
    reg: &Regulation,
    sale_date: NaiveDate,
    market: Market,
    quantity: Quantity,
    price: Price,
    commission: Won,
) -> Result<ExpectedStatement, RegulationError> {
    let gross = bid_amount(price, quantity).unwrap_or(Won::new(u64::MAX));
    let tax = reg.transaction_tax(sale_date, market, gross)?;
    Ok(ExpectedStatement { gross, commission, tax, net: net_of(gross, commission, tax) })
}

/// [`expected`] for a confirmed sale at its reported average price.
pub fn expected_for(
    reg: &Regulation,
    sale: &ConfirmedSale,
    commission: Won,
) -> Result<ExpectedStatement, RegulationError> {
    expected(reg, sale.sale_date, sale.market, sale.quantity, sale.average_price, commission)
}

fn net_of(gross: Won, commission: Won, tax: Won) -> i64 {
    let net = i128::from(gross.get()) - i128::from(commission.get()) - i128::from(tax.get());
    net.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Something the reconciliation found in one fund's statement; amounts in won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Each phase has a `Finding`: named apart in the OpenAPI document, or one would replace the others.
#[schema(as = StatementFinding)]
pub enum Finding {
    /// 매매금액 is not quantity × price.
    GrossDiffers { fund_id: FundId, expected: Won, given: Won },
    /// The tax is not the dated rate on the gross amount.
    TaxDiffers { fund_id: FundId, expected: Won, given: Won },
    /// 정산금액 is not gross − commission − tax.
    NetDiffers { fund_id: FundId, expected: i64, given: Won },
    /// A commission outside the configured range of rates, with the range in won for this gross.
    CommissionOutsideRange { fund_id: FundId, commission: Won, gross: Won, low: Won, high: Won },
    /// Another quantity than the confirmed execution report.
    QuantityDiffers { fund_id: FundId, reported: Quantity, statement: Quantity },
    /// Another price than the confirmed execution report's average.
    PriceDiffers { fund_id: FundId, reported: Price, statement: Price },
    /// What settles.
    Settled { fund_id: FundId, net: Won },
    /// A sale with no statement.
    Missing { fund_id: FundId },
    /// A statement for a fund with no confirmed sale.
    Unexpected { fund_id: FundId },
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::GrossDiffers { .. }
            | Finding::TaxDiffers { .. }
            | Finding::NetDiffers { .. }
            | Finding::QuantityDiffers { .. }
            | Finding::Unexpected { .. } => Severity::Error,
            Finding::CommissionOutsideRange { .. } | Finding::PriceDiffers { .. } | Finding::Missing { .. } => {
                Severity::Warning
            }
            Finding::Settled { .. } => Severity::Info,
        }
    }
}

/// Reconciles one statement with its confirmed sale and the rules of its sale date.
pub fn check_line(
    sale: &ConfirmedSale,
    line: &StatementLine,
    reg: &Regulation,
) -> Result<Vec<Finding>, RegulationError> {
    let fund_id = &line.fund_id;
    let mut out = Vec::new();
    if line.quantity != sale.quantity {
        out.push(Finding::QuantityDiffers {
            fund_id: fund_id.clone(),
            reported: sale.quantity,
            statement: line.quantity,
        });
    }
    if line.price != sale.average_price {
        out.push(Finding::PriceDiffers {
            fund_id: fund_id.clone(),
            reported: sale.average_price,
            statement: line.price,
        });
    }
    let gross = bid_amount(line.price, line.quantity).unwrap_or(Won::new(u64::MAX));
    if line.gross != gross {
        out.push(Finding::GrossDiffers { fund_id: fund_id.clone(), expected: gross, given: line.gross });
    }
    let tax = reg.transaction_tax(sale.sale_date, sale.market, line.gross)?;
    if line.tax != tax {
        out.push(Finding::TaxDiffers { fund_id: fund_id.clone(), expected: tax, given: line.tax });
    }
    let net = net_of(line.gross, line.commission, line.tax);
    if i128::from(line.net.get()) != i128::from(net) {
        out.push(Finding::NetDiffers { fund_id: fund_id.clone(), expected: net, given: line.net });
    }
    let range = reg.commission_range(sale.sale_date)?;
    if !range.accepts(line.gross, line.commission) {
        let (low, high) = range.bounds(line.gross);
        out.push(Finding::CommissionOutsideRange {
            fund_id: fund_id.clone(),
            commission: line.commission,
            gross: line.gross,
            low,
            high,
        });
    }
    if out.is_empty() {
        out.push(Finding::Settled { fund_id: fund_id.clone(), net: line.net });
    }
    Ok(out)
}

/// The statements against the confirmed sales, fund by fund, then statements nobody sold for.
pub fn check(
    advice: &StatementAdvice,
    answer: &StatementAnswer,
    ctx: &Context<'_>,
) -> Result<Vec<Finding>, RegulationError> {
    let mut out = Vec::new();
    for sale in &advice.lines {
        match answer.lines.of(&sale.fund_id) {
            None => out.push(Finding::Missing { fund_id: sale.fund_id.clone() }),
            Some(line) => out.extend(check_line(sale, line, ctx.regulation)?),
        }
    }
    out.extend(unexpected(advice, answer));
    Ok(out)
}

/// The comparison with the confirmed sales alone: which funds are missing or unexpected, and
/// quantities and prices that differ.
pub fn compare(advice: &StatementAdvice, answer: &StatementAnswer) -> Vec<Finding> {
    let mut out = Vec::new();
    for sale in &advice.lines {
        let fund_id = sale.fund_id.clone();
        match answer.lines.of(&sale.fund_id) {
            None => out.push(Finding::Missing { fund_id }),
            Some(line) => {
                if line.quantity != sale.quantity {
                    out.push(Finding::QuantityDiffers {
                        fund_id: fund_id.clone(),
                        reported: sale.quantity,
                        statement: line.quantity,
                    });
                }
                if line.price != sale.average_price {
                    out.push(Finding::PriceDiffers { fund_id, reported: sale.average_price, statement: line.price });
                }
            }
        }
    }
    out.extend(unexpected(advice, answer));
    out
}

fn unexpected(advice: &StatementAdvice, answer: &StatementAnswer) -> Vec<Finding> {
    answer
        .lines
        .iter()
        .filter(|l| advice.lines.of(&l.fund_id).is_none())
        .map(|l| Finding::Unexpected { fund_id: l.fund_id.clone() })
        .collect()
}

#[cfg(test)]
mod tests;
