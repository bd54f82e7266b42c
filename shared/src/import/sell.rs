//! Judges a sell plan's rows (phase 3's advice) as [`super::review`] judges bids: per row, what
//! would become an order, what is refused and why, what was marked not to be sent. A fund may
//! have several rows (one per order). The hard checks refuse rows here, before anything is
//! written: a limit price off the tick grid or outside the day's price limits, a fund with
//! nothing it may sell that day (locked shares), orders selling more than it may sell.

use super::review::{Directory, send_flag};
use super::{ImportReport, RawRow, RowOutcome, RowReport, RowSource};
use crate::domain::calendar::KrxCalendar;
use crate::domain::client::Client;
use crate::domain::ids::{ClientId, FundId};
use crate::domain::money::{Price, Quantity, group_thousands, parse_korean_number};
use crate::domain::phase::sell::{
    Finding, OrderQuantity, OrderType, Orders, Percent, SellOrder, SellPlanLine, Session, check_plan_line,
};
use crate::domain::phase::{FundLines, LinesError, Severity};
use crate::domain::regulation::Regulation;
use crate::domain::text::{Label, clean};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// A sell plan's import report: each accepted row is one order.
pub type SellReport = ImportReport<SellOrder, Finding>;

/// What a sell plan's rows are checked against.
#[derive(Debug, Clone, Copy)]
pub struct SellDay<'a> {
    pub sale_date: NaiveDate,
    /// The trading session, for the day's price limits; none before the final price is set.
    pub session: Option<&'a Session>,
    /// What each fund may sell that day (released, less earlier sales); a fund missing here may
    /// sell nothing.
    pub sellable: &'a BTreeMap<(ClientId, FundId), u64>,
    /// Why a fund may sell nothing that day, when it has shares (`locked until 2026-05-07 (1개월)`).
    pub locked: &'a BTreeMap<(ClientId, FundId), String>,
    pub regulation: &'a Regulation,
    pub calendar: &'a KrxCalendar,
}

impl SellDay<'_> {
    fn sellable(&self, client: &ClientId, fund: &FundId) -> Option<Quantity> {
        self.sellable.get(&(client.clone(), fund.clone())).and_then(|n| Quantity::new(*n).ok())
    }
}

/// Reads 주문유형 and 지정가: `시가`, `시장가`, `지정가` (with a price); a price alone is a limit order.
fn order_type(order: Option<&str>, price: Option<&str>) -> Result<OrderType, String> {
    let price = price.map(|p| p.parse::<Price>().map_err(|e| format!("limit price (지정가): {e}"))).transpose()?;
    let kind: String = order.unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
    match (kind.as_str(), price) {
        ("시가" | "시가매도" | "open", None) => Ok(OrderType::Open),
        ("시장가" | "시장가매도" | "market", None) => Ok(OrderType::Market),
        ("시가" | "시가매도" | "open" | "시장가" | "시장가매도" | "market", Some(_)) => {
            Err(format!("a {kind} order has no limit price: leave 지정가 blank, or make it 지정가"))
        }
        ("지정가" | "지정가매도" | "limit" | "", Some(price)) => Ok(OrderType::Limit { price }),
        ("지정가" | "지정가매도" | "limit", None) => Err("a 지정가 order needs its price (지정가)".to_owned()),
        ("", None) => Err("no order type (주문유형): write 시가, 시장가 or 지정가".to_owned()),
        (other, _) => Err(format!("unknown order type {other:?}: write 시가, 시장가 or 지정가")),
    }
}

/// Reads 매도수량: shares (`6,000`, `6천주`), a percentage of what the fund may sell (`50%`),
/// `전량` (100%) or `잔량` (what the other orders leave).
fn order_quantity(text: &str) -> Result<OrderQuantity, String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match t.as_str() {
        "잔량" | "나머지" | "잔여" | "rest" => return Ok(OrderQuantity::Rest),
        "전량" | "전부" | "all" => {
            return Percent::new(100).map(|percent| OrderQuantity::Percent { percent }).map_err(|e| e.to_string());
        }
        _ => {}
    }
    if let Some(p) = t.strip_suffix('%') {
        let n = parse_korean_number(p).map_err(|e| format!("quantity: {e}"))?;
        return Percent::new(n).map(|percent| OrderQuantity::Percent { percent }).map_err(|e| format!("quantity: {e}"));
    }
    let shares: Quantity = t.parse().map_err(|e| format!("quantity: {e}"))?;
    Ok(OrderQuantity::Shares { shares })
}

fn label(what: &str, text: Option<&str>) -> Result<Option<Label>, String> {
    let Some(text) = text.map(|t| clean(t, false)).filter(|t| !t.trim().is_empty()) else { return Ok(None) };
    Label::new(text.trim()).map(Some).map_err(|e| format!("{what}: {e}"))
}

