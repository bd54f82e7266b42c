//! The texts of 매매명세서 확인: the confirmed sales whose statements are asked for, the prompt, and
//! how reconciliation findings read (each with both amounts).

use super::{Subject, answer_request, fund_name};
use crate::domain::calendar::KrxCalendar;
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::money::{Won, bid_amount, group_thousands};
use crate::domain::phase::statement::{ConfirmedSale, Finding};
use crate::domain::phase::statement::{StatementAdvice, StatementAnswer};
use crate::domain::process::settlement_date;
use crate::telegram::html::escape;

pub const PLACEHOLDER: &str = "수량 / 단가 / 매매금액 / 수수료 / 거래세 / 정산금액";

/// The confirmed sales of one client, and the request for their statements.
pub fn advice(subject: &Subject<'_>, client: &Client, advice: &StatementAdvice) -> String {
    let mut out = subject.heading();
    out.push_str("\n\n확정된 매도 내역입니다.");
    for sale in &advice.lines {
        out.push_str(&format!(
            "\n\n<b>{}</b>\n• 매도일: {} (결제일 {})\n• 매도수량: {}\n• 평균단가: {}",
            escape(&fund_name(client, &sale.fund_id)),
            sale.sale_date.format("%m-%d"),
            settlement_date(sale.sale_date, KrxCalendar::builtin()).format("%m-%d"),
            sale.quantity,
            sale.average_price
        ));
    }
    out.push_str(&answer_request("펀드별 매매명세서(수량, 단가, 매매금액, 수수료, 거래세, 정산금액)를 보내 주세요."));
    out
}

