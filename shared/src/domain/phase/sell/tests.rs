//! Phase 3's cases: plans checked at import, execution reports read and checked.

use super::*;
use crate::domain::calendar::KrxCalendar;
use crate::domain::client::Client;
use crate::domain::lockup::LockUp;
use crate::domain::phase::{LineError, LineInput, ReplyError};
use crate::domain::stock::Stock;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn q(n: u64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn p(n: u64) -> Price {
    Price::new(n).unwrap()
}

fn f(s: &str) -> FundId {
    s.parse().unwrap()
}

fn client(id: &str) -> Client {
    crate::demo::clients().into_iter().find(|c| c.id.as_str() == id).unwrap()
}

/// (가상)한빛로보틱스 priced at 17,000원, listed Tuesday 2026-04-07.
fn hanbit() -> Stock {
    let mut stock = crate::demo::hanbit();
    stock.set_final_price(p(17_000), d("2026-03-24")).unwrap();
    stock
}

fn order(quantity: OrderQuantity, order_type: OrderType) -> SellOrder {
    SellOrder { quantity, order_type, condition: None, comment: None }
}

fn pct(n: u64) -> OrderQuantity {
    OrderQuantity::Percent { percent: Percent::new(n).unwrap() }
}

fn shares(n: u64) -> OrderQuantity {
    OrderQuantity::Shares { shares: q(n) }
}

fn limit(price: u64) -> OrderType {
    OrderType::Limit { price: p(price) }
}

fn plan(fund: &str, sellable: u64, orders: Vec<SellOrder>) -> SellPlanLine {
    SellPlanLine { fund_id: f(fund), sellable: q(sellable), orders: Orders::new(orders).unwrap() }
}

fn advice(date: &str, lines: Vec<SellPlanLine>) -> SellAdvice {
    SellAdvice { sale_date: d(date), previous_close: None, lines: FundLines::new(lines).unwrap() }
}

/// 새벽: 하이일드 12,000주 unlocked on listing day; 50% at the open if it opens 30% up, the rest at
/// a 34,000원 limit.
fn listing_day_plan() -> SellAdvice {
    let mut conditional = order(pct(50), OrderType::Open);
    conditional.condition = Some(Label::new("시가가 공모가 대비 +30% 이상이면").unwrap());
    advice(
        "2026-04-07",
        vec![
            plan("hy", 12_000, vec![conditional, order(OrderQuantity::Rest, limit(34_000))]),
            plan("pv-kv", 8_000, vec![order(shares(8_000), OrderType::Market)]),
        ],
    )
}

fn sold(fund: &str, quantity: u64, average: u64) -> ExecutionLine {
    ExecutionLine { fund_id: f(fund), execution: Execution::Sold { quantity: q(quantity), average_price: p(average) } }
}

fn not_sold(fund: &str, reason: Option<&str>) -> ExecutionLine {
    ExecutionLine { fund_id: f(fund), execution: Execution::NotSold { reason: reason.map(|r| Label::new(r).unwrap()) } }
}

fn answer(lines: Vec<ExecutionLine>) -> SellAnswer {
    SellAnswer { lines: FundLines::new(lines).unwrap() }
}

fn ctx<'a>(client: &'a Client, stock: &'a Stock) -> Context<'a> {
    Context {
        client,
        stock: Some(stock),
        today: d("2026-04-07"),
        regulation: Regulation::builtin(),
        calendar: KrxCalendar::builtin(),
    }
}

fn session(date: &str, previous_close: Option<u64>) -> Session {
    Session { date: d(date), listing: d("2026-04-07"), offer_price: p(17_000), previous_close: previous_close.map(p) }
}

fn plan_findings(line: &SellPlanLine, s: &Session) -> Vec<Finding> {
    check_plan_line(line, Some(s), s.date, Regulation::builtin(), KrxCalendar::builtin()).unwrap()
}

#[test]
fn percentages_and_the_rest_are_shares_of_what_the_fund_may_sell() {
    let advice = listing_day_plan();
    let hy = advice.lines.of(&f("hy")).unwrap();
    assert_eq!(hy.order_shares(), vec![6_000, 6_000]);
    assert_eq!(hy.planned(), Planned { all: 12_000, unconditional: 6_000, largest: 6_000 });
    assert_eq!(hy.advised_quantity(), 12_000);
    assert_eq!(hy.floor_price(), None, "an open order can fill below the limit");
    assert_eq!(hy.lowest_limit(), Some(p(34_000)));
    let odd = plan("hy", 333, vec![order(pct(50), limit(20_000)), order(OrderQuantity::Rest, limit(21_000))]);
    assert_eq!(odd.order_shares(), vec![166, 167], "50% rounds down; the rest takes the odd share");
    assert_eq!(odd.floor_price(), Some(p(20_000)));
    assert_eq!(Percent::new(0), Err(PercentError(0)));
    assert_eq!(Percent::new(101), Err(PercentError(101)));
    assert_eq!(Percent::new(100).map(|p| p.of(7)), Ok(7));
}

#[test]
fn orders_are_one_to_ten_with_at_most_one_rest() {
    assert_eq!(Orders::new(vec![]), Err(OrdersError::Empty));
    let rest = order(OrderQuantity::Rest, OrderType::Open);
    assert_eq!(Orders::new(vec![rest.clone(), rest.clone()]), Err(OrdersError::SeveralRests));
    assert_eq!(Orders::new(vec![order(pct(5), OrderType::Open); 11]), Err(OrdersError::TooMany));
    let json = serde_json::json!([{ "quantity": { "unit": "rest" }, "order_type": { "type": "open" } },
                                  { "quantity": { "unit": "rest" }, "order_type": { "type": "market" } }]);
    assert!(serde_json::from_value::<Orders>(json).is_err());
    assert!(serde_json::from_value::<OrderQuantity>(serde_json::json!({ "unit": "percent", "percent": 0 })).is_err());
}

#[test]
fn the_plan_round_trips_as_json() {
    let advice = listing_day_plan();
    let json = serde_json::to_value(&advice).unwrap();
    assert_eq!(json["sale_date"], "2026-04-07");
    assert_eq!(
        json["lines"][0]["orders"][0],
        serde_json::json!({
            "quantity": { "unit": "percent", "percent": 50 },
            "order_type": { "type": "open" },
            "condition": "시가가 공모가 대비 +30% 이상이면"
        })
    );
    assert_eq!(json["lines"][0]["orders"][1]["order_type"], serde_json::json!({ "type": "limit", "price": 34_000 }));
    assert_eq!(serde_json::from_value::<SellAdvice>(json).unwrap(), advice);
}

#[test]
fn listing_day_limits_are_60_to_400_percent_of_the_offer_price() {
    let limits = session("2026-04-07", None).limits(Regulation::builtin(), KrxCalendar::builtin()).unwrap().unwrap();
    assert_eq!((limits.low, limits.high), (p(10_200), p(68_000)));
    assert_eq!(limits.basis, LimitBasis::ListingDay { offer_price: p(17_000) });
    // 60% of 17,005원 is 10,203원: up to the 10원 grid. 400% is 68,020원: down to the 50원 grid.
    let odd = Session { offer_price: p(17_005), ..session("2026-04-07", None) };
    let limits = odd.limits(Regulation::builtin(), KrxCalendar::builtin()).unwrap().unwrap();
    assert_eq!((limits.low, limits.high), (p(10_210), p(68_000)));
    assert_eq!(session("2026-04-06", None).limits(Regulation::builtin(), KrxCalendar::builtin()), Ok(None));
}

#[test]
fn later_days_follow_the_previous_close_or_are_only_bounded() {
    let reg = Regulation::builtin();
    let cal = KrxCalendar::builtin();
    let known = session("2026-04-08", Some(30_000)).limits(reg, cal).unwrap().unwrap();
    assert_eq!((known.low, known.high), (p(21_000), p(39_000)));
    assert!(known.basis.is_exact());
    let bounded = session("2026-04-08", None).limits(reg, cal).unwrap().unwrap();
    // From 10,200원 – 68,000원 one session on: 7,140원 and 88,400원.
    assert_eq!((bounded.low, bounded.high), (p(7_140), p(88_400)));
    assert_eq!(bounded.basis, LimitBasis::Reachable { offer_price: p(17_000), sessions: 1 });
    assert!(!bounded.basis.is_exact());
}

#[test]
fn a_bound_six_months_on_is_wide_and_never_overflows() {
    let bounded = session("2026-10-07", None).limits(Regulation::builtin(), KrxCalendar::builtin()).unwrap().unwrap();
    let LimitBasis::Reachable { sessions, .. } = bounded.basis else { panic!("{bounded:?}") };
    assert!(sessions > 120, "{sessions} sessions");
    assert!(bounded.low.get() < 10, "{bounded:?}");
    assert!(bounded.high.get() > 1_000_000_000_000);
    assert!(bounded.contains(p(17_000)));
}

#[test]
fn an_off_grid_limit_or_one_outside_listing_day_limits_refuses_the_plan() {
    let s = session("2026-04-07", None);
    let off_grid = plan("hy", 12_000, vec![order(shares(1_000), limit(34_020))]);
    assert_eq!(plan_findings(&off_grid, &s), vec![Finding::OffGrid { fund_id: f("hy"), price: p(34_020), tick: 50 }]);
    let too_high = plan("hy", 12_000, vec![order(shares(1_000), limit(70_000))]);
    let found = plan_findings(&too_high, &s);
    assert!(matches!(found.as_slice(), [Finding::LimitOutsideLimits { price, .. }] if *price == p(70_000)));
    assert_eq!(found[0].severity(), Severity::Error);
    let low_after = plan("hy", 12_000, vec![order(shares(1_000), limit(5_000))]);
    let found = plan_findings(&low_after, &session("2026-04-08", None));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity(), Severity::Warning, "without the previous close the limits are a bound");
    let fine = plan("hy", 12_000, vec![order(shares(1_000), limit(68_000)), order(shares(1_000), limit(10_200))]);
    assert_eq!(plan_findings(&fine, &s), vec![]);
}

