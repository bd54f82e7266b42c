//! The texts of 배정내역 및 확약여부 확인: the confirmed bids whose allotment is asked for, the prompt,
//! and how findings read.

use super::{Subject, answer_request, fund_name};
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::phase::allotment::{AllotmentAdvice, AllotmentAnswer, Allotted, Finding};
use crate::telegram::html::escape;

pub const PLACEHOLDER: &str = "수량 / 확약";

/// The confirmed bids of one client, and the request for their allotment.
pub fn advice(subject: &Subject<'_>, client: &Client, advice: &AllotmentAdvice) -> String {
    let mut out = subject.heading();
    if let Some(stock) = subject.stock {
        let d = stock.schedule().dates();
        let price = stock.final_price().map_or_else(|| "미정".to_owned(), |p| p.to_string());
        out.push_str(&format!(
            "\n공모가 {price} · 청약 {} ~ {} · 납입 {}",
            d.subscription_start.format("%m-%d"),
            d.subscription_end.format("%m-%d"),
            d.payment.format("%m-%d")
        ));
    }
    out.push_str("\n\n수요예측에서 확정된 참여 내역입니다.");
    for bid in &advice.lines {
        out.push_str(&format!(
            "\n\n<b>{}</b>\n• 참여가격: {}\n• 참여수량: {}\n• 확약: {}",
            escape(&fund_name(client, &bid.fund_id)),
            bid.price,
            bid.quantity,
            bid.lockup
        ));
    }
    out.push_str(&answer_request("펀드별 배정 수량과 배정받은 확약 기간을 알려 주세요."));
    out
}

pub fn example(client: &Client, advice: &AllotmentAdvice) -> String {
    let lines: Vec<String> = advice
        .lines
        .iter()
        .enumerate()
        .map(|(i, bid)| {
            let name = if advice.lines.len() > 1 {
                format!("{} ", escape(&fund_name(client, &bid.fund_id)))
            } else {
                String::new()
            };
            if i == 0 { format!("{name}1,200주 / {}", bid.lockup) } else { format!("{name}미배정") }
        })
        .collect();
    lines.join("\n")
}

pub fn prompt(subject: &Subject<'_>, client: &Client, advice: &AllotmentAdvice) -> String {
    format!(
        "<b>{}</b> 배정 내역(배정 수량 / 확약)을 이 메시지에 <b>답장</b>으로 보내 주세요.{} 배정받지 못한 펀드는 \"미배정\"으로 적어 주세요.\n예)\n{}\n배정 내역 화면 캡처나 파일을 답장으로 보내셔도 됩니다.",
        escape(subject.name()),
        if advice.lines.len() > 1 { " 펀드마다 한 줄씩 적어 주세요." } else { "" },
        example(client, advice)
    )
}

pub fn answer_lines(client: &Client, answer: &AllotmentAnswer) -> Vec<String> {
    answer
        .lines
        .iter()
        .map(|l| {
            let name = escape(&fund_name(client, &l.fund_id));
            match l.allotted {
                Allotted::Shares { quantity, lockup } => format!("{name}: {quantity} / {lockup}"),
                Allotted::None => format!("{name}: 미배정"),
            }
        })
        .collect()
}

pub fn finding(client: &Client, f: &Finding) -> String {
    let fund = |id: &FundId| escape(&fund_name(client, id));
    match f {
        Finding::LockUpDiffers { fund_id, committed, allotted } => {
            format!("🚫 {} 확약 {committed} → {allotted} (참여 시 확약과 다름)", fund(fund_id))
        }
        Finding::OverBid { fund_id, bid, allotted } => {
            format!("🚫 {} 배정 {allotted} 이(가) 참여수량 {bid} 초과", fund(fund_id))
        }
        Finding::ExceedsAbilityToPay { fund_id, amount, aum } => format!(
            "🚫 {} 납입금액 {} 이(가) 펀드 규모 {} 초과 (납입능력 초과)",
            fund(fund_id),
            amount.display_eok(),
            aum.display_eok()
        ),
        Finding::Allotted { fund_id, quantity, ratio_permille, amount_due } => {
            let due = amount_due.map_or_else(String::new, |a| format!(" · 납입 {}", a.display_eok()));
            format!(
                "ℹ️ {} {quantity} 배정 (배정률 {}.{}%){due}",
                fund(fund_id),
                ratio_permille / 10,
                ratio_permille % 10
            )
        }
        Finding::NotAllotted { fund_id } => format!("ℹ️ {} 미배정", fund(fund_id)),
        Finding::Missing { fund_id } => format!("⚠️ {} 배정 내역 없음", fund(fund_id)),
        Finding::Unexpected { fund_id } => format!("🚫 {} 참여하지 않은 펀드의 배정", fund(fund_id)),
    }
}
