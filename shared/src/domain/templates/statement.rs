//! The texts of 매매명세서 확인: the confirmed sales whose statements are asked for, the prompt, and
//! how reconciliation findings read (each with both amounts).

use super::{ACK_BUTTON, Subject, fund_name};
use crate::domain::calendar::KrxCalendar;
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::money::{Won, group_thousands};
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
    out.push_str(&format!(
        "\n\n펀드별 매매명세서(수량, 단가, 매매금액, 수수료, 거래세, 정산금액)를 보내 주세요. [{ACK_BUTTON}] 을 누르시면 입력 안내를 드립니다."
    ));
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
            let gross = u128::from(sale.quantity.get()) * u128::from(sale.average_price.get());
            let gross = u64::try_from(gross).map_or_else(|_| "-".to_owned(), group_thousands);
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
