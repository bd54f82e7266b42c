//! An IPO's result: what each client fund paid, sold, kept and earned, across clients, and how
//! following or leaving the firm's sell advice turned out (the firm's evidence of value). Pure:
//! the facts gathered from confirmed answers in, typed views out (JSON, tables, the staff summary).
//!
//! Amounts come from the confirmed statements when there are; a sale whose statement is not yet
//! confirmed counts at its execution report's quantity × average price with no costs known, and
//! the result says it is provisional.

use crate::domain::ids::{ClientId, FundId, StockId};
use crate::domain::lockup::LockUp;
use crate::export::{Cell, Table};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

/// What a confirmed statement says of one fund's sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementFacts {
    pub quantity: u64,
    pub gross: u64,
    pub commission: u64,
    pub tax: u64,
}

/// The firm's advice for one fund on one sale date, reduced to what can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisedFacts {
    /// As staff read it: `50% 시가`, `6,000주 지정가 34,000원`.
    pub summary: String,
    /// The shares the advice asked to sell.
    pub quantity: u64,
    /// The lowest price the plan accepts when every order is a limit order (a limit sell never
    /// fills below it): a sale averaging below it went against the advice.
    pub floor_price: Option<u64>,
}

/// One fund's sale date: the advice, what the client reported, what the statement settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleFacts {
    pub date: NaiveDate,
    pub advised: Option<AdvisedFacts>,
    /// The confirmed execution report: shares sold and their average price (0 shares = 미매도).
    pub reported: Option<(u64, u64)>,
    pub statement: Option<StatementFacts>,
}

/// One client fund's allotment and its sales.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundFacts {
    pub client_id: ClientId,
    pub client_name: String,
    pub fund_id: FundId,
    pub fund_name: String,
    pub allotted: u64,
    pub lockup: LockUp,
    pub sales: Vec<SaleFacts>,
}

/// Per client fund: paid, sold, costs, realised profit and return against the offer price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FundResult {
    pub client_id: ClientId,
    pub client_name: String,
    pub fund_id: FundId,
    pub fund_name: String,
    #[schema(value_type = String)]
    pub lockup: LockUp,
    /// Shares allotted.
    pub allotted: u64,
    /// Allotted × offer price.
    pub paid: u64,
    pub sold: u64,
    /// Sold shares' gross amount ÷ shares, rounded down; absent when nothing was sold.
    pub average_price: Option<u64>,
    pub gross: u64,
    pub commission: u64,
    pub tax: u64,
    /// Gross − commission − tax.
    pub net: u64,
    /// Net − sold × offer price: what the sold shares earned.
    pub realised_profit: i64,
    /// Realised profit ÷ (sold × offer price), in basis points (1234 = 12.34%); absent when nothing was sold.
    pub return_bp: Option<i64>,
    /// Shares not sold yet (locked or kept).
    pub unsold: u64,
    /// Some sale counts from its execution report: its statement is not confirmed yet.
    pub provisional: bool,
}

/// The stock across every client fund.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    pub funds: u64,
    pub allotted: u64,
    pub paid: u64,
    pub sold: u64,
    pub average_price: Option<u64>,
    pub gross: u64,
    pub commission: u64,
    pub tax: u64,
    pub net: u64,
    pub realised_profit: i64,
    pub return_bp: Option<i64>,
    pub unsold: u64,
}

/// How one fund's sale compares with the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Sold what was advised, not below a limit.
    Followed,
    /// Sold fewer shares than advised (or none).
    SoldLess,
    /// Sold more shares than advised.
    SoldMore,
    /// Sold on average below the advice's limit price.
    BelowLimit,
    /// Sold without advice for that date.
    NotAdvised,
    /// No execution report confirmed yet.
    Unreported,
}

impl Verdict {
    pub fn korean(self) -> &'static str {
        match self {
            Verdict::Followed => "자문대로",
            Verdict::SoldLess => "자문보다 적게 매도",
            Verdict::SoldMore => "자문보다 많이 매도",
            Verdict::BelowLimit => "지정가 아래 매도",
            Verdict::NotAdvised => "자문 없음",
            Verdict::Unreported => "미보고",
        }
    }

    fn deviated(self) -> bool {
        matches!(self, Verdict::SoldLess | Verdict::SoldMore | Verdict::BelowLimit)
    }
}