/// A refusal or warning as an import reason, naming the amounts.
pub fn describe(f: &Finding) -> String {
    let won = |p: Price| format!("{}원", group_thousands(p.get()));
    match f {
        Finding::OffGrid { price, tick, .. } => {
            format!(
                "limit price {} is off the tick grid (ticks of {}원 at that price)",
                won(*price),
                group_thousands(*tick)
            )
        }
        Finding::LimitOutsideLimits { price, limits, .. } => format!(
            "limit price {} is outside the day's price limits {} – {}",
            won(*price),
            won(limits.low),
            won(limits.high)
        ),
        Finding::PlanOverSellable { sellable, planned, .. } => format!(
            "the orders sell {}주; the fund may sell only {}주 that day",
            group_thousands(*planned),
            group_thousands(sellable.get())
        ),
        Finding::OrdersMayExceed { sellable, planned, .. } => format!(
            "all orders together come to {}주, more than the {}주 the fund may sell: right only if the conditional ones are alternatives",
            group_thousands(*planned),
            group_thousands(sellable.get())
        ),
        other => format!("{other:?}"),
    }
}

/// Reviews a sell plan's rows for the given clients on one sale date; changes nothing.
pub fn review_sell(rows: &[RawRow], clients: &[Client], day: &SellDay<'_>) -> SellReport {
    let directory = Directory::new(clients);
    let mut out: Vec<RowReport<SellOrder, Finding>> = Vec::with_capacity(rows.len());
    for row in rows {
        let mut reasons: Vec<String> = Vec::new();
        let (client, fund) = directory.row(row, &mut reasons);
        let report = |outcome| RowReport {
            source: row.source.clone(),
            client_input: row.client.clone(),
            client_id: client.map(|c| c.id.clone()),
            fund_id: fund.map(|f| f.id.clone()),
            outcome,
        };
        match send_flag(row.send.as_deref()) {
            Ok(true) => {}
            Ok(false) => {
                out.push(report(RowOutcome::Skipped));
                continue;
            }
            Err(reason) => reasons.push(reason),
        }
        if row.lockup.is_some() {
            reasons.push("a sell plan has no lock-up column: the allotment says which shares are free".to_owned());
        }
        let order_type = order_type(row.order.as_deref(), row.price.as_deref()).map_err(|r| reasons.push(r)).ok();
        let quantity = match row.quantity.as_deref() {
            None => {
                reasons.push("no quantity (매도수량): shares, a percentage (50%), 전량 or 잔량".to_owned());
                None
            }
            Some(text) => order_quantity(text).map_err(|r| reasons.push(r)).ok(),
        };
        let condition = label("condition", row.condition.as_deref()).map_err(|r| reasons.push(r)).ok().flatten();
        let comment = label("comment", Some(&row.comment)).map_err(|r| reasons.push(r)).ok().flatten();

        let outcome = match (client, fund, order_type, quantity) {
            (Some(client), Some(fund), Some(order_type), Some(quantity)) if reasons.is_empty() => {
                let order = SellOrder { quantity, order_type, condition, comment };
                match day.sellable(&client.id, &fund.id) {
                    None => {
                        let why = day
                            .locked
                            .get(&(client.id.clone(), fund.id.clone()))
                            .cloned()
                            .unwrap_or_else(|| "no shares allotted or left".to_owned());
                        RowOutcome::Rejected {
                            reasons: vec![format!(
                                "{}: {} {} may sell nothing on {}: {why}",
                                row.source, client.name, fund.name, day.sale_date
                            )],
                        }
                    }
                    Some(sellable) => checked(&row.source, fund.id.clone(), sellable, vec![order.clone()], day)
                        .map_or_else(
                            |reasons| RowOutcome::Rejected { reasons },
                            |warnings| RowOutcome::Accepted { advice: order, warnings },
                        ),
                }
            }
            _ => RowOutcome::Rejected { reasons: reasons.iter().map(|r| format!("{}: {r}", row.source)).collect() },
        };
        out.push(report(outcome));
    }
    whole_plans(&mut out, day);
    let count = |f: fn(&RowOutcome<SellOrder, Finding>) -> bool| out.iter().filter(|r| f(&r.outcome)).count();
    let accepted = count(|o| matches!(o, RowOutcome::Accepted { .. }));
    let rejected = count(|o| matches!(o, RowOutcome::Rejected { .. }));
    let skipped = count(|o| matches!(o, RowOutcome::Skipped));
    ImportReport { rows: out, accepted, rejected, skipped }
}

