//! Properties of phases 3 and 4 against an independent reading of `config/regulation.json`: the
//! tables are built here from the JSON itself (not through `Regulation`), and the checks must agree
//! with them for any sale, price and dated entry.
//!
//! - The statement check accepts exactly the statements the rule computes: the rule's figures
//!   settle (or only the commission range speaks), and changing any one figure is an error.
//! - The tick grid and the day's price limits, as the sell-plan check applies them, agree with a
//!   brute-force search over the table's grid.

#![allow(clippy::unwrap_used)] // tables read from the shipped JSON, fixtures from literals

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use serde_json::Value;
use shared::domain::calendar::KrxCalendar;
use shared::domain::ids::FundId;
use shared::domain::lockup::LockUp;
use shared::domain::market::Market;
use shared::domain::money::{Price, Quantity, Won};
use shared::domain::phase::Severity;
use shared::domain::phase::allotment::Release;
use shared::domain::phase::sell::{
    EarlierSale, Finding as SellFinding, OrderQuantity, OrderType, Orders, Percent, SellOrder, SellPlanLine, Session,
    check_plan_line, sellable,
};
use shared::domain::phase::statement::{self, ConfirmedSale, Finding, StatementLine, check_line};
use shared::domain::regulation::Regulation;
use std::sync::OnceLock;

const JSON: &str = include_str!("../config/regulation.json");

fn json() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| serde_json::from_str(JSON).unwrap())
}

fn reg() -> &'static Regulation {
    Regulation::builtin()
}

fn date_of(v: &Value) -> NaiveDate {
    v["from"].as_str().unwrap().parse().unwrap()
}

/// The entry of `list` in force on `date`.
fn entry(list: &str, date: NaiveDate) -> &'static Value {
    json()[list].as_array().unwrap().iter().rev().find(|e| date_of(e) <= date).unwrap()
}

fn entries(list: &str) -> usize {
    json()[list].as_array().unwrap().len()
}

/// A day in the `index`-th entry of `list`: `offset` days into it, before the next entry starts.
fn day_in(list: &str, index: usize, offset: u64) -> NaiveDate {
    let all = json()[list].as_array().unwrap();
    let from = date_of(&all[index]);
    let span = all.get(index + 1).map_or(730, |next| (date_of(next) - from).num_days().max(1) as u64);
    from.checked_add_days(Days::new(offset % span)).unwrap()
}

fn tick_of(date: NaiveDate, price: u64) -> u64 {
    let steps = entry("tick_tables", date)["steps"].as_array().unwrap();
    steps.iter().rev().find(|s| s["from_price"].as_u64().unwrap() <= price).unwrap()["tick"].as_u64().unwrap()
}

fn on_grid(date: NaiveDate, price: u64) -> bool {
    price.is_multiple_of(tick_of(date, price))
}

fn tax_of(date: NaiveDate, market: Market, gross: u64) -> u64 {
    let key = match market {
        Market::Kospi => "kospi_basis_points",
        Market::Kosdaq => "kosdaq_basis_points",
    };
    let parts = entry("transaction_tax", date)[key].as_array().unwrap();
    parts.iter().map(|bp| (u128::from(gross) * u128::from(bp.as_u64().unwrap()) / 10_000) as u64).sum()
}

fn commission_ok(date: NaiveDate, gross: u64, commission: u64) -> bool {
    let e = entry("commission", date);
    let (min, max) =
        (e["min_hundredth_basis_points"].as_u64().unwrap(), e["max_hundredth_basis_points"].as_u64().unwrap());
    let paid = u128::from(commission) * 1_000_000;
    u128::from(gross) * u128::from(min) <= paid && paid <= u128::from(gross) * u128::from(max)
}

/// The lowest on-grid price at or above `base × percent / 100`, found by walking won by won.
fn lowest_on_grid(date: NaiveDate, base: u64, percent: u64) -> u64 {
    let mut p = (base * percent).div_ceil(100).max(1);
    while !on_grid(date, p) {
        p += 1;
    }
    p
}

/// The highest on-grid price at or below `base × percent / 100`.
fn highest_on_grid(date: NaiveDate, base: u64, percent: u64) -> u64 {
    let mut p = base * percent / 100;
    while p > 1 && !on_grid(date, p) {
        p -= 1;
    }
    p.max(1)
}

fn market() -> impl Strategy<Value = Market> {
    prop_oneof![Just(Market::Kospi), Just(Market::Kosdaq)]
}

fn hy() -> FundId {
    "hy".parse().unwrap()
}