/// One fund's sale date: the advice against what the client did, and how it turned out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdviceRow {
    pub client_name: String,
    pub fund_name: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub advice: Option<String>,
    pub advised_quantity: Option<u64>,
    pub sold: u64,
    pub average_price: Option<u64>,
    pub verdict: Verdict,
    /// This sale's realised profit and its return against the offer price.
    pub realised_profit: i64,
    pub return_bp: Option<i64>,
}

/// Sales that followed the advice against those that left it: how many, what they earned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Group {
    pub sales: u64,
    pub sold: u64,
    pub realised_profit: i64,
    pub return_bp: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdviceSummary {
    pub followed: Group,
    pub deviated: Group,
}

/// An IPO's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StockResult {
    pub stock_id: StockId,
    pub stock_name: String,
    /// The final offer price the funds paid.
    pub offer_price: u64,
    /// Every allotted share sold or accounted for and every statement confirmed.
    pub complete: bool,
    pub funds: Vec<FundResult>,
    pub totals: Totals,
    pub advice: Vec<AdviceRow>,
    pub advice_summary: AdviceSummary,
}

/// (gross, commission, tax, quantity, provisional) of one sale.
fn amounts(sale: &SaleFacts) -> (u64, u64, u64, u64, bool) {
    match (sale.statement, sale.reported) {
        (Some(s), _) => (s.gross, s.commission, s.tax, s.quantity, false),
        (None, Some((qty, avg))) => (qty.saturating_mul(avg), 0, 0, qty, qty > 0),
        (None, None) => (0, 0, 0, 0, false),
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `profit ÷ cost` in basis points, rounded toward zero; `None` without a cost.
fn return_bp(profit: i64, cost: u64) -> Option<i64> {
    (cost > 0).then(|| {
        let bp = i128::from(profit) * 10_000 / i128::from(cost);
        i64::try_from(bp).unwrap_or(i64::MAX)
    })
}

fn profit(net: u64, cost: u64) -> i64 {
    to_i64(net).saturating_sub(to_i64(cost))
}

fn verdict(sale: &SaleFacts) -> Verdict {
    let Some((sold, avg)) = sale.reported else { return Verdict::Unreported };
    let Some(advised) = &sale.advised else { return Verdict::NotAdvised };
    if sold < advised.quantity {
        Verdict::SoldLess
    } else if sold > advised.quantity {
        Verdict::SoldMore
    } else if advised.floor_price.is_some_and(|limit| sold > 0 && avg < limit) {
        Verdict::BelowLimit
    } else {
        Verdict::Followed
    }
}

impl StockResult {
    pub fn compute(stock_id: StockId, stock_name: String, offer_price: u64, facts: &[FundFacts]) -> StockResult {
        let mut funds = Vec::new();
        let mut advice = Vec::new();
        let mut summary = AdviceSummary::default();
        let mut totals = Totals::default();
        let mut complete = true;
        for fund in facts {
            let (mut gross, mut commission, mut tax, mut sold, mut provisional) = (0u64, 0u64, 0u64, 0u64, false);
            for sale in &fund.sales {
                let (g, c, t, q, p) = amounts(sale);
                gross = gross.saturating_add(g);
                commission = commission.saturating_add(c);
                tax = tax.saturating_add(t);
                sold = sold.saturating_add(q);
                provisional |= p;
                let net = g.saturating_sub(c).saturating_sub(t);
                let cost = q.saturating_mul(offer_price);
                let v = verdict(sale);
                let row = AdviceRow {
                    client_name: fund.client_name.clone(),
                    fund_name: fund.fund_name.clone(),
                    date: sale.date,
                    advice: sale.advised.as_ref().map(|a| a.summary.clone()),
                    advised_quantity: sale.advised.as_ref().map(|a| a.quantity),
                    sold: q,
                    average_price: (q > 0).then(|| g / q),
                    verdict: v,
                    realised_profit: profit(net, cost),
                    return_bp: return_bp(profit(net, cost), cost),
                };
                let group = if v == Verdict::Followed {
                    Some(&mut summary.followed)
                } else if v.deviated() {
                    Some(&mut summary.deviated)
                } else {
                    None
                };
                if let Some(group) = group {
                    group.sales += 1;
                    group.sold = group.sold.saturating_add(q);
                    group.realised_profit = group.realised_profit.saturating_add(row.realised_profit);
                }
                if v == Verdict::Unreported || (q > 0 && sale.statement.is_none()) {
                    complete = false;
                }
                advice.push(row);
            }
            let net = gross.saturating_sub(commission).saturating_sub(tax);
            let cost = sold.saturating_mul(offer_price);
            let realised_profit = profit(net, cost);
            let result = FundResult {
                client_id: fund.client_id.clone(),
                client_name: fund.client_name.clone(),
                fund_id: fund.fund_id.clone(),
                fund_name: fund.fund_name.clone(),
                lockup: fund.lockup,
                allotted: fund.allotted,
                paid: fund.allotted.saturating_mul(offer_price),
                sold,
                average_price: (sold > 0).then(|| gross / sold),
                gross,
                commission,
                tax,
                net,
                realised_profit,
                return_bp: return_bp(realised_profit, cost),
                unsold: fund.allotted.saturating_sub(sold),
                provisional,
            };
            totals.funds += 1;
            totals.allotted = totals.allotted.saturating_add(result.allotted);
            totals.paid = totals.paid.saturating_add(result.paid);
            totals.sold = totals.sold.saturating_add(sold);
            totals.gross = totals.gross.saturating_add(gross);
            totals.commission = totals.commission.saturating_add(commission);
            totals.tax = totals.tax.saturating_add(tax);
            totals.net = totals.net.saturating_add(net);
            totals.unsold = totals.unsold.saturating_add(result.unsold);
            funds.push(result);
        }
        totals.average_price = (totals.sold > 0).then(|| totals.gross / totals.sold);
        totals.realised_profit = profit(totals.net, totals.sold.saturating_mul(offer_price));
        totals.return_bp = return_bp(totals.realised_profit, totals.sold.saturating_mul(offer_price));
        for group in [&mut summary.followed, &mut summary.deviated] {
            group.return_bp = return_bp(group.realised_profit, group.sold.saturating_mul(offer_price));
        }
        if totals.unsold > 0 {
            complete = false;
        }
        StockResult { stock_id, stock_name, offer_price, complete, funds, totals, advice, advice_summary: summary }
    }

    /// The result as three tables: per fund, the stock's totals, the advice against what was done.
    pub fn tables(&self) -> Vec<Table> {
        let won = |n: u64| Cell::Won(to_i64(n));
        let opt_won = |n: Option<u64>| n.map_or(Cell::Empty, won);
        let pct = |bp: Option<i64>| bp.map_or(Cell::Empty, Cell::Percent);
        let mut per_fund = Table::new(
            format!("{} 펀드별", self.stock_name),
            &[
                "기관명",
                "펀드",
                "확약",
                "배정수량",
                "납입금액",
                "매도수량",
                "평균매도가",
                "매도금액",
                "수수료",
                "거래세",
                "정산금액",
                "실현손익",
                "수익률",
                "잔여수량",
                "잠정",
            ],
        );
        for f in &self.funds {
            per_fund.push(vec![
                Cell::text(&f.client_name),
                Cell::text(&f.fund_name),
                Cell::text(f.lockup.korean()),
                Cell::Count(f.allotted),
                won(f.paid),
                Cell::Count(f.sold),
                opt_won(f.average_price),
                won(f.gross),
                won(f.commission),
                won(f.tax),
                won(f.net),
                Cell::Won(f.realised_profit),
                pct(f.return_bp),
                Cell::Count(f.unsold),
                Cell::text(if f.provisional { "명세 미확정" } else { "" }),
            ]);
        }
        let t = &self.totals;
        let mut totals = Table::new(
            format!("{} 합계", self.stock_name),
            &[
                "공모가",
                "펀드수",
                "배정수량",
                "납입금액",
                "매도수량",
                "평균매도가",
                "매도금액",
                "수수료",
                "거래세",
                "정산금액",
                "실현손익",
                "수익률",
                "잔여수량",
            ],
        );
        totals.push(vec![
            won(self.offer_price),
            Cell::Count(t.funds),
            Cell::Count(t.allotted),
            won(t.paid),
            Cell::Count(t.sold),
            opt_won(t.average_price),
            won(t.gross),
            won(t.commission),
            won(t.tax),
            won(t.net),
            Cell::Won(t.realised_profit),
            pct(t.return_bp),
            Cell::Count(t.unsold),
        ]);
        let mut advice = Table::new(
            format!("{} 자문 대비 실행", self.stock_name),
            &["기관명", "펀드", "매도일", "자문", "자문수량", "매도수량", "평균매도가", "판정", "실현손익", "수익률"],
        );
        for a in &self.advice {
            advice.push(vec![
                Cell::text(&a.client_name),
                Cell::text(&a.fund_name),
                Cell::Date(a.date),
                a.advice.as_ref().map_or(Cell::Empty, Cell::text),
                a.advised_quantity.map_or(Cell::Empty, Cell::Count),
                Cell::Count(a.sold),
                opt_won(a.average_price),
                Cell::text(a.verdict.korean()),
                Cell::Won(a.realised_profit),
                pct(a.return_bp),
            ]);
        }
        vec![per_fund, totals, advice]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn fund(id: &str, allotted: u64, sales: Vec<SaleFacts>) -> FundFacts {
        FundFacts {
            client_id: "c".parse().unwrap(),
            client_name: "(가상)고객".into(),
            fund_id: id.parse().unwrap(),
            fund_name: id.into(),
            allotted,
            lockup: LockUp::None,
            sales,
        }
    }

    #[test]
    fn a_fund_sold_in_two_steps_earns_its_net_less_its_cost() {
        // 12,000 shares at 17,000: 6,000 sold at 34,000, 6,000 at 30,000.
        let sale = |date: &str, qty: u64, price: u64, commission: u64| SaleFacts {
            date: d(date),
            advised: Some(AdvisedFacts { summary: "지정가".into(), quantity: 6_000, floor_price: Some(32_000) }),
            reported: Some((qty, price)),
            statement: Some(StatementFacts {
                quantity: qty,
                gross: qty * price,
                commission,
                tax: qty * price * 20 / 10_000,
            }),
        };
        let facts = [fund(
            "hy",
            12_000,
            vec![sale("2026-04-07", 6_000, 34_000, 3_060), sale("2026-04-08", 6_000, 30_000, 2_700)],
        )];
        let r = StockResult::compute("hanbit".parse().unwrap(), "(가상)한빛로보틱스".into(), 17_000, &facts);
        let f = &r.funds[0];
        assert_eq!((f.paid, f.sold, f.gross, f.average_price), (204_000_000, 12_000, 384_000_000, Some(32_000)));
        assert_eq!((f.commission, f.tax, f.net), (5_760, 768_000, 383_226_240));
        assert_eq!(f.realised_profit, 179_226_240);
        assert_eq!(f.return_bp, Some(8_785), "87.85%");
        assert!(r.complete);
        assert_eq!(r.advice[0].verdict, Verdict::Followed);
        assert_eq!(r.advice[1].verdict, Verdict::BelowLimit);
        assert_eq!((r.advice_summary.followed.sales, r.advice_summary.deviated.sales), (1, 1));
        assert_eq!(r.totals.realised_profit, f.realised_profit);
        let tables = r.tables();
        assert_eq!(tables.len(), 3);
        assert_eq!(tables[0].rows[0][11], Cell::Won(179_226_240));
    }

    #[test]
    fn a_sale_without_its_statement_is_provisional_and_unsold_shares_leave_it_incomplete() {
        let facts = [fund(
            "kv",
            10_000,
            vec![SaleFacts { date: d("2026-04-07"), advised: None, reported: Some((4_000, 20_000)), statement: None }],
        )];
        let r = StockResult::compute("s".parse().unwrap(), "s".into(), 17_000, &facts);
        let f = &r.funds[0];
        assert!(f.provisional && !r.complete);
        assert_eq!((f.sold, f.unsold, f.net, f.realised_profit), (4_000, 6_000, 80_000_000, 12_000_000));
        assert_eq!(r.advice[0].verdict, Verdict::NotAdvised);
    }
}