/// `수량 6,000주 단가 34,000원 매매금액 … 정산금액 …`, from each sale's own figures; the costs
/// are left for the client to fill.
pub fn example(client: &Client, advice: &StatementAdvice) -> String {
    let several = advice.lines.len() > 1;
    advice
        .lines
        .iter()
        .map(|sale: &ConfirmedSale| {
            let name = if several { format!("{}\n", escape(&fund_name(client, &sale.fund_id))) } else { String::new() };
            let gross = bid_amount(sale.average_price, sale.quantity)
                .map_or_else(|| "-".to_owned(), |gross| group_thousands(gross.get()));
            format!(
                "{name}수량 {} 단가 {} 매매금액 {gross}원 수수료 00,000원 거래세 000,000원 정산금액 000,000,000원",
                sale.quantity, sale.average_price
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn prompt(subject: &Subject<'_>, client: &Client, advice: &StatementAdvice) -> String {
    format!(
        "<b>{}</b> 매매명세서의 수량, 단가, 매매금액, 수수료, 거래세, 정산금액을 이 메시지에 <b>답장</b>으로 보내 주세요.{}\n예)\n{}\n명세서 파일이나 캡처를 답장으로 보내셔도 됩니다.",
        escape(subject.name()),
        if advice.lines.len() > 1 {
            " 펀드 이름을 적은 줄부터 그 펀드의 내용으로 읽습니다."
        } else {
            ""
        },
        example(client, advice)
    )
}

/// The statements as understood, one line per fund.
pub fn answer_lines(client: &Client, answer: &StatementAnswer) -> Vec<String> {
    answer
        .lines
        .iter()
        .map(|l| {
            format!(
                "{}: {} × {} = {} · 수수료 {} · 거래세 {} · 정산 {}",
                escape(&fund_name(client, &l.fund_id)),
                l.quantity,
                l.price,
                l.gross,
                l.commission,
                l.tax,
                l.net
            )
        })
        .collect()
}

/// A signed amount: `-1,200원`.
fn signed(won: i64) -> String {
    let abs = Won::new(won.unsigned_abs());
    if won < 0 { format!("-{abs}") } else { abs.to_string() }
}

pub fn finding(client: &Client, f: &Finding) -> String {
    let fund = |id: &FundId| escape(&fund_name(client, id));
    let diff = |expected: Won, given: Won| {
        signed(i64::try_from(i128::from(given.get()) - i128::from(expected.get())).unwrap_or(i64::MAX))
    };
    match f {
        Finding::GrossDiffers { fund_id, expected, given } => {
            format!("🚫 {} 매매금액 {given} ≠ 수량×단가 {expected} (차이 {})", fund(fund_id), diff(*expected, *given))
        }
        Finding::TaxDiffers { fund_id, expected, given } => format!(
            "🚫 {} 거래세 {given} ≠ 세율에 따른 세액 {expected} (차이 {})",
            fund(fund_id),
            diff(*expected, *given)
        ),
        Finding::NetDiffers { fund_id, expected, given } => {
            let d = i128::from(given.get()) - i128::from(*expected);
            let d = i64::try_from(d).unwrap_or(i64::MAX);
            format!(
                "🚫 {} 정산금액 {given} ≠ 매매금액−수수료−거래세 {} (차이 {})",
                fund(fund_id),
                signed(*expected),
                signed(d)
            )
        }
        Finding::CommissionOutsideRange { fund_id, commission, gross, low, high } => format!(
            "⚠️ {} 수수료 {commission} 이(가) 매매금액 {gross} 기준 허용 범위({low} ~ {high}) 밖",
            fund(fund_id)
        ),
        Finding::QuantityDiffers { fund_id, reported, statement } => {
            format!("🚫 {} 명세서 수량 {statement} ≠ 확정된 매도 수량 {reported}", fund(fund_id))
        }
        Finding::PriceDiffers { fund_id, reported, statement } => {
            format!("⚠️ {} 명세서 단가 {statement} ≠ 확정된 평균 단가 {reported}", fund(fund_id))
        }
        Finding::Settled { fund_id, net } => format!("ℹ️ {} 정산금액 {net} (명세서 이상 없음)", fund(fund_id)),
        Finding::Missing { fund_id } => format!("⚠️ {} 매매명세서 없음", fund(fund_id)),
        Finding::Unexpected { fund_id } => format!("🚫 {} 확정된 매도가 없는 펀드의 명세서", fund(fund_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::Market;
    use crate::domain::money::{Price, Quantity};
    use crate::domain::phase::FundLines;
    use crate::domain::phase::statement::{StatementLine, parse_reply};
    use crate::domain::process::ProcessKind;

    fn saebyeok() -> Client {
        crate::demo::clients().into_iter().find(|c| c.id.as_str() == "saebyeok").unwrap()
    }

    fn sale(fund: &str) -> ConfirmedSale {
        ConfirmedSale {
            fund_id: fund.parse().unwrap(),
            quantity: Quantity::new(12_000).unwrap(),
            average_price: Price::new(28_000).unwrap(),
            sale_date: "2026-04-07".parse().unwrap(),
            market: Market::Kosdaq,
        }
    }

    #[test]
    fn the_request_names_each_sale_and_its_settlement_day() {
        let stock = crate::demo::hanbit();
        let subject =
            Subject::new(Some(&stock), ProcessKind::Statement { sale_date: "2026-04-07".parse().unwrap() }, None);
        let request = StatementAdvice { lines: FundLines::new(vec![sale("hy")]).unwrap() };
        let c = saebyeok();
        assert_eq!(
            advice(&subject, &c, &request),
            "📌 <b>(가상)한빛로보틱스</b> 매매명세서 확인 (04-07 매도분)\n\n확정된 매도 내역입니다.\n\n\
             <b>하이일드</b>\n• 매도일: 04-07 (결제일 04-09)\n• 매도수량: 12,000주\n• 평균단가: 28,000원\n\n\
             펀드별 매매명세서(수량, 단가, 매매금액, 수수료, 거래세, 정산금액)를 보내 주세요. [✅ 확인] 을 누르시면 입력 안내를 드립니다."
        );
        assert_eq!(
            prompt(&subject, &c, &request),
            "<b>(가상)한빛로보틱스</b> 매매명세서의 수량, 단가, 매매금액, 수수료, 거래세, 정산금액을 이 메시지에 <b>답장</b>으로 보내 주세요.\n\
             예)\n수량 12,000주 단가 28,000원 매매금액 336,000,000원 수수료 00,000원 거래세 000,000원 정산금액 000,000,000원\n\
             명세서 파일이나 캡처를 답장으로 보내셔도 됩니다."
        );
        let two = StatementAdvice { lines: FundLines::new(vec![sale("hy"), sale("pv-kv")]).unwrap() };
        let hy = "hy".parse().unwrap();
        let pv = "pv-kv".parse().unwrap();
        let read = parse_reply(&example(&c, &two), &c, &[&hy, &pv]).unwrap();
        assert_eq!(read.lines.len(), 2, "the example reads back fund by fund");
    }

    #[test]
    fn the_receipt_and_findings_show_both_amounts() {
        let c = saebyeok();
        let hy: FundId = "hy".parse().unwrap();
        let line = StatementLine {
            fund_id: hy.clone(),
            quantity: Quantity::new(12_000).unwrap(),
            price: Price::new(28_000).unwrap(),
            gross: Won::new(336_000_000),
            commission: Won::new(50_400),
            tax: Won::new(504_000),
            net: Won::new(335_445_600),
        };
        let answer = StatementAnswer { lines: FundLines::new(vec![line]).unwrap() };
        assert_eq!(
            answer_lines(&c, &answer),
            vec!["하이일드: 12,000주 × 28,000원 = 336,000,000원 · 수수료 50,400원 · 거래세 504,000원 · 정산 335,445,600원".to_owned()]
        );
        let cases = [
            (
                Finding::TaxDiffers { fund_id: hy.clone(), expected: Won::new(672_000), given: Won::new(504_000) },
                "🚫 하이일드 거래세 504,000원 ≠ 세율에 따른 세액 672,000원 (차이 -168,000원)",
            ),
            (
                Finding::GrossDiffers {
                    fund_id: hy.clone(),
                    expected: Won::new(336_000_000),
                    given: Won::new(336_100_000),
                },
                "🚫 하이일드 매매금액 336,100,000원 ≠ 수량×단가 336,000,000원 (차이 100,000원)",
            ),
            (
                Finding::NetDiffers { fund_id: hy.clone(), expected: 335_277_600, given: Won::new(335_277_000) },
                "🚫 하이일드 정산금액 335,277,000원 ≠ 매매금액−수수료−거래세 335,277,600원 (차이 -600원)",
            ),
            (
                Finding::CommissionOutsideRange {
                    fund_id: hy.clone(),
                    commission: Won::new(3_360_000),
                    gross: Won::new(336_000_000),
                    low: Won::new(3_360),
                    high: Won::new(1_680_000),
                },
                "⚠️ 하이일드 수수료 3,360,000원 이(가) 매매금액 336,000,000원 기준 허용 범위(3,360원 ~ 1,680,000원) 밖",
            ),
            (
                Finding::QuantityDiffers {
                    fund_id: hy.clone(),
                    reported: Quantity::new(12_000).unwrap(),
                    statement: Quantity::new(11_000).unwrap(),
                },
                "🚫 하이일드 명세서 수량 11,000주 ≠ 확정된 매도 수량 12,000주",
            ),
            (
                Finding::Settled { fund_id: hy, net: Won::new(335_277_600) },
                "ℹ️ 하이일드 정산금액 335,277,600원 (명세서 이상 없음)",
            ),
        ];
        for (f, text) in cases {
            assert_eq!(finding(&c, &f), text);
        }
    }
}