/// One fund's orders checked by the rules: `Err` with the row's reasons for any error, else the
/// warnings.
fn checked(
    source: &RowSource,
    fund_id: FundId,
    sellable: Quantity,
    orders: Vec<SellOrder>,
    day: &SellDay<'_>,
) -> Result<Vec<Finding>, Vec<String>> {
    let orders = Orders::new(orders).map_err(|e| vec![format!("{source}: {e}")])?;
    let line = SellPlanLine { fund_id, sellable, orders };
    let findings = check_plan_line(&line, day.session, day.sale_date, day.regulation, day.calendar)
        .map_err(|e| vec![format!("{source}: the order cannot be checked: {e}")])?;
    let (errors, warnings): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(|f| f.severity() >= Severity::Error);
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(errors.iter().map(|f| format!("{source}: {}", describe(f))).collect())
    }
}

/// Each fund's accepted rows checked together (their sum against what it may sell, one 잔량):
/// a fund whose orders together break a rule has all its rows refused, as the plan is one.
fn whole_plans(rows: &mut [RowReport<SellOrder, Finding>], day: &SellDay<'_>) {
    let mut by_fund: BTreeMap<(ClientId, FundId), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let (Some(c), Some(f), RowOutcome::Accepted { .. }) = (&r.client_id, &r.fund_id, &r.outcome) {
            by_fund.entry((c.clone(), f.clone())).or_default().push(i);
        }
    }
    for ((client, fund), at) in by_fund {
        let Some(sellable) = day.sellable(&client, &fund) else { continue };
        let orders: Vec<SellOrder> = at
            .iter()
            .filter_map(|i| match &rows[*i].outcome {
                RowOutcome::Accepted { advice, .. } => Some(advice.clone()),
                RowOutcome::Rejected { .. } | RowOutcome::Skipped => None,
            })
            .collect();
        let last = rows[at[at.len() - 1]].source.clone();
        let extra = match checked(&last, fund.clone(), sellable, orders, day) {
            Ok(warnings) => {
                // Warnings about the whole plan (orders that may exceed together) go on its last row.
                let whole: Vec<Finding> =
                    warnings.into_iter().filter(|w| matches!(w, Finding::OrdersMayExceed { .. })).collect();
                if let RowOutcome::Accepted { warnings, .. } = &mut rows[at[at.len() - 1]].outcome {
                    warnings.extend(whole);
                }
                continue;
            }
            Err(reasons) => reasons,
        };
        let rows_named: Vec<String> = at.iter().map(|i| rows[*i].source.to_string()).collect();
        for i in &at {
            let mut reasons = extra.clone();
            reasons.push(format!(
                "{}: refused with the fund's other orders ({})",
                rows[*i].source,
                rows_named.join(", ")
            ));
            rows[*i].outcome = RowOutcome::Rejected { reasons };
        }
    }
}