#[test]
fn a_plan_above_what_the_fund_may_sell_is_refused_and_alternatives_are_flagged() {
    let s = session("2026-04-07", None);
    let over = plan("hy", 12_000, vec![order(shares(10_000), OrderType::Open), order(shares(5_000), limit(30_000))]);
    assert_eq!(
        plan_findings(&over, &s),
        vec![Finding::PlanOverSellable { fund_id: f("hy"), sellable: q(12_000), planned: 15_000 }]
    );
    let mut either = order(pct(100), OrderType::Open);
    either.condition = Some(Label::new("시가 +30% 이상").unwrap());
    let or = order(pct(100), limit(30_000));
    let alternatives = plan("hy", 12_000, vec![either, or]);
    let found = plan_findings(&alternatives, &s);
    assert_eq!(found, vec![Finding::OrdersMayExceed { fund_id: f("hy"), sellable: q(12_000), planned: 24_000 }]);
    assert_eq!(found[0].severity(), Severity::Warning);
    for line in &listing_day_plan().lines {
        assert_eq!(plan_findings(line, &s), vec![], "{}", line.fund_id);
    }
}

#[test]
fn sellable_counts_released_shares_less_earlier_sales() {
    let releases = vec![
        Release { fund_id: f("hy"), quantity: q(12_000), lockup: LockUp::None, date: d("2026-04-07") },
        Release { fund_id: f("kv"), quantity: q(61_500), lockup: LockUp::Months3, date: d("2026-07-07") },
    ];
    let earlier = vec![
        EarlierSale { fund_id: f("hy"), date: d("2026-04-07"), quantity: 6_000 },
        EarlierSale { fund_id: f("hy"), date: d("2026-04-08"), quantity: 1_000 },
    ];
    assert_eq!(sellable(&f("hy"), d("2026-04-07"), &releases, &earlier), 12_000, "the day's own sale is planned");
    assert_eq!(sellable(&f("hy"), d("2026-04-08"), &releases, &earlier), 6_000);
    assert_eq!(sellable(&f("hy"), d("2026-05-07"), &releases, &earlier), 5_000);
    assert_eq!(sellable(&f("kv"), d("2026-07-06"), &releases, &earlier), 0, "still locked");
    assert_eq!(sellable(&f("kv"), d("2026-07-07"), &releases, &earlier), 61_500);
    let oversold = vec![EarlierSale { fund_id: f("kv"), date: d("2026-07-07"), quantity: 70_000 }];
    assert_eq!(sellable(&f("kv"), d("2026-10-07"), &releases, &oversold), 0);
}

