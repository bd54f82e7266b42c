//! Reading a client's bid from its reply: `17,500 / 300,000 / 1개월`, `17500원 30만주 확약3개월`,
//! one line per fund when the client has several (`하이일드 17,500 / 300,000 / 1개월`).

use crate::domain::check::{BidError, BidInput, parse_bid};
use crate::domain::client::{Client, FundAccount};
use crate::domain::ids::FundId;
use crate::domain::lockup::LockUp;
use crate::domain::money::parse_korean_number;
use crate::domain::tracker::ActualLine;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("no bid in the reply")]
    Empty,
    #[error("line {line}: name the fund (this client has several)")]
    WhichFund { line: usize },
    #[error("line {line}: {error}")]
    Bid { line: usize, error: BidError },
    #[error("line {line}: {text:?} is not understood")]
    Unreadable { line: usize, text: String },
}

/// Lock-up spellings as they appear inside a sentence, longest first so `확약3개월` is one match.
const LOCKUP_FORMS: &[&str] = &[
    "확약없음",
    "미확약",
    "비확약",
    "의무보유",
    "확약",
    "없음",
    "15일",
    "6개월",
    "3개월",
    "1개월",
    "보름",
    "한달",
    "1달",
    "석달",
    "세달",
    "3달",
    "여섯달",
    "6달",
    "반년",
    "15d",
    "1m",
    "3m",
    "6m",
];

/// Parses every line of a reply into bids for `advised` funds of `client`.
pub fn parse_reply(text: &str, client: &Client, advised: &[FundId]) -> Result<Vec<ActualLine>, ReplyError> {
    let lines: Vec<&str> = text.lines().flat_map(|l| l.split(';')).map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return Err(ReplyError::Empty);
    }
    let candidates: Vec<&FundAccount> = client.funds().iter().collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, raw) in lines.iter().enumerate() {
        let line = i + 1;
        let (fund, rest) = match find_fund(raw, &candidates) {
            Some((fund, rest)) => (fund, rest),
            None if advised.len() == 1 => {
                let fund = client.fund(&advised[0]).ok_or(ReplyError::WhichFund { line })?;
                (fund, (*raw).to_owned())
            }
            None => return Err(ReplyError::WhichFund { line }),
        };
        let (lockup, rest) = take_lockup(&rest);
        let numbers = numbers(&rest);
        let (price, quantity) = assign(&numbers);
        if price.is_none() && quantity.is_none() && lockup.is_none() {
            return Err(ReplyError::Unreadable { line, text: (*raw).to_owned() });
        }
        let input = BidInput {
            fund: fund.id.to_string(),
            price: price.map(|p| p.to_string()),
            quantity: quantity.map(|q| q.to_string()),
            lockup: lockup.map(|l| l.korean().to_owned()),
        };
        out.push(parse_bid(client, &input).map_err(|error| ReplyError::Bid { line, error })?);
    }
    Ok(out)
}

/// The fund whose name appears in the line (the longest such name, spaces ignored), and the line
/// without it; the line's other spaces stay, since they separate the numbers.
fn find_fund<'a>(line: &str, funds: &[&'a FundAccount]) -> Option<(&'a FundAccount, String)> {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let squashed = squash(line);
    let found = funds
        .iter()
        .filter(|f| squashed.contains(&squash(f.name.as_str())))
        .max_by_key(|f| squash(f.name.as_str()).chars().count())?;
    let name: Vec<char> = squash(found.name.as_str()).chars().collect();
    let chars: Vec<char> = line.chars().collect();
    // Find the name in the line, skipping the line's spaces between its letters.
    for start in 0..chars.len() {
        let (mut i, mut matched) = (start, 0);
        while i < chars.len() && matched < name.len() {
            if chars[i] == name[matched] {
                matched += 1;
            } else if !(chars[i].is_whitespace() && matched > 0) {
                break;
            }
            i += 1;
        }
        if matched == name.len() {
            let rest: String = chars[..start].iter().chain([' '].iter()).chain(chars[i..].iter()).collect();
            return Some((found, rest));
        }
    }
    Some((found, line.to_owned()))
}

fn take_lockup(line: &str) -> (Option<LockUp>, String) {
    let lower = line.to_lowercase();
    // Try the longest spans first: "확약3개월", "3개월확약", then a lone form.
    for form in LOCKUP_FORMS.iter().filter(|f| !matches!(**f, "확약" | "의무보유")) {
        if let Some(pos) = lower.find(form) {
            let mut start = pos;
            let mut end = pos + form.len();
            for prefix in ["확약", "의무보유"] {
                if lower[..start].trim_end().ends_with(prefix) {
                    start = lower[..start].trim_end().len() - prefix.len();
                }
            }
            if lower[end..].trim_start().starts_with("확약") {
                end = lower.len() - lower[end..].trim_start().len() + "확약".len();
            }
            let span = &lower[start..end];
            let parsed = span.parse::<LockUp>().ok().or_else(|| form.parse().ok());
            if let Some(lockup) = parsed {
                let rest = format!("{} {}", &lower[..start], &lower[end..]);
                return (Some(lockup), rest);
            }
        }
    }
    (None, lower)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Won,
    Shares,
    None,
}

