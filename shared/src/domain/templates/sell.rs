//! The texts of 상장 후 매도의견: each fund's orders for the sale date, the execution report
//! prompt, and how findings read.

use super::{Subject, answer_request, fund_name};
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::money::{Quantity, group_thousands};
use crate::domain::phase::sell::{
    DayLimits, Execution, Finding, LimitBasis, OrderQuantity, OrderType, SellAdvice, SellAnswer, SellOrder,
    SellPlanLine,
};
use crate::telegram::html::escape;

pub const PLACEHOLDER: &str = "매도수량 / 평균단가";

/// `시가`, `시장가`, `지정가 34,000원`.
pub fn order_type(t: OrderType) -> String {
    match t {
        OrderType::Open => "시가".to_owned(),
        OrderType::Market => "시장가".to_owned(),
        OrderType::Limit { price } => format!("지정가 {price}"),
    }
}

/// `6,000주`, `50%`, `잔량`.
fn quantity(q: OrderQuantity) -> String {
    match q {
        OrderQuantity::Shares { shares } => shares.to_string(),
        OrderQuantity::Percent { percent } => format!("{}%", percent.get()),
        OrderQuantity::Rest => "잔량".to_owned(),
    }
}

/// One order as the client reads it: `50% (6,000주) 시가`, `6,000주 지정가 34,000원`.
fn order(o: &SellOrder, shares: u64) -> String {
    let q = match o.quantity {
        OrderQuantity::Shares { shares } => shares.to_string(),
        OrderQuantity::Percent { .. } | OrderQuantity::Rest => {
            format!("{} ({}주)", quantity(o.quantity), group_thousands(shares))
        }
    };
    format!("{q} {}", order_type(o.order_type))
}

/// A fund's plan in one line for staff and the result: `50% 시가, 잔량 지정가 34,000원`.
pub fn summary(line: &SellPlanLine) -> String {
    line.orders.iter().map(order_summary).collect::<Vec<_>>().join(", ")
}

/// One order for staff, with its condition: `시가 +30% 이상이면: 50% 시가`.
pub fn order_summary(o: &SellOrder) -> String {
    let condition = o.condition.as_ref().map_or_else(String::new, |c| format!("{c}: "));
    format!("{condition}{} {}", quantity(o.quantity), order_type(o.order_type))
}

/// `04-07 (상장일)` or `05-07`.
fn sale_day(subject: &Subject<'_>, advice: &SellAdvice) -> String {
    let listing = subject.stock.map(|s| s.schedule().dates().listing);
    let day = advice.sale_date.format("%m-%d");
    if listing == Some(advice.sale_date) { format!("{day} (상장일)") } else { day.to_string() }
}

/// The plan for one client: only its own funds, each order with the shares it comes to.
pub fn advice(subject: &Subject<'_>, client: &Client, advice: &SellAdvice) -> String {
    let mut out = subject.heading();
    let offer = subject.stock.and_then(|s| s.final_price());
    out.push_str(&format!("\n매도일 {}", sale_day(subject, advice)));
    if let Some(price) = offer {
        out.push_str(&format!(" · 공모가 {price}"));
    }
    if let Some(close) = advice.previous_close {
        out.push_str(&format!(" · 전일 종가 {close}"));
    }
    for line in &advice.lines {
        out.push_str(&format!(
            "\n\n<b>{}</b> (매도 가능 {})",
            escape(&fund_name(client, &line.fund_id)),
            line.sellable
        ));
        for (o, shares) in line.orders.iter().zip(line.order_shares()) {
            out.push_str(&format!("\n• {}", order(o, shares)));
            if let Some(condition) = &o.condition {
                out.push_str(&format!("\n  조건: {}", escape(condition.as_str())));
            }
            if let Some(comment) = &o.comment {
                out.push_str(&format!("\n  코멘트: {}", escape(comment.as_str())));
            }
        }
    }
    out.push_str(&answer_request("체결 후 펀드별 매도 수량과 평균 단가를 알려 주세요."));
    out
}

