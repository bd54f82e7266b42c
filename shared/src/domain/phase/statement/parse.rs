//! Reading trade statements as clients type them off the broker's page: labelled figures
//! (`수량 12,000주 단가 25,300원 매매금액 303,600,000원 수수료 30,360원 거래세 607,200원 정산금액
//! 302,962,440원`), on one line or several; a line naming a fund starts that fund's figures.

use super::{StatementAnswer, StatementLine};
use crate::domain::client::{Client, FundAccount};
use crate::domain::ids::FundId;
use crate::domain::money::{Price, Quantity, Won};
use crate::domain::phase::reading::{Number, Unit, find_fund, numbers, reply_lines};
use crate::domain::phase::{FundLines, LineError, LineInput, ReplyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Quantity,
    Price,
    Gross,
    Commission,
    /// A part of the tax (증권거래세, 농특세): parts add up.
    TaxPart,
    /// The tax in total (제세금).
    TaxTotal,
    Net,
    /// A date's label (매매일, 결제일): kept from reading as 정산 or 매도; the dates themselves are
    /// blanked before reading ([`without_dates`]).
    Date,
}

/// Labels as brokers print them; at one position the longest wins (`증권거래세` over `거래세`).
const LABELS: &[(&str, Field)] = &[
    ("체결수량", Field::Quantity),
    ("매도수량", Field::Quantity),
    ("수량", Field::Quantity),
    ("체결단가", Field::Price),
    ("평균단가", Field::Price),
    ("매도단가", Field::Price),
    ("단가", Field::Price),
    ("평단", Field::Price),
    ("가격", Field::Price),
    ("매매금액", Field::Gross),
    ("거래금액", Field::Gross),
    ("체결금액", Field::Gross),
    ("매도금액", Field::Gross),
    ("약정금액", Field::Gross),
    ("수수료", Field::Commission),
    ("증권거래세", Field::TaxPart),
    ("농어촌특별세", Field::TaxPart),
    ("거래세", Field::TaxPart),
    ("농특세", Field::TaxPart),
    ("제세금", Field::TaxTotal),
    ("세금", Field::TaxTotal),
    ("매매일", Field::Date),
    ("체결일", Field::Date),
    ("거래일", Field::Date),
    ("매도일", Field::Date),
    ("결제일", Field::Date),
    ("정산일", Field::Date),
    ("일자", Field::Date),
    ("정산금액", Field::Net),
    ("결제금액", Field::Net),
    ("실수령액", Field::Net),
    ("수령금액", Field::Net),
    ("입금액", Field::Net),
    ("정산액", Field::Net),
    ("정산", Field::Net),
    ("금액", Field::Gross),
];

/// The labels in the text, left to right, none overlapping: (start in characters, field).
fn labels(text: &str) -> Vec<(usize, Field)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        let best = LABELS.iter().filter(|(w, _)| rest.starts_with(w)).max_by_key(|(w, _)| w.chars().count());
        match best {
            Some((word, field)) => {
                out.push((i, *field));
                i += word.chars().count();
            }
            None => i += 1,
        }
    }
    out
}

/// The text with its dates (`2026-04-09`, `2026.04.09`, `2026/04/09`, `04-09`, `04.09`) blanked,
/// character for character: they are no figures.
fn without_dates(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let digits_from = |chars: &[char], i: usize| chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = 0;
    while i < chars.len() {
        let starts_token =
            chars[i].is_ascii_digit() && (i == 0 || !(chars[i - 1].is_ascii_digit() || chars[i - 1] == ','));
        if !starts_token {
            i += 1;
            continue;
        }
        let first = digits_from(&chars, i);
        let mut end = i + first;
        let mut groups = 1;
        let seps: &[char] = if first == 4 { &['-', '.', '/'] } else { &['-', '.'] };
        while groups < 3 && end + 1 < chars.len() && seps.contains(&chars[end]) {
            let next = digits_from(&chars, end + 1);
            if !(1..=2).contains(&next) {
                break;
            }
            end += 1 + next;
            groups += 1;
        }
        let is_date = groups >= 2 && (first == 4 || first <= 2);
        if is_date {
            chars[i..end].iter_mut().for_each(|c| *c = ' ');
        }
        i = end.max(i + 1);
    }
    chars.into_iter().collect()
}

/// Each figure of a fund's text by its label: the nearest label before the number, if no earlier
/// number took it. Unlabelled figures fill, in order, what is still missing (`주` marks shares).
#[derive(Debug, Default)]
struct Figures {
    quantity: Option<u64>,
    price: Option<u64>,
    gross: Option<u64>,
    commission: Option<u64>,
    tax_parts: Option<u64>,
    tax_total: Option<u64>,
    net: Option<u64>,
}