/// One fund's sale and its statement as the rule computes it.
fn ruled(date: NaiveDate, market: Market, quantity: u64, price: u64, rate: u64) -> (ConfirmedSale, StatementLine) {
    let gross = quantity * price;
    let commission = (u128::from(gross) * u128::from(rate) / 1_000_000) as u64;
    let tax = tax_of(date, market, gross);
    let sale = ConfirmedSale {
        fund_id: hy(),
        quantity: Quantity::new(quantity).unwrap(),
        average_price: Price::new(price).unwrap(),
        sale_date: date,
        market,
    };
    let line = StatementLine {
        fund_id: hy(),
        quantity: sale.quantity,
        price: sale.average_price,
        gross: Won::new(gross),
        commission: Won::new(commission),
        tax: Won::new(tax),
        net: Won::new(gross - commission - tax),
    };
    (sale, line)
}

/// Which figure of a statement a test changes.
#[derive(Debug, Clone, Copy)]
enum Figure {
    Quantity,
    Price,
    Gross,
    Commission,
    Tax,
    Net,
}

fn figure() -> impl Strategy<Value = Figure> {
    prop_oneof![
        Just(Figure::Quantity),
        Just(Figure::Price),
        Just(Figure::Gross),
        Just(Figure::Commission),
        Just(Figure::Tax),
        Just(Figure::Net),
    ]
}

/// `v` moved by `delta` (never zero, never below `floor`).
fn moved(v: u64, delta: u64, floor: u64) -> u64 {
    if v >= floor + delta { v - delta } else { v + delta }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_rules_statement_is_accepted(
        index in 0..entries("transaction_tax"),
        offset in 0u64..800,
        market in market(),
        quantity in 1u64..2_000_000,
        price in 1u64..1_000_000,
        rate in 0u64..6_000,
    ) {
        let date = day_in("transaction_tax", index, offset);
        let (sale, line) = ruled(date, market, quantity, price, rate);
        let expected = statement::expected(reg(), date, market, sale.quantity, sale.average_price, line.commission).unwrap();
        prop_assert_eq!((expected.gross, expected.tax), (line.gross, line.tax));
        prop_assert_eq!(expected.net, line.net.get() as i64);
        let found = check_line(&sale, &line, reg()).unwrap();
        if commission_ok(date, line.gross.get(), line.commission.get()) {
            prop_assert_eq!(found, vec![Finding::Settled { fund_id: hy(), net: line.net }]);
        } else {
            prop_assert!(matches!(found.as_slice(), [Finding::CommissionOutsideRange { .. }]), "{:?}", found);
        }
    }

    #[test]
    fn any_other_figure_is_an_error(
        index in 0..entries("transaction_tax"),
        offset in 0u64..800,
        market in market(),
        quantity in 1u64..2_000_000,
        price in 1u64..1_000_000,
        rate in 10u64..5_000,
        which in figure(),
        delta in 1u64..100_000,
    ) {
        let date = day_in("transaction_tax", index, offset);
        let (sale, mut line) = ruled(date, market, quantity, price, rate);
        match which {
            Figure::Quantity => line.quantity = Quantity::new(moved(quantity, delta, 1)).unwrap(),
            Figure::Price => line.price = Price::new(moved(price, delta, 1)).unwrap(),
            Figure::Gross => line.gross = Won::new(moved(line.gross.get(), delta, 0)),
            Figure::Commission => line.commission = Won::new(moved(line.commission.get(), delta, 0)),
            Figure::Tax => line.tax = Won::new(moved(line.tax.get(), delta, 0)),
            Figure::Net => line.net = Won::new(moved(line.net.get(), delta, 0)),
        }
        let found = check_line(&sale, &line, reg()).unwrap();
        prop_assert!(found.iter().any(|f| f.severity() == Severity::Error), "{:?} changed: {:?}", which, found);
        let settled = found.iter().any(|f| matches!(f, Finding::Settled { .. }));
        prop_assert!(!settled, "settled after a change: {:?}", found);
    }

    #[test]
    fn the_tick_grid_agrees_with_the_table(
        index in 0..entries("tick_tables"),
        offset in 0u64..800,
        price in 1u64..3_000_000,
    ) {
        let date = day_in("tick_tables", index, offset);
        let p = Price::new(price).unwrap();
        prop_assert_eq!(reg().tick_size(date, p).unwrap(), tick_of(date, price));
        prop_assert_eq!(reg().is_on_tick(date, p).unwrap(), on_grid(date, price));
    }

    #[test]
    fn price_limits_agree_with_the_table(
        index in 0..entries("price_limits"),
        offset in 0u64..800,
        later in 0u64..3,
        base in 1u64..1_000_000,
        limit in 1u64..4_000_000,
    ) {
        let listing = day_in("price_limits", index, offset);
        let date = listing.checked_add_days(Days::new(later)).unwrap();
        let rule = entry("price_limits", date);
        let pct = |k: &str| rule[k].as_u64().unwrap();
        // Listing day: a share of the offer price; later: ± of the previous close (`base` either way).
        let (low_pct, high_pct) = if later == 0 {
            (pct("listing_day_min_percent"), pct("listing_day_max_percent"))
        } else {
            (100 - pct("daily_percent"), 100 + pct("daily_percent"))
        };
        let (low, high) = (lowest_on_grid(date, base, low_pct), highest_on_grid(date, base, high_pct));
        let session = Session {
            date,
            listing,
            offer_price: Price::new(base).unwrap(),
            previous_close: (later > 0).then(|| Price::new(base).unwrap()),
        };
        let limits = session.limits(reg(), KrxCalendar::builtin()).unwrap().unwrap();
        prop_assert_eq!((limits.low.get(), limits.high.get()), (low, high));
        prop_assert!(limits.basis.is_exact());

        // The sell-plan check refuses exactly the off-grid and out-of-limits prices.
        let order = SellOrder {
            quantity: OrderQuantity::Shares { shares: Quantity::new(1).unwrap() },
            order_type: OrderType::Limit { price: Price::new(limit).unwrap() },
            condition: None,
            comment: None,
        };
        let plan = SellPlanLine { fund_id: hy(), sellable: Quantity::new(1).unwrap(), orders: Orders::new(vec![order]).unwrap() };
        let found = check_plan_line(&plan, Some(&session), date, reg(), KrxCalendar::builtin()).unwrap();
        let off_grid = found.iter().any(|f| matches!(f, SellFinding::OffGrid { .. }));
        let outside = found.iter().any(|f| matches!(f, SellFinding::LimitOutsideLimits { .. }));
        prop_assert_eq!(off_grid, !on_grid(date, limit));
        prop_assert_eq!(outside, !(low..=high).contains(&limit));
        prop_assert!(found.iter().all(|f| f.severity() == Severity::Error));
    }
}