/// How to answer: the advised quantity at an example price, and 미매도 for a second fund.
pub fn example(client: &Client, advice: &SellAdvice) -> String {
    let several = advice.lines.len() > 1;
    advice
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let name = if several { format!("{} ", escape(&fund_name(client, &l.fund_id))) } else { String::new() };
            let price = l.lowest_limit().map_or_else(|| "25,300".to_owned(), |p| group_thousands(p.get()));
            if i == 0 {
                format!("{name}{}주 / 평균 {price}원", group_thousands(l.advised_quantity().max(1)))
            } else {
                format!("{name}미매도 (사유)")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn prompt(subject: &Subject<'_>, client: &Client, advice: &SellAdvice) -> String {
    format!(
        "<b>{}</b> 매도 내역(매도 수량 / 평균 단가)을 이 메시지에 <b>답장</b>으로 보내 주세요.{} 매도하지 않은 펀드는 \"미매도\"와 사유를 적어 주세요.\n예)\n{}\n체결 내역 화면 캡처나 파일을 답장으로 보내셔도 됩니다.",
        escape(subject.name()),
        if advice.lines.len() > 1 { " 펀드마다 한 줄씩 적어 주세요." } else { "" },
        example(client, advice)
    )
}

/// The execution reports as understood, one line per fund.
pub fn answer_lines(client: &Client, answer: &SellAnswer) -> Vec<String> {
    answer
        .lines
        .iter()
        .map(|l| {
            let name = escape(&fund_name(client, &l.fund_id));
            match &l.execution {
                Execution::Sold { quantity, average_price } => format!("{name}: {quantity} / 평균 {average_price}"),
                Execution::NotSold { reason: Some(reason) } => format!("{name}: 미매도 ({})", escape(reason.as_str())),
                Execution::NotSold { reason: None } => format!("{name}: 미매도"),
            }
        })
        .collect()
}

/// `10,200원 ~ 68,000원 (상장일 공모가 17,000원 기준)`.
fn limits(l: &DayLimits) -> String {
    let basis = match l.basis {
        LimitBasis::ListingDay { offer_price } => format!("상장일 공모가 {offer_price} 기준"),
        LimitBasis::PreviousClose { close } => format!("전일 종가 {close} 기준"),
        LimitBasis::Reachable { offer_price, sessions } => {
            format!("전일 종가 미상: 공모가 {offer_price}에서 {sessions}거래일 동안 가능한 범위")
        }
    };
    format!("{} ~ {} ({basis})", l.low, l.high)
}

fn shares(n: u64) -> String {
    Quantity::new(n).map_or_else(|_| "0주".to_owned(), |q| q.to_string())
}

pub fn finding(client: &Client, f: &Finding) -> String {
    let fund = |id: &FundId| escape(&fund_name(client, id));
    let mark = |exact: bool| if exact { "🚫" } else { "⚠️" };
    match f {
        Finding::OffGrid { fund_id, price, tick } => {
            format!("🚫 {} 지정가 {price} 이(가) 호가단위({tick}원)에 맞지 않음", fund(fund_id))
        }
        Finding::LimitOutsideLimits { fund_id, price, limits: l } => {
            format!("{} {} 지정가 {price} 이(가) 가격제한폭 밖: {}", mark(l.basis.is_exact()), fund(fund_id), limits(l))
        }
        Finding::PlanOverSellable { fund_id, sellable, planned } => {
            format!("🚫 {} 매도의견 {} 이(가) 매도 가능 수량 {sellable} 초과", fund(fund_id), shares(*planned))
        }
        Finding::OrdersMayExceed { fund_id, sellable, planned } => format!(
            "⚠️ {} 조건부 주문까지 합하면 {} 로 매도 가능 수량 {sellable} 초과 (조건이 서로 배타적인지 확인)",
            fund(fund_id),
            shares(*planned)
        ),
        Finding::SoldMoreThanSellable { fund_id, sellable, sold } => format!(
            "🚫 {} 매도 {sold} 이(가) 매도 가능 수량 {sellable} 초과 (보호예수 물량 또는 이미 매도한 물량)",
            fund(fund_id)
        ),
        Finding::AverageOutsideLimits { fund_id, average_price, limits: l } => format!(
            "{} {} 평균 단가 {average_price} 이(가) 가격제한폭 밖: {}",
            mark(l.basis.is_exact()),
            fund(fund_id),
            limits(l)
        ),
        Finding::QuantityDiffers { fund_id, advised, sold, diff } => format!(
            "⚠️ {} 매도 {} (자문 {}, {}{}주)",
            fund(fund_id),
            shares(*sold),
            shares(*advised),
            if *diff > 0 { "+" } else { "-" },
            group_thousands(diff.unsigned_abs())
        ),
        Finding::BelowLimit { fund_id, average_price, limit } => {
            format!("⚠️ {} 평균 단가 {average_price} 이(가) 지정가 {limit} 보다 낮음", fund(fund_id))
        }
        Finding::Sold { fund_id, quantity, average_price, amount } => {
            format!("ℹ️ {} {quantity} 매도 · 평균 {average_price} · 매도금액 {amount}", fund(fund_id))
        }
        Finding::NotSold { fund_id, reason } => match reason {
            Some(r) => format!("ℹ️ {} 미매도 ({})", fund(fund_id), escape(r.as_str())),
            None => format!("ℹ️ {} 미매도", fund(fund_id)),
        },
        Finding::Unsold { fund_id, remaining } => {
            format!("ℹ️ {} 잔여 {}는 다음 매도일로 이월", fund(fund_id), shares(*remaining))
        }
        Finding::Missing { fund_id } => format!("⚠️ {} 매도 내역 없음", fund(fund_id)),
        Finding::Unexpected { fund_id } => {
            format!("🚫 {} 매도의견이 없는 펀드의 매도 (매도 가능 여부 확인 필요)", fund(fund_id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Price;
    use crate::domain::phase::FundLines;
    use crate::domain::phase::sell::{ExecutionLine, Orders, Percent, parse_reply};
    use crate::domain::process::ProcessKind;
    use crate::domain::stock::Stock;
    use crate::domain::text::Label;

    fn saebyeok() -> Client {
        crate::demo::clients().into_iter().find(|c| c.id.as_str() == "saebyeok").unwrap()
    }

    fn hanbit() -> Stock {
        let mut stock = crate::demo::hanbit();
        stock.set_final_price(Price::new(17_000).unwrap(), "2026-03-24".parse().unwrap()).unwrap();
        stock
    }

    fn q(n: u64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn plan() -> SellAdvice {
        let open = SellOrder {
            quantity: OrderQuantity::Percent { percent: Percent::new(50).unwrap() },
            order_type: OrderType::Open,
            condition: Some(Label::new("시가가 공모가 대비 +30% 이상이면").unwrap()),
            comment: None,
        };
        let rest = SellOrder {
            quantity: OrderQuantity::Rest,
            order_type: OrderType::Limit { price: Price::new(34_000).unwrap() },
            condition: None,
            comment: Some(Label::new("<b>목표가</b>").unwrap()),
        };
        let market = SellOrder {
            quantity: OrderQuantity::Shares { shares: q(8_000) },
            order_type: OrderType::Market,
            condition: None,
            comment: None,
        };
        SellAdvice {
            sale_date: "2026-04-07".parse().unwrap(),
            previous_close: None,
            lines: FundLines::new(vec![
                SellPlanLine {
                    fund_id: "hy".parse().unwrap(),
                    sellable: q(12_000),
                    orders: Orders::new(vec![open, rest]).unwrap(),
                },
                SellPlanLine {
                    fund_id: "pv-kv".parse().unwrap(),
                    sellable: q(8_000),
                    orders: Orders::new(vec![market]).unwrap(),
                },
            ])
            .unwrap(),
        }
    }

    fn subject(stock: &Stock) -> Subject<'_> {
        Subject::new(Some(stock), ProcessKind::Sell { sale_date: "2026-04-07".parse().unwrap() }, None)
    }

    #[test]
    fn the_plan_shows_each_order_with_its_shares() {
        let stock = hanbit();
        assert_eq!(
            advice(&subject(&stock), &saebyeok(), &plan()),
            "📌 <b>(가상)한빛로보틱스</b> 상장 후 매도의견 (04-07)\n매도일 04-07 (상장일) · 공모가 17,000원\n\n\
             <b>하이일드</b> (매도 가능 12,000주)\n• 50% (6,000주) 시가\n  조건: 시가가 공모가 대비 +30% 이상이면\n\
             • 잔량 (6,000주) 지정가 34,000원\n  코멘트: &lt;b&gt;목표가&lt;/b&gt;\n\n\
             <b>사모 코벤</b> (매도 가능 8,000주)\n• 8,000주 시장가\n\n\
             체결 후 펀드별 매도 수량과 평균 단가를 알려 주세요. [✅ 확인] 을 누르시면 입력 안내를 드립니다."
        );
        let plan = plan();
        assert_eq!(
            summary(plan.lines.of(&"hy".parse().unwrap()).unwrap()),
            "시가가 공모가 대비 +30% 이상이면: 50% 시가, 잔량 지정가 34,000원"
        );
    }

    #[test]
    fn the_prompts_example_reads_back_as_an_answer() {
        let stock = hanbit();
        let c = saebyeok();
        let plan = plan();
        assert_eq!(
            prompt(&subject(&stock), &c, &plan),
            "<b>(가상)한빛로보틱스</b> 매도 내역(매도 수량 / 평균 단가)을 이 메시지에 <b>답장</b>으로 보내 주세요. \
             펀드마다 한 줄씩 적어 주세요. 매도하지 않은 펀드는 \"미매도\"와 사유를 적어 주세요.\n예)\n\
             하이일드 12,000주 / 평균 34,000원\n사모 코벤 미매도 (사유)\n체결 내역 화면 캡처나 파일을 답장으로 보내셔도 됩니다."
        );
        let read = parse_reply(&example(&c, &plan), &c, &plan).unwrap();
        assert_eq!(
            answer_lines(&c, &read),
            vec!["하이일드: 12,000주 / 평균 34,000원".to_owned(), "사모 코벤: 미매도 (사유)".to_owned()]
        );
        let kept = SellAnswer {
            lines: FundLines::new(vec![ExecutionLine {
                fund_id: "hy".parse().unwrap(),
                execution: Execution::NotSold { reason: None },
            }])
            .unwrap(),
        };
        assert_eq!(answer_lines(&c, &kept), vec!["하이일드: 미매도".to_owned()]);
    }

    #[test]
    fn findings_name_the_fund_the_amounts_and_the_limits() {
        let c = saebyeok();
        let hy: FundId = "hy".parse().unwrap();
        let p = |n| Price::new(n).unwrap();
        let listing =
            DayLimits { low: p(10_200), high: p(68_000), basis: LimitBasis::ListingDay { offer_price: p(17_000) } };
        let bound = DayLimits {
            low: p(7_140),
            high: p(88_400),
            basis: LimitBasis::Reachable { offer_price: p(17_000), sessions: 1 },
        };
        let cases = [
            (
                Finding::OffGrid { fund_id: hy.clone(), price: p(34_020), tick: 50 },
                "🚫 하이일드 지정가 34,020원 이(가) 호가단위(50원)에 맞지 않음",
            ),
            (
                Finding::LimitOutsideLimits { fund_id: hy.clone(), price: p(70_000), limits: listing },
                "🚫 하이일드 지정가 70,000원 이(가) 가격제한폭 밖: 10,200원 ~ 68,000원 (상장일 공모가 17,000원 기준)",
            ),
            (
                Finding::AverageOutsideLimits { fund_id: hy.clone(), average_price: p(90_000), limits: bound },
                "⚠️ 하이일드 평균 단가 90,000원 이(가) 가격제한폭 밖: 7,140원 ~ 88,400원 (전일 종가 미상: 공모가 17,000원에서 1거래일 동안 가능한 범위)",
            ),
            (
                Finding::SoldMoreThanSellable { fund_id: hy.clone(), sellable: q(12_000), sold: q(15_000) },
                "🚫 하이일드 매도 15,000주 이(가) 매도 가능 수량 12,000주 초과 (보호예수 물량 또는 이미 매도한 물량)",
            ),
            (
                Finding::QuantityDiffers { fund_id: hy.clone(), advised: 8_000, sold: 0, diff: -8_000 },
                "⚠️ 하이일드 매도 0주 (자문 8,000주, -8,000주)",
            ),
            (
                Finding::BelowLimit { fund_id: hy.clone(), average_price: p(29_000), limit: p(30_000) },
                "⚠️ 하이일드 평균 단가 29,000원 이(가) 지정가 30,000원 보다 낮음",
            ),
            (
                Finding::Unsold { fund_id: hy.clone(), remaining: 6_000 },
                "ℹ️ 하이일드 잔여 6,000주는 다음 매도일로 이월",
            ),
            (
                Finding::NotSold { fund_id: hy.clone(), reason: Some(Label::new("<script>").unwrap()) },
                "ℹ️ 하이일드 미매도 (&lt;script&gt;)",
            ),
        ];
        for (f, text) in cases {
            assert_eq!(finding(&c, &f), text);
        }
    }
}
