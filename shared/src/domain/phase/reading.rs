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
            // Which fund matters only when the line says something: "감사합니다" is no answer.
            _ if !holds_values(raw) => Err(ReplyError::Unreadable { line, text: raw.to_owned() }),
            _ => Err(ReplyError::WhichFund { line }),
        },
    }
}

/// Words that say nothing was allotted.
const NOT_ALLOTTED: &[&str] = &["미배정", "배정없음", "불배정", "배정안됨", "배정못받음", "미배분"];

pub(super) fn says_not_allotted(text: &str) -> bool {
    let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    NOT_ALLOTTED.iter().any(|w| squashed.contains(w))
}

/// Whether a line holds anything an answer is made of: a number, a lock-up, 미배정.
fn holds_values(line: &str) -> bool {
    line.chars().any(|c| c.is_ascii_digit()) || take_lockup(line).0.is_some() || says_not_allotted(line)
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
pub(super) fn find_fund<'a>(line: &str, funds: &[&'a FundAccount]) -> Option<(&'a FundAccount, String)> {
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

/// The lock-up written in the line (the first one, reading left to right), and the line without
/// it (lower-cased).
pub(super) fn take_lockup(line: &str) -> (Option<LockUp>, String) {
    let lower = line.to_lowercase();
    // The earliest form in the line; at one position the longest ("확약3개월" before "확약").
    let mut found: Vec<(usize, &str)> = LOCKUP_FORMS
        .iter()
        .filter(|f| !matches!(**f, "확약" | "의무보유"))
        .flat_map(|form| lower.match_indices(form).map(move |(pos, _)| (pos, *form)))
        .collect();
    found.sort_by_key(|(pos, form)| (*pos, std::cmp::Reverse(form.len())));
    for (pos, form) in found {
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
        if let Some(lockup) = span.parse::<LockUp>().ok().or_else(|| form.parse().ok()) {
            let rest = format!("{} {}", &lower[..start], &lower[end..]);
            return (Some(lockup), rest);
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

/// A number in the text, the unit written after it (`원`, `주`), and where it starts (in
/// characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Number {
    pub value: u64,
    pub unit: Unit,
    pub at: usize,
}

/// The numbers in the text, in order. `1만 2천` is one number (12,000); `30만 17,500원` two.
pub(super) fn numbers(text: &str) -> Vec<Number> {
    let chars: Vec<char> = text.chars().collect();
    let korean = |c: char| matches!(c, '천' | '만' | '억' | '조');
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        loop {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',' || korean(chars[i])) {
                i += 1;
            }
            // "1만 2천": a smaller group after a space belongs to the same number.
            let after_big = i > start && matches!(chars[i - 1], '만' | '억' | '조');
            let next = chars[i..].iter().position(|c| *c != ' ').map(|p| i + p);
            let continues = next.is_some_and(|n| {
                n > i && chars[n].is_ascii_digit() && {
                    let end = chars[n..].iter().position(|c| !(c.is_ascii_digit() || *c == ',')).map(|p| n + p);
                    end.is_some_and(|e| chars[e] == '천')
                }
            });
            match next {
                Some(n) if after_big && continues => i = n,
                _ => break,
            }
        }
        let token: String = chars[start..i].iter().collect::<String>().trim_end_matches(',').to_owned();
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let unit = match chars.get(j) {
            Some('원') => Unit::Won,
            Some('주') => Unit::Shares,
            _ => Unit::None,
        };
        if let Ok(value) = parse_korean_number(&token) {
            out.push(Number { value, unit, at: start });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(u64, Unit)> {
        numbers(text).into_iter().map(|n| (n.value, n.unit)).collect()
    }

    #[test]
    fn numbers_read_with_korean_units() {
        assert_eq!(values("1만2천주"), vec![(12_000, Unit::Shares)]);
        assert_eq!(values("1만 2천주"), vec![(12_000, Unit::Shares)]);
        assert_eq!(values("30만 17,500원"), vec![(300_000, Unit::None), (17_500, Unit::Won)]);
        assert_eq!(values("17,500 / 300,000"), vec![(17_500, Unit::None), (300_000, Unit::None)]);
        assert_eq!(values("2천만원 1,200주"), vec![(20_000_000, Unit::Won), (1_200, Unit::Shares)]);
    }

    #[test]
    fn the_first_lockup_in_the_line_counts() {
        assert_eq!(take_lockup("1,200주 6개월 특이사항 없음").0, Some(LockUp::Months6));
        assert_eq!(take_lockup("미확약 1,200주").0, Some(LockUp::None));
        assert_eq!(take_lockup("확약 3개월 1,200주").0, Some(LockUp::Months3));
        assert_eq!(take_lockup("1,200주").0, None);
    }
}
