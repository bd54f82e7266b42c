//! Phase 4's cases: statements read and reconciled with the confirmed sale and the dated rules.

use super::*;
use crate::domain::calendar::KrxCalendar;
use crate::domain::client::Client;
use crate::domain::phase::sell::ExecutionLine;
use crate::domain::phase::{LineError, LineInput, ReplyError};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn q(n: u64) -> Quantity {
    Quantity::new(n).unwrap()
}

fn p(n: u64) -> Price {
    Price::new(n).unwrap()
}

fn w(n: u64) -> Won {
    Won::new(n)
}

fn f(s: &str) -> FundId {
    s.parse().unwrap()
}

fn client(id: &str) -> Client {
    crate::demo::clients().into_iter().find(|c| c.id.as_str() == id).unwrap()
}

/// 새벽 하이일드 sold 12,000주 of (가상)한빛로보틱스 (KOSDAQ) at 28,000원 on listing day.
fn sale() -> ConfirmedSale {
    ConfirmedSale {
        fund_id: f("hy"),
        quantity: q(12_000),
        average_price: p(28_000),
        sale_date: d("2026-04-07"),
        market: Market::Kosdaq,
    }
}

/// Its statement: 336,000,000원, commission 0.015% (50,400원), tax 0.20% (672,000원).
fn statement() -> StatementLine {
    StatementLine {
        fund_id: f("hy"),
        quantity: q(12_000),
        price: p(28_000),
        gross: w(336_000_000),
        commission: w(50_400),
        tax: w(672_000),
        net: w(335_277_600),
    }
}

fn advice(sales: Vec<ConfirmedSale>) -> StatementAdvice {
    StatementAdvice { lines: FundLines::new(sales).unwrap() }
}

fn answer(lines: Vec<StatementLine>) -> StatementAnswer {
    StatementAnswer { lines: FundLines::new(lines).unwrap() }
}

fn ctx(client: &Client) -> Context<'_> {
    Context {
        client,
        stock: None,
        today: d("2026-04-09"),
        regulation: Regulation::builtin(),
        calendar: KrxCalendar::builtin(),
    }
}

fn reconcile(line: StatementLine) -> Vec<Finding> {
    check_line(&sale(), &line, Regulation::builtin()).unwrap()
}

#[test]
fn the_expected_statement_follows_the_dated_rate() {
    let e = expected_for(Regulation::builtin(), &sale(), w(50_400)).unwrap();
    assert_eq!(
        e,
        ExpectedStatement { gross: w(336_000_000), commission: w(50_400), tax: w(672_000), net: 335_277_600 }
    );
    let in_2025 = ConfirmedSale { sale_date: d("2025-11-03"), market: Market::Kospi, ..sale() };
    assert_eq!(expected_for(Regulation::builtin(), &in_2025, w(0)).unwrap().tax, w(504_000), "0.15% in 2025");
}

#[test]
fn a_statement_as_the_rules_compute_it_settles() {
    assert_eq!(reconcile(statement()), vec![Finding::Settled { fund_id: f("hy"), net: w(335_277_600) }]);
}

#[test]
fn a_wrong_tax_is_reported_with_both_amounts_once() {
    // 0.15% instead of 0.20%: the net follows the wrong tax, so only the tax is wrong.
    let wrong = StatementLine { tax: w(504_000), net: w(335_445_600), ..statement() };
    let found = reconcile(wrong);
    assert_eq!(found, vec![Finding::TaxDiffers { fund_id: f("hy"), expected: w(672_000), given: w(504_000) }]);
    assert_eq!(found[0].severity(), Severity::Error);
}

#[test]
fn gross_net_and_commission_are_each_checked() {
    let gross = StatementLine { gross: w(335_000_000), ..statement() };
    let found = reconcile(gross);
    assert!(found.contains(&Finding::GrossDiffers {
        fund_id: f("hy"),
        expected: w(336_000_000),
        given: w(335_000_000)
    }));
    let net = StatementLine { net: w(335_277_000), ..statement() };
    assert_eq!(
        reconcile(net),
        vec![Finding::NetDiffers { fund_id: f("hy"), expected: 335_277_600, given: w(335_277_000) }]
    );
    // 1% commission: above the 0.5% ceiling (1,680,000원 for this sale).
    let dear = StatementLine { commission: w(3_360_000), net: w(331_968_000), ..statement() };
    let found = reconcile(dear);
    assert_eq!(
        found,
        vec![Finding::CommissionOutsideRange {
            fund_id: f("hy"),
            commission: w(3_360_000),
            gross: w(336_000_000),
            low: w(3_360),
            high: w(1_680_000),
        }]
    );
    assert_eq!(found[0].severity(), Severity::Warning);
}

#[test]
fn quantity_and_price_are_reconciled_with_the_execution_report() {
    let other = StatementLine {
        quantity: q(11_000),
        price: p(28_050),
        gross: w(308_550_000),
        commission: w(46_282),
        tax: w(617_100),
        net: w(307_886_618),
        ..statement()
    };
    let found = reconcile(other);
    assert_eq!(
        found,
        vec![
            Finding::QuantityDiffers { fund_id: f("hy"), reported: q(12_000), statement: q(11_000) },
            Finding::PriceDiffers { fund_id: f("hy"), reported: p(28_000), statement: p(28_050) },
        ]
    );
}

