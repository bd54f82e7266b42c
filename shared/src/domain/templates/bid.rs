//! The texts of 수요예측 참여: the advice per fund, the bid prompt, and how findings read.

use super::{ACK_BUTTON, Subject, fund_name};
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::money::group_thousands;
use crate::domain::phase::bid::{BidAdvice, BidAnswer, Finding};
use crate::telegram::html::escape;

pub const PLACEHOLDER: &str = "가격 / 수량 / 확약";

/// The advice for one client: only its own funds' lines.
pub fn advice(subject: &Subject<'_>, client: &Client, advice: &BidAdvice) -> String {
    let mut out = subject.heading();
    if let Some(stock) = subject.stock {
        let d = stock.schedule().dates();
        let band = stock.band();
        out.push_str(&format!(
            "\n수요예측 {} ~ {} · 밴드 {} ~ {}",
            d.bookbuilding_start.format("%m-%d"),
            d.bookbuilding_end.format("%m-%d"),
            band.low(),
            band.high()
        ));
    }
    for line in &advice.lines {
        out.push_str(&format!(
            "\n\n<b>{}</b>\n• 참여가격: {}\n• 참여수량: {}\n• 확약: {}",
            escape(&fund_name(client, &line.fund_id)),
            line.price,
            line.quantity,
            line.lockup
        ));
        if !line.comment.trim().is_empty() {
            out.push_str(&format!("\n• 코멘트: {}", escape(line.comment.trim())));
        }
    }
    out.push_str(&format!("\n\n확인하셨으면 [{ACK_BUTTON}] 버튼을 눌러 주세요."));
    out
}

/// How to answer, with an example in the client's own fund names when it has several.
pub fn example(client: &Client, advice: &BidAdvice) -> String {
    if advice.lines.len() <= 1 {
        return "17,500 / 300,000 / 1개월".to_owned();
    }
    advice
        .lines
        .iter()
        .map(|l| {
            format!(
                "{} {} / {} / {}",
                escape(&fund_name(client, &l.fund_id)),
                group_thousands(l.price.get()),
                group_thousands(l.quantity.get()),
                l.lockup
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn prompt(subject: &Subject<'_>, client: &Client, advice: &BidAdvice) -> String {
    format!(
        "<b>{}</b> 실제 참여 내역(가격 / 수량 / 확약)을 이 메시지에 <b>답장</b>으로 보내 주세요.{}\n예)\n{}\n참여 화면 캡처나 파일을 답장으로 보내셔도 됩니다.",
        escape(subject.name()),
        if advice.lines.len() > 1 { " 펀드마다 한 줄씩 적어 주세요." } else { "" },
        example(client, advice)
    )
}

/// The bids as understood, one line per fund.
pub fn answer_lines(client: &Client, answer: &BidAnswer) -> Vec<String> {
    answer
        .lines
        .iter()
        .map(|b| format!("{}: {} / {} / {}", escape(&fund_name(client, &b.fund_id)), b.price, b.quantity, b.lockup))
        .collect()
}

pub fn finding(client: &Client, f: &Finding) -> String {
    let fund = |id: &FundId| escape(&fund_name(client, id));
    match f {
        Finding::PriceDiffers { fund_id, advised, actual, diff } => {
            format!("⚠️ {} 가격 {advised} → {actual} ({}원)", fund(fund_id), signed(*diff))
        }
        Finding::QuantityDiffers { fund_id, advised, actual, percent_tenths, .. } => format!(
            "⚠️ {} 수량 {advised} → {actual} ({}{}.{}%)",
            fund(fund_id),
            if *percent_tenths < 0 { "−" } else { "+" },
            percent_tenths.unsigned_abs() / 10,
            percent_tenths.unsigned_abs() % 10
        ),
        Finding::LockUpDiffers { fund_id, advised, actual } => {
            format!("⚠️ {} 확약 {advised} → {actual}", fund(fund_id))
        }
        Finding::MissingBid { fund_id } => format!("⚠️ {} 참여 내역 없음", fund(fund_id)),
        Finding::UnadvisedBid { fund_id } => format!("⚠️ {} 자문하지 않은 펀드의 참여", fund(fund_id)),
        Finding::OffGrid { fund_id, price, tick } => {
            format!("⚠️ {} 가격 {price} 이(가) 호가단위({tick}원)에 맞지 않음", fund(fund_id))
        }
        Finding::ExceedsAbilityToPay { fund_id, amount, aum } => format!(
            "🚫 {} 참여금액 {} 이(가) 펀드 규모 {} 초과 (납입능력 초과)",
            fund(fund_id),
            amount.display_eok(),
            aum.display_eok()
        ),
        Finding::UnknownFund { fund_id } => format!("🚫 {} 은(는) 이 고객사의 펀드가 아님", fund(fund_id)),
        Finding::OutsideBand { fund_id, price, low, high } => {
            format!("⚠️ {} 가격 {price} 이(가) 밴드 {low} ~ {high} 에서 많이 벗어남", fund(fund_id))
        }
        Finding::FitsOtherStock { fund_id, price, stock } => format!(
            "⚠️ {} 가격 {price} 은(는) {} 의 밴드에 맞음: 다른 종목의 자문이 아닌지 확인",
            fund(fund_id),
            escape(stock)
        ),
    }
}

pub(super) fn signed(n: i64) -> String {
    let magnitude = group_thousands(n.unsigned_abs());
    if n < 0 { format!("−{magnitude}") } else { format!("+{magnitude}") }
}
