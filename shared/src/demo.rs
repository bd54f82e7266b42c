//! The fictitious demo data of the domain brief: three offerings and five clients, as the
//! devserver's `--demo` loads them and as tests use them, and one finished offering whose four
//! phases are all confirmed, so a new user sees an IPO's result at once. Built from literals that
//! a test checks, so the `expect`s below cannot fire.

use crate::domain::client::{Client, FundAccount, FundKind};
use crate::domain::ids::{ClientId, ProcessId};
use crate::domain::lockup::LockUp;
use crate::domain::money::{Price, Quantity, Won};
use crate::domain::phase::bid::{AdviceLine, BidAdvice};
use crate::domain::phase::{Advice, Answer, FundLines};
use crate::domain::process::{Process, ProcessAction, ProcessKind, ReminderPolicy, Round};
use crate::domain::stock::{Market, NewStock, PriceBand, Schedule, ScheduleDates, Stock};
use crate::domain::text::Label;
use crate::domain::time::{Timestamp, at_kst};
use crate::domain::tracker::{Tracker, TrackerEvent};
use chrono::{NaiveDate, NaiveTime};

fn label(s: &str) -> Label {
    Label::new(s).expect("demo labels are valid")
}

fn price(won: u64) -> Price {
    Price::new(won).expect("demo prices are positive")
}

fn stock(id: &str, name: &str, market: Market, band: (u64, u64), dates: [&str; 8], spac: bool) -> Stock {
    let d = |s: &str| s.parse().expect("demo dates are valid");
    let [filing, bb_start, bb_end, fixing, sub_start, sub_end, payment, listing] = dates;
    Stock::new(NewStock {
        id: id.parse().expect("demo ids are valid"),
        name: label(name),
        code: None,
        market,
        lead_manager: label("(가상)미래증권"),
        band: PriceBand::new(price(band.0), price(band.1)).expect("demo bands are ordered"),
        schedule: Schedule::new(ScheduleDates {
            filing: d(filing),
            bookbuilding_start: d(bb_start),
            bookbuilding_end: d(bb_end),
            price_fixing: d(fixing),
            subscription_start: d(sub_start),
            subscription_end: d(sub_end),
            payment: d(payment),
            listing: d(listing),
        })
        .expect("demo schedules are in order"),
        spac,
    })
}

/// (가상)한빛로보틱스, KOSDAQ, 14,000–16,000원, book-building 2026-03-16 – 03-20, listing 04-07.
pub fn hanbit() -> Stock {
    let dates = [
        "2026-02-20",
        "2026-03-16",
        "2026-03-20",
        "2026-03-24",
        "2026-03-26",
        "2026-03-27",
        "2026-03-31",
        "2026-04-07",
    ];
    stock("hanbit", "(가상)한빛로보틱스", Market::Kosdaq, (14_000, 16_000), dates, false)
}

/// (가상)누리에너지솔루션, KOSPI, 42,000–48,000원.
pub fn nuri_energy() -> Stock {
    let dates = [
        "2026-02-25",
        "2026-03-19",
        "2026-03-25",
        "2026-03-27",
        "2026-03-31",
        "2026-04-01",
        "2026-04-03",
        "2026-04-10",
    ];
    stock("nuri-energy", "(가상)누리에너지솔루션", Market::Kospi, (42_000, 48_000), dates, false)
}

/// (가상)한결스팩7호, a SPAC at a fixed 2,000원.
pub fn hangyeol_spac() -> Stock {
    let dates = [
        "2026-03-05",
        "2026-03-23",
        "2026-03-24",
        "2026-03-26",
        "2026-03-30",
        "2026-03-31",
        "2026-04-02",
        "2026-04-09",
    ];
    stock("hangyeol-spac7", "(가상)한결스팩7호", Market::Kosdaq, (2_000, 2_000), dates, true)
}