#[test]
fn missing_and_unexpected_statements() {
    let c = client("saebyeok");
    let other = ConfirmedSale { fund_id: f("pv-kv"), ..sale() };
    let found = check(&advice(vec![sale(), other]), &answer(vec![statement()]), &ctx(&c)).unwrap();
    assert_eq!(found.last(), Some(&Finding::Missing { fund_id: f("pv-kv") }));
    let stranger = StatementLine { fund_id: f("pv-kv"), ..statement() };
    let found = compare(&advice(vec![sale()]), &answer(vec![stranger]));
    assert_eq!(found, vec![Finding::Missing { fund_id: f("hy") }, Finding::Unexpected { fund_id: f("pv-kv") }]);
}

#[test]
fn the_request_is_built_from_the_confirmed_execution_report() {
    let report = crate::domain::phase::sell::SellAnswer {
        lines: FundLines::new(vec![
            ExecutionLine {
                fund_id: f("hy"),
                execution: Execution::Sold { quantity: q(12_000), average_price: p(28_000) },
            },
            ExecutionLine { fund_id: f("pv-kv"), execution: Execution::NotSold { reason: None } },
        ])
        .unwrap(),
    };
    let advice = StatementAdvice::from_execution(&report, d("2026-04-07"), Market::Kosdaq).unwrap();
    assert_eq!(advice.lines.as_slice(), &[sale()]);
    let nothing = crate::domain::phase::sell::SellAnswer {
        lines: FundLines::new(vec![ExecutionLine {
            fund_id: f("pv-kv"),
            execution: Execution::NotSold { reason: None },
        }])
        .unwrap(),
    };
    assert_eq!(StatementAdvice::from_execution(&nothing, d("2026-04-07"), Market::Kosdaq), None);
}

#[test]
fn replies_with_labelled_figures() {
    let c = client("saebyeok");
    let hy = f("hy");
    let pv = f("pv-kv");
    let one_line = "하이일드 수량 12,000주 단가 28,000원 매매금액 336,000,000원 수수료 50,400원 거래세 672,000원 정산금액 335,277,600원";
    assert_eq!(parse_reply(one_line, &c, &[&hy, &pv]), Ok(answer(vec![statement()])));
    let block = "하이일드\n체결수량 12,000\n체결단가 28,000\n거래금액 336,000,000\n수수료 50,400\n증권거래세 672,000\n정산금액 335,277,600";
    assert_eq!(parse_reply(block, &c, &[&hy, &pv]), Ok(answer(vec![statement()])));
    let n = client("nuri");
    let kv = f("kv");
    // KOSPI prints 거래세 and 농특세 apart: they add up.
    let kospi = "수량 1,000주 단가 48,000원 매매금액 48,000,000원 수수료 7,200원 거래세 24,000원 농특세 72,000원 정산금액 47,896,800원";
    let read = parse_reply(kospi, &n, &[&kv]).unwrap();
    assert_eq!(read.lines.as_slice()[0].tax, w(96_000));
    let dated = "하이일드 매매일 2026-04-07 결제일 2026.04.09\n매도 12,000주 @28,000 = 336,000,000원\n수수료 50,400 세금 672,000 정산 335,277,600";
    assert_eq!(parse_reply(dated, &c, &[&hy, &pv]), Ok(answer(vec![statement()])), "dates are no figures");
    let bare = "12,000 / 28,000 / 336,000,000 / 50,400 / 672,000 / 335,277,600";
    let read = parse_reply(bare, &n, &[&kv]).unwrap();
    assert_eq!(read.lines.as_slice()[0].net, w(335_277_600), "unlabelled figures in the printed order");
    assert!(matches!(
        parse_reply("수량 1,000주 단가 48,000원", &n, &[&kv]),
        Err(ReplyError::Line { error: LineError::MissingValue { what: "매매금액", .. }, .. })
    ));
    assert_eq!(parse_reply("수량 1,000주", &c, &[&hy, &pv]), Err(ReplyError::WhichFund { line: 1 }));
    assert!(parse_reply("감사합니다", &c, &[&hy, &pv]).is_err_and(|e| e.holds_no_answer()));
}

#[test]
fn staff_fields_need_every_figure() {
    let c = client("saebyeok");
    let input = LineInput {
        fund: "하이일드".into(),
        quantity: Some("12,000주".into()),
        price: Some("28,000원".into()),
        amount: Some("3억3,600만원".into()),
        commission: Some("50,400".into()),
        tax: Some("672,000".into()),
        net: Some("335,277,600".into()),
        ..LineInput::default()
    };
    assert_eq!(parse_line(&c, &input), Ok(statement()));
    let no_tax = LineInput { tax: None, ..input.clone() };
    assert_eq!(parse_line(&c, &no_tax), Err(LineError::MissingValue { fund: "하이일드".into(), what: "거래세" }));
    let bad = LineInput { net: Some("abc".into()), ..input };
    assert!(matches!(parse_line(&c, &bad), Err(LineError::Invalid { .. })));
}
