//! Reading what clients write in their group, for every phase's reply parser: one line per fund,
//! the fund named anywhere in the line (spaces ignored), numbers with Korean units (`30만`,
//! `17,500원`, `1,200주`), lock-ups in their many spellings (`확약3개월`, `미확약`).

use super::ReplyError;
use crate::domain::client::{Client, FundAccount};
use crate::domain::ids::FundId;
use crate::domain::lockup::LockUp;
use crate::domain::money::parse_korean_number;

/// The lines of a reply (a `;` also separates), trimmed, blank ones dropped.
pub(super) fn reply_lines(text: &str) -> Result<Vec<&str>, ReplyError> {
    let lines: Vec<&str> = text.lines().flat_map(|l| l.split(';')).map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() { Err(ReplyError::Empty) } else { Ok(lines) }
}

/// The fund a line is about and the line without its name: the fund named in it, else the only
/// advised fund.
pub(super) fn fund_of_line<'a>(
    raw: &str,
    line: usize,
    client: &'a Client,
    advised: &[&FundId],
) -> Result<(&'a FundAccount, String), ReplyError> {
    let candidates: Vec<&FundAccount> = client.funds().iter().collect();
    match find_fund(raw, &candidates) {
        Some(found) => Ok(found),
        None => match advised {
            [only] => Ok((client.fund(only).ok_or(ReplyError::WhichFund { line })?, raw.to_owned())),
            _ => Err(ReplyError::WhichFund { line }),
        },
    }
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

/// The lock-up written in the line, and the line without it (lower-cased).
pub(super) fn take_lockup(line: &str) -> (Option<LockUp>, String) {
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

/// The unit written after a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Won,
    Shares,
    None,
}

/// The numbers in the text with the unit written after them (`원`, `주`), in order.
pub(super) fn numbers(text: &str) -> Vec<(u64, Unit)> {
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