#[test]
fn a_sale_as_advised_reports_what_was_sold() {
    let c = client("saebyeok");
    let stock = hanbit();
    let found = check(
        &listing_day_plan(),
        &answer(vec![sold("hy", 12_000, 28_000), sold("pv-kv", 8_000, 27_500)]),
        &ctx(&c, &stock),
    )
    .unwrap();
    assert_eq!(
        found,
        vec![
            Finding::Sold {
                fund_id: f("hy"),
                quantity: q(12_000),
                average_price: p(28_000),
                amount: Won::new(336_000_000)
            },
            Finding::Sold {
                fund_id: f("pv-kv"),
                quantity: q(8_000),
                average_price: p(27_500),
                amount: Won::new(220_000_000)
            },
        ]
    );
    assert!(found.iter().all(|f| f.severity() == Severity::Info));
}

#[test]
fn selling_locked_shares_is_an_error_and_shares_left_carry_over() {
    let c = client("saebyeok");
    let stock = hanbit();
    let found = check(
        &listing_day_plan(),
        &answer(vec![sold("hy", 15_000, 28_000), not_sold("pv-kv", Some("시가 부진"))]),
        &ctx(&c, &stock),
    )
    .unwrap();
    assert!(found.contains(&Finding::SoldMoreThanSellable { fund_id: f("hy"), sellable: q(12_000), sold: q(15_000) }));
    assert!(found.contains(&Finding::QuantityDiffers { fund_id: f("hy"), advised: 12_000, sold: 15_000, diff: 3_000 }));
    assert!(found.contains(&Finding::NotSold { fund_id: f("pv-kv"), reason: Some(Label::new("시가 부진").unwrap()) }));
    assert!(found.contains(&Finding::QuantityDiffers { fund_id: f("pv-kv"), advised: 8_000, sold: 0, diff: -8_000 }));
    assert!(found.contains(&Finding::Unsold { fund_id: f("pv-kv"), remaining: 8_000 }));
    let errors: Vec<_> = found.iter().filter(|f| f.severity() == Severity::Error).collect();
    assert_eq!(errors.len(), 1);
}