impl SellReport {
    /// The accepted orders as each client's plan lines, in row order, each with what its fund may
    /// sell.
    pub fn plans_by_client(&self, day: &SellDay<'_>) -> Result<BTreeMap<ClientId, FundLines<SellPlanLine>>, String> {
        let mut orders: BTreeMap<ClientId, Vec<(FundId, Vec<SellOrder>)>> = BTreeMap::new();
        for row in &self.rows {
            let (Some(client), Some(fund), RowOutcome::Accepted { advice, .. }) =
                (&row.client_id, &row.fund_id, &row.outcome)
            else {
                continue;
            };
            let funds = orders.entry(client.clone()).or_default();
            match funds.iter_mut().find(|(f, _)| f == fund) {
                Some((_, list)) => list.push(advice.clone()),
                None => funds.push((fund.clone(), vec![advice.clone()])),
            }
        }
        let mut out = BTreeMap::new();
        for (client, funds) in orders {
            let mut lines = Vec::new();
            for (fund_id, list) in funds {
                let sellable = day.sellable(&client, &fund_id).ok_or_else(|| format!("{fund_id}: nothing to sell"))?;
                let orders = Orders::new(list).map_err(|e| format!("{fund_id}: {e}"))?;
                lines.push(SellPlanLine { fund_id, sellable, orders });
            }
            let lines = FundLines::new(lines).map_err(|e: LinesError| e.to_string())?;
            out.insert(client, lines);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stock::Stock;

    fn listing_day() -> NaiveDate {
        "2026-04-07".parse().unwrap()
    }

    fn row(n: u32, client: &str, fund: &str, qty: &str, order: &str, price: Option<&str>) -> RawRow {
        RawRow {
            source: RowSource::new("sellListing", n),
            client: client.into(),
            fund: Some(fund.into()),
            price: price.map(Into::into),
            quantity: Some(qty.into()),
            lockup: None,
            comment: String::new(),
            send: None,
            order: Some(order.into()).filter(|s: &String| !s.is_empty()),
            condition: None,
        }
    }

    fn hanbit() -> Stock {
        let mut s = crate::demo::hanbit();
        s.set_final_price(Price::new(17_000).unwrap(), "2026-03-24".parse().unwrap()).unwrap();
        s
    }

    fn review(rows: &[RawRow]) -> SellReport {
        let stock = hanbit();
        let session = Session {
            date: listing_day(),
            listing: listing_day(),
            offer_price: stock.final_price().unwrap(),
            previous_close: None,
        };
        let key = |c: &str, f: &str| (c.parse().unwrap(), f.parse().unwrap());
        let sellable: BTreeMap<(ClientId, FundId), u64> =
            [(key("saebyeok", "hy"), 12_000), (key("dasom", "hedge"), 50_000)].into_iter().collect();
        let locked: BTreeMap<(ClientId, FundId), String> =
            [(key("gaon", "ipo"), "locked until 2026-05-07 (1개월)".to_owned())].into_iter().collect();
        let day = SellDay {
            sale_date: listing_day(),
            session: Some(&session),
            sellable: &sellable,
            locked: &locked,
            regulation: Regulation::builtin(),
            calendar: KrxCalendar::builtin(),
        };
        let report = review_sell(rows, &crate::demo::clients(), &day);
        if report.is_clean() {
            let plans = report.plans_by_client(&day).unwrap();
            assert!(plans.values().all(|l| !l.is_empty()));
        }
        report
    }

    fn reasons(r: &SellReport, i: usize) -> Vec<String> {
        match &r.rows[i].outcome {
            RowOutcome::Rejected { reasons } => reasons.clone(),
            other => panic!("row {i} not rejected: {other:?}"),
        }
    }

    #[test]
    fn orders_read_every_way_staff_write_them() {
        let r = review(&[
            row(2, "(가상)새벽자산운용", "하이일드", "50%", "시가", None),
            row(3, "(가상)새벽자산운용", "하이일드", "잔량", "지정가", Some("34,000")),
            row(4, "(가상)다솜자산운용", "사모 헤지", "전량", "시장가", None),
        ]);
        assert!(r.is_clean(), "{r:?}");
        match &r.rows[1].outcome {
            RowOutcome::Accepted { advice, .. } => {
                assert_eq!(advice.order_type, OrderType::Limit { price: Price::new(34_000).unwrap() });
                assert_eq!(advice.quantity, OrderQuantity::Rest);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hard_checks_refuse_rows() {
        let r = review(&[
            // Off the grid: ticks are 50원 from 20,000원.
            row(2, "(가상)새벽자산운용", "하이일드", "6,000", "지정가", Some("34,010")),
            // Above 400% of 17,000원.
            row(3, "(가상)다솜자산운용", "사모 헤지", "10,000", "지정가", Some("70,000")),
            // Locked until its release.
            row(4, "(가상)가온자산운용", "공모주 채권혼합", "100,000", "시가", None),
            row(5, "(가상)다솜자산운용", "사모 헤지", "시가", "", None),
        ]);
        assert_eq!(
            reasons(&r, 0),
            vec!["sellListing row 2: limit price 34,010원 is off the tick grid (ticks of 50원 at that price)"]
        );
        assert_eq!(
            reasons(&r, 1),
            vec!["sellListing row 3: limit price 70,000원 is outside the day's price limits 10,200원 – 68,000원"]
        );
        assert_eq!(
            reasons(&r, 2),
            vec![
                "sellListing row 4: (가상)가온자산운용 공모주 채권혼합 may sell nothing on 2026-04-07: locked until 2026-05-07 (1개월)"
            ]
        );
        assert_eq!(
            reasons(&r, 3),
            vec![
                "sellListing row 5: no order type (주문유형): write 시가, 시장가 or 지정가",
                "sellListing row 5: quantity: \"시가\" is not a number: write digits, optionally with commas, 만, 억 or 조",
            ]
        );
        assert_eq!((r.accepted, r.rejected), (0, 4));
    }

    #[test]
    fn a_fund_whose_orders_together_sell_too_much_is_refused_whole() {
        let r = review(&[
            row(2, "(가상)새벽자산운용", "하이일드", "8,000", "시가", None),
            row(3, "(가상)새벽자산운용", "하이일드", "8,000", "지정가", Some("34,000")),
            row(4, "(가상)다솜자산운용", "사모 헤지", "50,000", "시가", None),
        ]);
        assert_eq!((r.accepted, r.rejected), (1, 2));
        assert_eq!(
            reasons(&r, 0)[0],
            "sellListing row 3: the orders sell 16,000주; the fund may sell only 12,000주 that day"
        );
    }
}
