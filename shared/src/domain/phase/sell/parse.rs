//! Reading execution reports as clients write them: `6,000주 평균 34,000원`, `전량 매도 평단
//! 25,300`, `미매도 - 시가가 공모가 하회`, one line per fund when the client has several.

use super::{Execution, ExecutionLine, SellAdvice, SellAnswer};
use crate::domain::client::Client;
use crate::domain::money::{Price, Quantity, parse_korean_number};
use crate::domain::phase::reading::{Number, Unit, fund_of_line, numbers, reply_lines};
use crate::domain::phase::{FundLine, FundLines, LineError, LineInput, ReplyError};
use crate::domain::text::Label;

/// Words that say nothing was sold, spaces removed. 보유 alone is not one: "보유 물량 확인
/// 부탁드립니다" is a question, not an answer.
const NOT_SOLD: &[&str] = &[
    "미매도",
    "매도안함",
    "매도안했",
    "매도하지않",
    "매도없음",
    "안팔았",
    "안팔고",
    "미체결",
    "전량보유",
    "계속보유",
    "보유유지",
    "홀딩",
];

/// Words that say every sellable share was sold.
const ALL: &[&str] = &["전량", "전부", "모두", "다팔"];

/// Words written before an average price.
const PRICE_WORDS: &[&str] = &["평균", "평단", "단가", "@", "가격"];

fn squashed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()
}

fn says_not_sold(text: &str) -> bool {
    let s = squashed(text);
    NOT_SOLD.iter().any(|w| s.contains(w))
}

fn says_all(text: &str) -> bool {
    let s = squashed(text);
    ALL.iter().any(|w| s.contains(w))
}

/// The reason written with 미매도: the line as written, without the bare word 미매도 and the
/// separators around it ("미매도 - 시가가 공모가 하회"); none when nothing else is written.
fn reason(text: &str) -> Option<Label> {
    let rest = text.replace("미매도", " ");
    let trimmed = rest.trim_matches(|c: char| c.is_whitespace() || "-–:/,.()[]·".contains(c));
    Label::new(trimmed).ok()
}

/// Reads staff's fields into one fund's execution: quantity `0`, `미매도` (reason in `note`), or
/// shares (`전량` for all the fund could sell) with an average price.
pub fn parse_line(client: &Client, input: &LineInput, advice: &SellAdvice) -> Result<ExecutionLine, LineError> {
    let fund = input.fund.trim().to_owned();
    let account = client.fund_named(&fund).ok_or_else(|| LineError::UnknownFund { fund: fund.clone() })?;
    let invalid = |reason: String| LineError::Invalid { fund: fund.clone(), reason };
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let quantity = present(&input.quantity).ok_or_else(|| LineError::MissingQuantity { fund: fund.clone() })?;
    let note = present(&input.note).and_then(|n| Label::new(n).ok());
    let shares = if says_not_sold(&quantity) {
        0
    } else if says_all(&quantity) {
        advice
            .lines
            .of(&account.id)
            .map(|plan| plan.sellable.get())
            .ok_or_else(|| invalid("전량: this fund has no plan for the day".into()))?
    } else {
        parse_korean_number(quantity.trim_end_matches('주').trim()).map_err(|e| invalid(e.to_string()))?
    };
    let execution = match Quantity::new(shares) {
        Err(_) => Execution::NotSold { reason: note },
        Ok(quantity) => {
            let price = present(&input.price).ok_or_else(|| LineError::MissingPrice { fund: fund.clone() })?;
            let average_price = price.parse::<Price>().map_err(|e| invalid(e.to_string()))?;
            Execution::Sold { quantity, average_price }
        }
    };
    Ok(ExecutionLine { fund_id: account.id.clone(), execution })
}

/// Reads a client's execution report from its reply.
pub fn parse_reply(text: &str, client: &Client, advice: &SellAdvice) -> Result<SellAnswer, ReplyError> {
    let advised: Vec<_> = advice.lines.iter().map(FundLine::fund_id).collect();
    let mut out = Vec::new();
    for (i, raw) in reply_lines(text)?.into_iter().enumerate() {
        let line = i + 1;
        let (fund, rest) = fund_of_line(raw, line, client, &advised)?;
        let found = numbers(&rest);
        let (quantity, price) = quantity_and_price(&found, &rest);
        // "전량 보유" keeps everything.
        let all = says_all(&rest) && !says_not_sold(&rest);
        let input = if quantity.is_none() && !all && says_not_sold(&rest) {
            LineInput {
                fund: fund.id.to_string(),
                quantity: Some("미매도".into()),
                note: reason(rest.trim()).map(String::from),
                ..LineInput::default()
            }
        } else {
            if quantity.is_none() && price.is_none() && !all {
                return Err(ReplyError::Unreadable { line, text: raw.to_owned() });
            }
            let quantity = match quantity {
                Some(q) => Some(q.to_string()),
                None if all => Some("전량".to_owned()),
                None => None,
            };
            LineInput {
                fund: fund.id.to_string(),
                quantity,
                price: price.map(|p| p.to_string()),
                ..LineInput::default()
            }
        };
        out.push(parse_line(client, &input, advice).map_err(|error| ReplyError::Line { line, error })?);
    }
    Ok(SellAnswer { lines: FundLines::new(out)? })
}

/// Shares are marked `주` and prices `원` or written after 평균/단가; the rest fill the quantity,
/// then the price, in order. Of several amounts in won, the one after a price word is the price
/// (the others are totals: `매도금액 204,000,000원`).
fn quantity_and_price(found: &[Number], text: &str) -> (Option<u64>, Option<u64>) {
    let chars: Vec<char> = text.chars().collect();
    let after_price_word = |n: &Number| {
        let before: String = chars[..n.at.min(chars.len())].iter().collect();
        let before = squashed(&before);
        PRICE_WORDS.iter().any(|w| before.ends_with(w) || before.ends_with(&format!("{w}가")))
    };
    let mut quantity = found.iter().find(|n| n.unit == Unit::Shares).map(|n| n.value);
    let wons: Vec<&Number> = found.iter().filter(|n| n.unit == Unit::Won).collect();
    let mut price = wons.iter().find(|n| after_price_word(n)).or(wons.first()).map(|n| n.value);
    let mut unmarked = found.iter().filter(|n| n.unit == Unit::None);
    for n in unmarked.by_ref() {
        if after_price_word(n) && price.is_none() {
            price = Some(n.value);
        } else if quantity.is_none() {
            quantity = Some(n.value);
        } else if price.is_none() {
            price = Some(n.value);
        }
    }
    (quantity, price)
}