#[test]
fn an_average_outside_the_days_limits_is_an_error_on_listing_day_and_a_warning_after() {
    let c = client("saebyeok");
    let stock = hanbit();
    let only_hy = |date: &str, close: Option<u64>| SellAdvice {
        previous_close: close.map(p),
        ..advice(date, vec![plan("hy", 12_000, vec![order(pct(100), OrderType::Open)])])
    };
    let found =
        check(&only_hy("2026-04-07", None), &answer(vec![sold("hy", 12_000, 70_000)]), &ctx(&c, &stock)).unwrap();
    let outside: Vec<_> = found.iter().filter(|f| matches!(f, Finding::AverageOutsideLimits { .. })).collect();
    assert_eq!(outside.len(), 1);
    assert_eq!(outside[0].severity(), Severity::Error);
    let found =
        check(&only_hy("2026-04-08", None), &answer(vec![sold("hy", 12_000, 90_000)]), &ctx(&c, &stock)).unwrap();
    let outside: Vec<_> = found.iter().filter(|f| matches!(f, Finding::AverageOutsideLimits { .. })).collect();
    assert_eq!(outside[0].severity(), Severity::Warning);
    let found =
        check(&only_hy("2026-04-08", Some(30_000)), &answer(vec![sold("hy", 12_000, 40_000)]), &ctx(&c, &stock))
            .unwrap();
    let outside: Vec<_> = found.iter().filter(|f| matches!(f, Finding::AverageOutsideLimits { .. })).collect();
    assert_eq!(outside[0].severity(), Severity::Error, "the previous close makes the limits exact");
}

#[test]
fn below_a_limit_missing_and_unexpected_reports() {
    let only_limits = advice("2026-05-07", vec![plan("hy", 12_000, vec![order(pct(100), limit(30_000))])]);
    let found = compare(&only_limits, &answer(vec![sold("hy", 12_000, 29_000)]));
    assert!(found.contains(&Finding::BelowLimit { fund_id: f("hy"), average_price: p(29_000), limit: p(30_000) }));
    let found = compare(&only_limits, &answer(vec![sold("pv-kv", 100, 29_000)]));
    assert_eq!(found, vec![Finding::Missing { fund_id: f("hy") }, Finding::Unexpected { fund_id: f("pv-kv") }]);
}