impl Figures {
    fn read(text: &str) -> Figures {
        let text = &without_dates(text);
        let found = labels(text);
        let mut f = Figures::default();
        let mut unlabelled: Vec<Number> = Vec::new();
        let mut taken = vec![false; found.len()];
        for n in numbers(text) {
            let nearest = found.iter().rposition(|(at, _)| *at < n.at);
            let label = match nearest {
                Some(i) if !taken[i] && found[i].1 != Field::Date => {
                    taken[i] = true;
                    Some(found[i].1)
                }
                Some(_) | None => None,
            };
            match (label, n.unit) {
                (Some(field), _) => f.set(field, n.value),
                (None, Unit::Shares) if f.quantity.is_none() => f.quantity = Some(n.value),
                (None, _) => unlabelled.push(n),
            }
        }
        for n in unlabelled {
            let slot = [&mut f.quantity, &mut f.price, &mut f.gross, &mut f.commission, &mut f.tax_total, &mut f.net]
                .into_iter()
                .find(|s| s.is_none());
            if let Some(slot) = slot {
                *slot = Some(n.value);
            }
        }
        f
    }

    fn set(&mut self, field: Field, value: u64) {
        let slot = match field {
            Field::Quantity => &mut self.quantity,
            Field::Price => &mut self.price,
            Field::Gross => &mut self.gross,
            Field::Commission => &mut self.commission,
            Field::TaxTotal => &mut self.tax_total,
            Field::Net => &mut self.net,
            Field::TaxPart => {
                self.tax_parts = Some(self.tax_parts.unwrap_or(0).saturating_add(value));
                return;
            }
            Field::Date => return,
        };
        slot.get_or_insert(value);
    }

    fn is_empty(&self) -> bool {
        self.quantity.is_none()
            && self.price.is_none()
            && self.gross.is_none()
            && self.commission.is_none()
            && self.tax_parts.is_none()
            && self.tax_total.is_none()
            && self.net.is_none()
    }

    fn input(&self, fund: &FundId) -> LineInput {
        let s = |v: Option<u64>| v.map(|v| v.to_string());
        LineInput {
            fund: fund.to_string(),
            quantity: s(self.quantity),
            price: s(self.price),
            amount: s(self.gross),
            commission: s(self.commission),
            tax: s(self.tax_total.or(self.tax_parts)),
            net: s(self.net),
            ..LineInput::default()
        }
    }
}

/// Reads staff's fields (or a reply's figures) into one fund's statement: every figure is needed.
pub fn parse_line(client: &Client, input: &LineInput) -> Result<StatementLine, LineError> {
    let fund = input.fund.trim().to_owned();
    let account = client.fund_named(&fund).ok_or_else(|| LineError::UnknownFund { fund: fund.clone() })?;
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let invalid = |reason: String| LineError::Invalid { fund: fund.clone(), reason };
    let missing = |what: &'static str| LineError::MissingValue { fund: fund.clone(), what };
    let quantity = present(&input.quantity).ok_or_else(|| LineError::MissingQuantity { fund: fund.clone() })?;
    let price = present(&input.price).ok_or_else(|| LineError::MissingPrice { fund: fund.clone() })?;
    let won = |v: &Option<String>, what: &'static str| -> Result<Won, LineError> {
        present(v).ok_or_else(|| missing(what))?.parse::<Won>().map_err(|e| invalid(e.to_string()))
    };
    Ok(StatementLine {
        fund_id: account.id.clone(),
        quantity: quantity.parse::<Quantity>().map_err(|e| invalid(e.to_string()))?,
        price: price.parse::<Price>().map_err(|e| invalid(e.to_string()))?,
        gross: won(&input.amount, "매매금액")?,
        commission: won(&input.commission, "수수료")?,
        tax: won(&input.tax, "거래세")?,
        net: won(&input.net, "정산금액")?,
    })
}

/// Reads a client's statements from its reply: each fund's figures from the line naming it to
/// the next such line (all of them for a client asked about one fund).
pub fn parse_reply(text: &str, client: &Client, advised: &[&FundId]) -> Result<StatementAnswer, ReplyError> {
    let funds: Vec<&FundAccount> = client.funds().iter().collect();
    let mut blocks: Vec<(usize, &FundAccount, String)> = Vec::new();
    for (i, raw) in reply_lines(text)?.into_iter().enumerate() {
        let line = i + 1;
        match find_fund(raw, &funds) {
            Some((fund, rest)) => blocks.push((line, fund, rest)),
            None => match blocks.last_mut() {
                Some((_, _, text)) => {
                    text.push('\n');
                    text.push_str(raw);
                }
                None => match advised {
                    [only] => {
                        let fund = client.fund(only).ok_or(ReplyError::WhichFund { line })?;
                        blocks.push((line, fund, raw.to_owned()));
                    }
                    _ if !raw.chars().any(|c| c.is_ascii_digit()) => {
                        return Err(ReplyError::Unreadable { line, text: raw.to_owned() });
                    }
                    _ => return Err(ReplyError::WhichFund { line }),
                },
            },
        }
    }
    let mut out = Vec::new();
    for (line, fund, text) in blocks {
        let figures = Figures::read(&text);
        if figures.is_empty() {
            return Err(ReplyError::Unreadable { line, text });
        }
        out.push(parse_line(client, &figures.input(&fund.id)).map_err(|error| ReplyError::Line { line, error })?);
    }
    Ok(StatementAnswer { lines: FundLines::new(out)? })
}