/// The five demo clients with their funds (sizes in 억원); no chats linked.
pub fn clients() -> Vec<Client> {
    use FundKind::*;
    let client = |id: &str, name: &str, funds: &[(&str, &str, FundKind, u64)]| {
        let funds = funds
            .iter()
            .map(|(id, name, kind, eok)| FundAccount {
                id: id.parse().expect("demo ids are valid"),
                name: label(name),
                kind: *kind,
                aum: Won::new(eok * 100_000_000),
            })
            .collect();
        Client::new(id.parse().expect("demo ids are valid"), label(name), "rep-kim".parse().expect("valid"), funds)
            .expect("demo funds are distinct")
    };
    vec![
        client(
            "saebyeok",
            "(가상)새벽자산운용",
            &[("hy", "하이일드", HighYield, 850), ("pv-kv", "사모 코벤", KosdaqVenture, 420)],
        ),
        client("nuri", "(가상)누리자산운용", &[("kv", "공모 코벤", KosdaqVenture, 1_200)]),
        client(
            "gaon",
            "(가상)가온자산운용",
            &[("ipo", "공모주 채권혼합", IpoFund, 2_300), ("pv", "사모", Private, 300)],
        ),
        client("dasom", "(가상)다솜자산운용", &[("hedge", "사모 헤지", Private, 150)]),
        client("bareun", "(가상)바른투자일임", &[("ilim", "일임", Discretionary, 80)]),
    ]
}

/// The firm's first-day advice for (가상)한빛로보틱스, per demo client: above the band, as the
/// workbook's comment says.
pub fn hanbit_first_day_advice() -> Vec<(ClientId, Advice)> {
    let line = |fund: &str, price: u64, qty: u64, lockup: LockUp| AdviceLine {
        fund_id: fund.parse().expect("demo ids are valid"),
        price: self::price(price),
        quantity: Quantity::new(qty).expect("demo quantities are positive"),
        lockup,
        comment: "밴드 상단 초과 제출".into(),
    };
    let advice = |lines: Vec<AdviceLine>| {
        Advice::Bid(BidAdvice { lines: FundLines::new(lines).expect("demo advice names each fund once") })
    };
    [
        ("saebyeok", vec![line("hy", 17_500, 300_000, LockUp::Months1), line("pv-kv", 17_000, 100_000, LockUp::None)]),
        ("nuri", vec![line("kv", 17_500, 500_000, LockUp::Months3)]),
        ("gaon", vec![line("ipo", 17_500, 300_000, LockUp::Months1)]),
        ("dasom", vec![line("hedge", 17_500, 500_000, LockUp::None)]),
        ("bareun", vec![line("ilim", 17_000, 30_000, LockUp::None)]),
    ]
    .into_iter()
    .map(|(client, lines)| (client.parse().expect("demo ids are valid"), advice(lines)))
    .collect()
}

/// (가상)세솔소재, KOSDAQ, 9,000–11,000원, priced at 12,000원 and listed 2026-06-09: the finished
/// IPO of the demo.
pub fn sesol() -> Stock {
    let dates = [
        "2026-04-20",
        "2026-05-18",
        "2026-05-22",
        "2026-05-26",
        "2026-05-28",
        "2026-05-29",
        "2026-06-02",
        "2026-06-09",
    ];
    let mut stock = stock("sesol", "(가상)세솔소재", Market::Kosdaq, (9_000, 11_000), dates, false);
    stock.set_final_price(price(12_000), d("2026-05-26")).expect("priced after book-building");
    stock
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("demo dates are valid")
}

fn qty(n: u64) -> Quantity {
    Quantity::new(n).expect("demo quantities are positive")
}

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("demo ids are valid")
}

/// A tracker the client answered and staff confirmed.
fn settled(process: &ProcessId, client: &str, advice: Advice, answer: Answer, day: NaiveDate) -> Tracker {
    let at = |h| at_kst(day, NaiveTime::from_hms_opt(h, 0, 0).expect("valid time"));
    let mut t = Tracker::new(process.clone(), id(client), advice, at(9));
    for event in [
        TrackerEvent::Sent { at: at(9) },
        TrackerEvent::Submitted { answer, at: at(10) },
        TrackerEvent::Confirmed { by: id("admin"), answer: None, at: at(11) },
    ] {
        t.apply(event).expect("the demo plays legal moves");
    }
    t
}

fn finished(id: &str, kind: ProcessKind, kickoff: Timestamp, now: Timestamp) -> Process {
    let mut p = Process::new(self::id(id), Some(self::id("sesol")), kind, kickoff, ReminderPolicy::default(), now);
    for action in [ProcessAction::Start, ProcessAction::Complete] {
        p.apply(action).expect("the demo plays legal moves");
    }
    p
}

fn lines<T: crate::domain::phase::FundLine>(lines: Vec<T>) -> FundLines<T> {
    FundLines::new(lines).expect("demo lines name each fund once")
}