#[test]
fn replies_in_the_forms_clients_write() {
    let c = client("saebyeok");
    let advice = listing_day_plan();
    assert_eq!(
        parse_reply("하이일드 6,000주 평균 34,000원\n사모 코벤 미매도 - 시가가 공모가 하회", &c, &advice),
        Ok(answer(vec![sold("hy", 6_000, 34_000), not_sold("pv-kv", Some("시가가 공모가 하회"))]))
    );
    assert_eq!(
        parse_reply("하이일드 전량 매도 평단 25,300; 사모코벤 8000 / 27,000", &c, &advice),
        Ok(answer(vec![sold("hy", 12_000, 25_300), sold("pv-kv", 8_000, 27_000)]))
    );
    assert_eq!(
        parse_reply("하이일드 매도금액 204,000,000원 6,000주 평균단가 34,000원", &c, &advice),
        Ok(answer(vec![sold("hy", 6_000, 34_000)])),
        "the total in won is not the price"
    );
    assert_eq!(parse_reply("하이일드 전량 보유", &c, &advice), Ok(answer(vec![not_sold("hy", Some("전량 보유"))])));
    assert_eq!(parse_reply("사모 코벤 미매도", &c, &advice), Ok(answer(vec![not_sold("pv-kv", None)])));
    assert_eq!(parse_reply("하이일드 0주", &c, &advice), Ok(answer(vec![not_sold("hy", None)])));
    assert!(matches!(
        parse_reply("하이일드 6,000주", &c, &advice),
        Err(ReplyError::Line { line: 1, error: LineError::MissingPrice { .. } })
    ));
    assert_eq!(parse_reply("6,000주 34,000원", &c, &advice), Err(ReplyError::WhichFund { line: 1 }));
    assert!(parse_reply("감사합니다", &c, &advice).is_err_and(|e| e.holds_no_answer()));
    let n = client("nuri");
    let one = advice_for_nuri();
    assert_eq!(parse_reply("1만주 / 평균 21,500원", &n, &one), Ok(answer(vec![sold("kv", 10_000, 21_500)])));
    assert!(parse_reply("네 알겠습니다", &n, &one).is_err_and(|e| e.holds_no_answer()));
    assert!(parse_reply("보유 물량 확인 부탁드립니다", &n, &one).is_err_and(|e| e.holds_no_answer()));
    assert_eq!(
        parse_reply("오늘은 안 팔고 홀딩합니다", &n, &one),
        Ok(answer(vec![not_sold("kv", Some("오늘은 안 팔고 홀딩합니다"))]))
    );
}

fn advice_for_nuri() -> SellAdvice {
    advice("2026-07-07", vec![plan("kv", 61_500, vec![order(OrderQuantity::Rest, OrderType::Market)])])
}

#[test]
fn staff_fields_read_all_none_and_reasons() {
    let c = client("nuri");
    let one = advice_for_nuri();
    let input = |quantity: &str, price: Option<&str>, note: Option<&str>| LineInput {
        fund: "공모 코벤".into(),
        quantity: Some(quantity.into()),
        price: price.map(Into::into),
        note: note.map(Into::into),
        ..LineInput::default()
    };
    assert_eq!(parse_line(&c, &input("전량", Some("21,500"), None), &one), Ok(sold("kv", 61_500, 21_500)));
    assert_eq!(parse_line(&c, &input("0", None, Some("보유 결정")), &one), Ok(not_sold("kv", Some("보유 결정"))));
    assert_eq!(parse_line(&c, &input("미매도", None, None), &one), Ok(not_sold("kv", None)));
    assert!(matches!(parse_line(&c, &input("many", Some("1"), None), &one), Err(LineError::Invalid { .. })));
    let stranger = LineInput { fund: "하이일드".into(), ..input("1", Some("1"), None) };
    assert!(matches!(parse_line(&c, &stranger, &one), Err(LineError::UnknownFund { .. })));
}

#[test]
fn a_client_that_acknowledged_a_plan_is_chased_for_its_report_from_the_close() {
    use crate::domain::process::ReminderPolicy;
    use crate::domain::reminder::{NextAction, next_action};
    use crate::domain::tracker::{ChatActor, Tracker, TrackerEvent};
    let eight: crate::domain::time::Timestamp = "2026-04-06T23:00:00Z".parse().unwrap();
    let close: crate::domain::time::Timestamp = "2026-04-07T06:30:00Z".parse().unwrap();
    let advice = crate::domain::phase::Advice::Sell(listing_day_plan());
    let mut tr = Tracker::new("p".parse().unwrap(), "saebyeok".parse().unwrap(), advice, eight);
    tr.apply(TrackerEvent::Sent { at: eight }).unwrap();
    let by = ChatActor { user_id: crate::domain::ids::TelegramUserId(1), name: "a".into() };
    tr.apply(TrackerEvent::Acknowledged { by, at: eight + chrono::TimeDelta::minutes(2) }).unwrap();
    let policy = ReminderPolicy::default();
    assert_eq!(
        next_action(&policy, &tr, true),
        NextAction::Remind { at: close + policy.remind_unsubmitted_every.delta() }
    );
}