/// The numbers in the text with the unit written after them (`원`, `주`), in order.
fn numbers(text: &str) -> Vec<(u64, Unit)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && (chars[i].is_ascii_digit() || chars[i] == ',' || matches!(chars[i], '만' | '억' | '천'))
        {
            i += 1;
        }
        let mut token: String = chars[start..i].iter().collect();
        token = token.trim_end_matches(',').to_owned();
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let unit = match chars.get(j) {
            Some('원') => Unit::Won,
            Some('주') => Unit::Shares,
            _ => Unit::None,
        };
        if let Some(value) = korean_value(&token) {
            out.push((value, unit));
        }
    }
    out
}

/// `30만` → 300,000; `1천` → 1,000; `17,500` → 17,500.
fn korean_value(token: &str) -> Option<u64> {
    if let Some(thousands) = token.strip_suffix('천') {
        return parse_korean_number(thousands).ok().and_then(|n| n.checked_mul(1_000));
    }
    parse_korean_number(token).ok()
}

/// Marked numbers go where their unit says; the rest fill price, then quantity, in order.
fn assign(numbers: &[(u64, Unit)]) -> (Option<u64>, Option<u64>) {
    let mut price = numbers.iter().find(|(_, u)| *u == Unit::Won).map(|(n, _)| *n);
    let mut quantity = numbers.iter().find(|(_, u)| *u == Unit::Shares).map(|(n, _)| *n);
    for (n, _) in numbers.iter().filter(|(_, u)| *u == Unit::None) {
        if price.is_none() {
            price = Some(*n);
        } else if quantity.is_none() {
            quantity = Some(*n);
        }
    }
    (price, quantity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::FundKind;
    use crate::domain::money::{Price, Quantity, Won};
    use crate::domain::text::Label;

    fn client(funds: &[(&str, &str)]) -> Client {
        let funds = funds
            .iter()
            .map(|(id, name)| FundAccount {
                id: id.parse().unwrap(),
                name: Label::new(name).unwrap(),
                kind: FundKind::Private,
                aum: Won::new(100_000_000_000),
            })
            .collect();
        Client::new("c".parse().unwrap(), Label::new("c").unwrap(), "r".parse().unwrap(), funds).unwrap()
    }

    fn bid(fund: &str, price: u64, qty: u64, lockup: LockUp) -> ActualLine {
        ActualLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            lockup,
        }
    }

    fn one() -> (Client, Vec<FundId>) {
        (client(&[("main", "공모 코벤")]), vec!["main".parse().unwrap()])
    }

    #[test]
    fn the_forms_clients_write() {
        let (c, advised) = one();
        let cases = [
            ("17,500 / 300,000 / 1개월", bid("main", 17_500, 300_000, LockUp::Months1)),
            ("17500원 30만주 확약3개월", bid("main", 17_500, 300_000, LockUp::Months3)),
            ("17,500원 / 30만주 / 미확약", bid("main", 17_500, 300_000, LockUp::None)),
            ("300,000주 17,500원 6개월 확약", bid("main", 17_500, 300_000, LockUp::Months6)),
            ("가격 17,500 수량 300,000 확약 15일", bid("main", 17_500, 300_000, LockUp::Days15)),
            ("17500 / 300000 / 없음", bid("main", 17_500, 300_000, LockUp::None)),
            ("16,995 / 1,000,000 / 3M", bid("main", 16_995, 1_000_000, LockUp::Months3)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_reply(text, &c, &advised), Ok(vec![expected]), "{text:?}");
        }
    }

    #[test]
    fn one_line_per_fund_for_clients_with_several() {
        let c = client(&[("hy", "하이일드"), ("pv", "사모 코벤")]);
        let advised: Vec<FundId> = vec!["hy".parse().unwrap(), "pv".parse().unwrap()];
        let text = "하이일드 17,300 / 300,000 / 1개월\n사모코벤 18,500원 160,000주 미확약";
        assert_eq!(
            parse_reply(text, &c, &advised),
            Ok(vec![bid("hy", 17_300, 300_000, LockUp::Months1), bid("pv", 18_500, 160_000, LockUp::None)])
        );
        // Numbers separated by spaces only stay apart once the fund name is taken out.
        assert_eq!(
            parse_reply("사모 코벤 17500 300000 1개월", &c, &advised),
            Ok(vec![bid("pv", 17_500, 300_000, LockUp::Months1)])
        );
        assert_eq!(parse_reply("17,300 / 300,000 / 1개월", &c, &advised), Err(ReplyError::WhichFund { line: 1 }));
    }

    #[test]
    fn missing_parts_are_named() {
        let (c, advised) = one();
        assert!(matches!(
            parse_reply("300,000주 1개월", &c, &advised),
            Err(ReplyError::Bid { line: 1, error: BidError::MissingPrice { .. } })
        ));
        assert!(matches!(
            parse_reply("17,500 / 1개월", &c, &advised),
            Err(ReplyError::Bid { line: 1, error: BidError::MissingQuantity { .. } })
        ));
        assert!(matches!(
            parse_reply("17,500 / 300,000", &c, &advised),
            Err(ReplyError::Bid { line: 1, error: BidError::MissingLockUp { .. } })
        ));
        assert_eq!(parse_reply("  \n ", &c, &advised), Err(ReplyError::Empty));
        assert!(matches!(parse_reply("확인했습니다", &c, &advised), Err(ReplyError::Unreadable { .. })));
    }
}