/// (가상)세솔소재 from book-building to its last statement, every answer confirmed: 누리 sells its
/// 20,000 shares at the open on listing day; 다솜 sells 6,000 of its 8,000 (against the advice to
/// sell all) and the rest when 가온's 15일 lock-up releases on 06-24, where 가온 sells half at a
/// limit and half at the open. Statements match the rules (0.20% tax, 0.015% commission).
pub fn sesol_finished(now: Timestamp) -> Vec<(Process, Vec<Tracker>)> {
    use crate::domain::phase::allotment::{AllotmentAnswer, AllotmentLine, Allotted, Release};
    use crate::domain::phase::bid::{BidAnswer, BidLine};
    use crate::domain::phase::sell::{
        Execution, ExecutionLine, OrderQuantity, OrderType, Orders, Percent, SellAdvice, SellAnswer, SellOrder,
        SellPlanLine,
    };
    use crate::domain::phase::statement::{StatementAdvice, StatementAnswer, StatementLine};
    let nine = |day: &str| at_kst(d(day), NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"));
    let eight = |day: &str| at_kst(d(day), NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"));
    // (client, fund, bid price, bid quantity, lock-up, allotted)
    let funds = [
        ("nuri", "kv", 12_000, 200_000, LockUp::None, 20_000),
        ("gaon", "ipo", 12_000, 150_000, LockUp::Days15, 15_000),
        ("dasom", "hedge", 11_500, 100_000, LockUp::None, 8_000),
    ];
    let listing = d("2026-06-09");
    let released = |lockup| {
        crate::domain::regulation::Regulation::builtin()
            .first_sale_date(lockup, listing, crate::domain::calendar::KrxCalendar::builtin())
            .expect("the release rule covers 2026")
    };

    let first_day =
        finished("sesol-first-day", ProcessKind::Participation { round: Round::FirstDay }, nine("2026-05-18"), now);
    let allotment = finished("sesol-allotment", ProcessKind::Allotment, nine("2026-05-28"), now);
    let mut bids = Vec::new();
    let mut allotments = Vec::new();
    for (client, fund, price, quantity, lockup, allotted) in funds {
        let bid = BidAnswer {
            lines: lines(vec![BidLine {
                fund_id: id(fund),
                price: self::price(price),
                quantity: qty(quantity),
                lockup,
            }]),
        };
        let advice = Advice::Bid(BidAdvice {
            lines: lines(vec![AdviceLine {
                fund_id: id(fund),
                price: self::price(price),
                quantity: qty(quantity),
                lockup,
                comment: "밴드 상단 초과 제출".into(),
            }]),
        });
        bids.push(settled(&first_day.id, client, advice, Answer::Bid(bid.clone()), d("2026-05-18")));
        let mut answer = AllotmentAnswer::new(lines(vec![AllotmentLine {
            fund_id: id(fund),
            allotted: Allotted::Shares { quantity: qty(allotted), lockup },
        }]));
        answer.releases = vec![Release { fund_id: id(fund), quantity: qty(allotted), lockup, date: released(lockup) }];
        let advice = Advice::Allotment(crate::domain::phase::allotment::AllotmentAdvice::from(&bid));
        allotments.push(settled(&allotment.id, client, advice, Answer::Allotment(answer), d("2026-05-28")));
    }

    let order = |quantity: OrderQuantity, order_type: OrderType| SellOrder {
        quantity,
        order_type,
        condition: None,
        comment: None,
    };
    let all = || OrderQuantity::Percent { percent: Percent::new(100).expect("100% is a percentage") };
    let plan = |fund: &str, sellable: u64, orders: Vec<SellOrder>| SellPlanLine {
        fund_id: id(fund),
        sellable: qty(sellable),
        orders: Orders::new(orders).expect("demo plans are valid"),
    };
    let sold = |fund: &str, quantity: u64, average: u64| ExecutionLine {
        fund_id: id(fund),
        execution: Execution::Sold { quantity: qty(quantity), average_price: self::price(average) },
    };
    // Gross, 0.015% commission, 0.20% tax (KOSDAQ, 2026) and net of a sale.
    let statement = |fund: &str, quantity: u64, average: u64| {
        let gross = quantity * average;
        let (commission, tax) = (gross * 15 / 100_000, gross * 20 / 10_000);
        StatementLine {
            fund_id: id(fund),
            quantity: qty(quantity),
            price: self::price(average),
            gross: Won::new(gross),
            commission: Won::new(commission),
            tax: Won::new(tax),
            net: Won::new(gross - commission - tax),
        }
    };
    // (sale date, kickoff day of its statements, [(client, plan, report)])
    let sales = [
        (
            "2026-06-09",
            "listing",
            "2026-06-11",
            vec![
                ("nuri", plan("kv", 20_000, vec![order(all(), OrderType::Open)]), sold("kv", 20_000, 18_500)),
                ("dasom", plan("hedge", 8_000, vec![order(all(), OrderType::Open)]), sold("hedge", 6_000, 18_450)),
            ],
        ),
        (
            "2026-06-24",
            "15d",
            "2026-06-26",
            vec![
                (
                    "gaon",
                    plan(
                        "ipo",
                        15_000,
                        vec![
                            order(
                                OrderQuantity::Percent { percent: Percent::new(50).expect("50% is a percentage") },
                                OrderType::Limit { price: self::price(16_000) },
                            ),
                            order(OrderQuantity::Rest, OrderType::Open),
                        ],
                    ),
                    sold("ipo", 15_000, 15_200),
                ),
                ("dasom", plan("hedge", 2_000, vec![order(all(), OrderType::Open)]), sold("hedge", 2_000, 15_300)),
            ],
        ),
    ];
    let mut out = vec![(first_day, bids), (allotment, allotments)];
    for (date, slug, statement_day, clients) in sales {
        let sale_date = d(date);
        let sell = finished(&format!("sesol-sell-{slug}"), ProcessKind::Sell { sale_date }, eight(date), now);
        let statements = finished(
            &format!("sesol-sell-{slug}-statement"),
            ProcessKind::Statement { sale_date },
            nine(statement_day),
            now,
        );
        let mut sell_trackers = Vec::new();
        let mut statement_trackers = Vec::new();
        for (client, plan, report) in clients {
            let fund = plan.fund_id.to_string();
            let answer = SellAnswer { lines: lines(vec![report.clone()]) };
            let advice = Advice::Sell(SellAdvice { sale_date, previous_close: None, lines: lines(vec![plan]) });
            let request = StatementAdvice::from_execution(&answer, sale_date, Market::Kosdaq).expect("a fund sold");
            sell_trackers.push(settled(&sell.id, client, advice, Answer::Sell(answer), sale_date));
            let (quantity, average) = match report.execution {
                Execution::Sold { quantity, average_price } => (quantity.get(), average_price.get()),
                Execution::NotSold { .. } => (0, 0),
            };
            let answer = StatementAnswer { lines: lines(vec![statement(&fund, quantity, average)]) };
            statement_trackers.push(settled(
                &statements.id,
                client,
                Advice::Statement(request),
                Answer::Statement(answer),
                d(statement_day),
            ));
        }
        out.push((sell, sell_trackers));
        out.push((statements, statement_trackers));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::KrxCalendar;

    #[test]
    fn demo_data_builds_and_its_schedules_are_clean() {
        let cal = KrxCalendar::builtin();
        for stock in [hanbit(), nuri_energy(), hangyeol_spac(), sesol()] {
            assert_eq!(stock.schedule().warnings(cal, stock.spac), vec![], "{}", stock.name);
        }
        let clients = clients();
        assert_eq!(clients.len(), 5);
        assert_eq!(clients[3].funds()[0].aum, Won::new(15_000_000_000), "다솜 150억");
        let advice = hanbit_first_day_advice();
        for (client, advice) in &advice {
            let client = clients.iter().find(|c| &c.id == client).unwrap();
            assert!(advice.funds().iter().all(|f| client.fund(f).is_some()), "{} advised its own funds", client.name);
        }
    }

    #[test]
    fn the_finished_ipo_is_settled_and_its_statements_follow_the_rules() {
        use crate::domain::phase::Context;
        let now: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        let work = sesol_finished(now);
        assert_eq!(work.len(), 6);
        let clients = clients();
        let stock = sesol();
        for (process, trackers) in &work {
            assert_eq!(process.state(), crate::domain::process::ProcessState::Completed);
            for t in trackers {
                assert_eq!(t.state(), crate::domain::tracker::TrackerState::Confirmed, "{}", process.id);
                let client = clients.iter().find(|c| c.id == t.client_id).unwrap();
                let ctx = Context {
                    client,
                    stock: Some(&stock),
                    today: "2026-06-30".parse().unwrap(),
                    regulation: crate::domain::regulation::Regulation::builtin(),
                    calendar: crate::domain::calendar::KrxCalendar::builtin(),
                };
                let findings = t.advice().check(t.answer().unwrap(), &ctx).unwrap();
                let errors: Vec<_> =
                    findings.iter().filter(|f| f.severity() >= crate::domain::phase::Severity::Error).collect();
                assert!(errors.is_empty(), "{} {}: {errors:?}", process.id, t.client_id);
            }
        }
    }
}