fn percent_order(p: u64) -> SellOrder {
    SellOrder {
        quantity: OrderQuantity::Percent { percent: Percent::new(p).unwrap() },
        order_type: OrderType::Open,
        condition: None,
        comment: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Percentages round down and 잔량 takes exactly what they leave: a plan ending in 잔량 sells
    /// everything the fund may sell, never more, and is never refused for its quantity.
    #[test]
    fn the_rest_fills_the_plan_to_what_the_fund_may_sell(
        sellable_shares in 1u64..10_000_000,
        percents in proptest::collection::vec(1u64..=100, 0..5),
    ) {
        prop_assume!(percents.iter().sum::<u64>() <= 100);
        let mut orders: Vec<SellOrder> = percents.iter().map(|p| percent_order(*p)).collect();
        orders.push(SellOrder { quantity: OrderQuantity::Rest, ..percent_order(1) });
        let plan = SellPlanLine { fund_id: hy(), sellable: Quantity::new(sellable_shares).unwrap(), orders: Orders::new(orders).unwrap() };
        let shares = plan.order_shares();
        for (p, s) in percents.iter().zip(&shares) {
            prop_assert_eq!(*s, sellable_shares * p / 100);
        }
        prop_assert_eq!(shares.iter().sum::<u64>(), sellable_shares);
        prop_assert_eq!(plan.advised_quantity(), sellable_shares);
        let date: NaiveDate = "2026-05-07".parse().unwrap();
        prop_assert_eq!(check_plan_line(&plan, None, date, reg(), KrxCalendar::builtin()).unwrap(), vec![]);
    }

    /// What a fund may sell is what was released by the date less what it sold before it.
    #[test]
    fn sellable_is_released_less_sold_before(
        released in proptest::collection::vec((1u64..1_000_000, 0u64..200), 1..4),
        sold in proptest::collection::vec((1u64..1_000_000, 0u64..200), 0..4),
        day in 0u64..200,
    ) {
        let listing: NaiveDate = "2026-04-07".parse().unwrap();
        let at = |d: u64| listing.checked_add_days(Days::new(d)).unwrap();
        let releases: Vec<Release> = released
            .iter()
            .map(|(q, d)| Release { fund_id: hy(), quantity: Quantity::new(*q).unwrap(), lockup: LockUp::None, date: at(*d) })
            .collect();
        let earlier: Vec<EarlierSale> =
            sold.iter().map(|(q, d)| EarlierSale { fund_id: hy(), date: at(*d), quantity: *q }).collect();
        let free: u64 = released.iter().filter(|(_, d)| *d <= day).map(|(q, _)| q).sum();
        let used: u64 = sold.iter().filter(|(_, d)| *d < day).map(|(q, _)| q).sum();
        prop_assert_eq!(sellable(&hy(), at(day), &releases, &earlier), free.saturating_sub(used));
        let other: FundId = "pv-kv".parse().unwrap();
        prop_assert_eq!(sellable(&other, at(day), &releases, &earlier), 0, "another fund's shares are not this one's");
    }
}

#[test]
fn both_years_of_tax_are_configured() {
    let gross = 10_000_000;
    for market in [Market::Kospi, Market::Kosdaq] {
        assert_eq!(tax_of("2025-06-02".parse().unwrap(), market, gross), 15_000);
        assert_eq!(tax_of("2026-04-07".parse().unwrap(), market, gross), 20_000);
    }
}
