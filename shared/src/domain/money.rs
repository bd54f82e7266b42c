//! Won amounts, share prices and share quantities: integers that cannot be negative, and prices and
//! quantities that cannot be zero. Shown the Korean way: `17,000원`, `300,000주`, `850억원`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0:?} is not a number: write digits, optionally with commas, 만, 억 or 조")]
    NotANumber(String),
    #[error("{0:?} must be greater than zero")]
    Zero(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// An amount of Korean won, whole won only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Won(u64);

impl Won {
    pub const ZERO: Won = Won(0);

    pub const fn new(won: u64) -> Self {
        Won(won)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    pub fn checked_sub(self, other: Won) -> Option<Won> {
        self.0.checked_sub(other.0).map(Won)
    }

    /// The amount in 억 (10^8 won) when it is a whole number of 억, as funds' sizes are spoken of.
    pub fn display_eok(self) -> String {
        const EOK: u64 = 100_000_000;
        if self.0 >= EOK && self.0.is_multiple_of(EOK) {
            format!("{}억원", group_thousands(self.0 / EOK))
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for Won {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}원", group_thousands(self.0))
    }
}

impl FromStr for Won {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, AmountError> {
        parse_korean_number(s.trim().trim_end_matches('원')).map(Won)
    }
}

/// A price per share in won; never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Price(NonZeroU64);

impl Price {
    pub fn new(won: u64) -> Result<Self, AmountError> {
        NonZeroU64::new(won).map(Price).ok_or_else(|| AmountError::Zero(won.to_string()))
    }

    pub const fn get(self) -> u64 {
        self.0.get()
    }

    pub fn as_won(self) -> Won {
        Won(self.get())
    }
}

impl TryFrom<u64> for Price {
    type Error = AmountError;
    fn try_from(v: u64) -> Result<Self, AmountError> {
        Price::new(v)
    }
}

impl From<Price> for u64 {
    fn from(p: Price) -> u64 {
        p.get()
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_won().fmt(f)
    }
}

impl FromStr for Price {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, AmountError> {
        let won: Won = s.parse()?;
        Price::new(won.get()).map_err(|_| AmountError::Zero(s.to_owned()))
    }
}

/// A number of shares; never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Quantity(NonZeroU64);

impl Quantity {
    pub fn new(shares: u64) -> Result<Self, AmountError> {
        NonZeroU64::new(shares).map(Quantity).ok_or_else(|| AmountError::Zero(shares.to_string()))
    }

    pub const fn get(self) -> u64 {
        self.0.get()
    }
}

impl TryFrom<u64> for Quantity {
    type Error = AmountError;
    fn try_from(v: u64) -> Result<Self, AmountError> {
        Quantity::new(v)
    }
}

impl From<Quantity> for u64 {
    fn from(q: Quantity) -> u64 {
        q.get()
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}주", group_thousands(self.get()))
    }
}

impl FromStr for Quantity {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, AmountError> {
        let n = parse_korean_number(s.trim().trim_end_matches('주'))?;
        Quantity::new(n).map_err(|_| AmountError::Zero(s.to_owned()))
    }
}

/// What a bid of `quantity` shares at `price` costs. `None` only beyond u64, which no real bid reaches.
pub fn bid_amount(price: Price, quantity: Quantity) -> Option<Won> {
    price.get().checked_mul(quantity.get()).map(Won)
}

/// `1234567` → `"1,234,567"`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses `17,000`, `17000`, `30만`, `1억2,000만`, `850억`, `1만2천`, `2천만`, `1조 2천억`: digit groups
/// with optional commas, each optionally followed by 천 (10^3, within a group), then 만 (10^4),
/// 억 (10^8) or 조 (10^12), largest first. `천` alone counts as one thousand (`천만` = 10^7).
pub fn parse_korean_number(s: &str) -> Result<u64, AmountError> {
    let not_a_number = || AmountError::NotANumber(s.to_owned());
    let too_large = || AmountError::TooLarge(s.to_owned());
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(not_a_number());
    }
    let digits = |current: &str| -> Result<Option<u64>, AmountError> {
        if current.is_empty() { Ok(None) } else { current.parse().map(Some).map_err(|_| too_large()) }
    };
    let mut total: u64 = 0;
    // The group below the last big unit: its thousands, then the digits being read.
    let mut thousands: Option<u64> = None;
    let mut current = String::new();
    let mut last_big = u64::MAX;
    for c in compact.chars() {
        match c {
            '0'..='9' => current.push(c),
            ',' => {
                if current.is_empty() {
                    return Err(not_a_number());
                }
            }
            '천' => {
                if thousands.is_some() {
                    return Err(not_a_number());
                }
                let n = digits(&current)?.unwrap_or(1);
                thousands = Some(n.checked_mul(1_000).ok_or_else(too_large)?);
                current.clear();
            }
            '만' | '억' | '조' => {
                let unit: u64 = match c {
                    '만' => 10_000,
                    '억' => 100_000_000,
                    _ => 1_000_000_000_000,
                };
                let ones = digits(&current)?;
                if unit >= last_big || (ones.is_none() && thousands.is_none()) {
                    return Err(not_a_number());
                }
                let group = group_value(thousands, ones).ok_or_else(not_a_number)?;
                let part = group.checked_mul(unit).ok_or_else(too_large)?;
                total = total.checked_add(part).ok_or_else(too_large)?;
                current.clear();
                thousands = None;
                last_big = unit;
            }
            _ => return Err(not_a_number()),
        }
    }
    let ones = digits(&current)?;
    if ones.is_some() || thousands.is_some() {
        let rest = group_value(thousands, ones).ok_or_else(not_a_number)?;
        if last_big != u64::MAX && rest >= 10_000 {
            // "1억 20000" is ambiguous; the remainder after a unit must be below 만.
            return Err(not_a_number());
        }
        total = total.checked_add(rest).ok_or_else(too_large)?;
    }
    if !has_well_placed_commas(&compact) {
        return Err(not_a_number());
    }
    Ok(total)
}

/// A group's value: its thousands and the digits after them (which must then be below 1,000).
fn group_value(thousands: Option<u64>, ones: Option<u64>) -> Option<u64> {
    match (thousands, ones) {
        (Some(t), Some(o)) if o < 1_000 => t.checked_add(o),
        (Some(_), Some(_)) => None,
        (Some(t), None) => Some(t),
        (None, o) => o,
    }
}

/// Commas, when present, must group digits by three: `17,000` yes, `1,70,00` no.
fn has_well_placed_commas(s: &str) -> bool {
    s.split(['천', '만', '억', '조']).all(|group| {
        let mut parts = group.split(',');
        let Some(first) = parts.next() else {
            return true;
        };
        let rest: Vec<&str> = parts.collect();
        if rest.is_empty() {
            return true;
        }
        (1..=3).contains(&first.len()) && rest.iter().all(|p| p.len() == 3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn won_is_shown_with_thousands_separators() {
        assert_eq!(Won::new(17_000).to_string(), "17,000원");
        assert_eq!(Won::new(0).to_string(), "0원");
        assert_eq!(Won::new(999).to_string(), "999원");
        assert_eq!(Won::new(1_000).to_string(), "1,000원");
        assert_eq!(Won::new(17_500_000_000).to_string(), "17,500,000,000원");
        assert_eq!(Quantity::new(300_000).unwrap().to_string(), "300,000주");
        assert_eq!(Price::new(16_995).unwrap().to_string(), "16,995원");
    }

    #[test]
    fn fund_sizes_are_shown_in_eok() {
        assert_eq!(Won::new(85_000_000_000).display_eok(), "850억원");
        assert_eq!(Won::new(230_000_000_000).display_eok(), "2,300억원");
        assert_eq!(Won::new(150_000_001).display_eok(), "150,000,001원");
    }

    #[test]
    fn korean_numbers_parse() {
        assert_eq!(parse_korean_number("17,000"), Ok(17_000));
        assert_eq!(parse_korean_number("17000"), Ok(17_000));
        assert_eq!(parse_korean_number("30만"), Ok(300_000));
        assert_eq!(parse_korean_number("850억"), Ok(85_000_000_000));
        assert_eq!(parse_korean_number("1억 2,000만"), Ok(120_000_000));
        assert_eq!(parse_korean_number("1조2억"), Ok(1_000_200_000_000));
        assert_eq!(parse_korean_number("1만2천"), Ok(12_000));
        assert_eq!(parse_korean_number("1만 2천"), Ok(12_000));
        assert_eq!(parse_korean_number("2천"), Ok(2_000));
        assert_eq!(parse_korean_number("2천만"), Ok(20_000_000));
        assert_eq!(parse_korean_number("천만"), Ok(10_000_000));
        assert_eq!(parse_korean_number("1억2천만"), Ok(120_000_000));
        assert_eq!(parse_korean_number("3천500"), Ok(3_500));
        assert_eq!("2,300억원".parse::<Won>(), Ok(Won::new(230_000_000_000)));
        assert_eq!("300,000주".parse::<Quantity>().map(Quantity::get), Ok(300_000));
    }

    #[test]
    fn bad_numbers_are_refused_with_the_input_named() {
        for bad in ["", "abc", "1,70,00", ",100", "만", "3만2억", "1억 20000", "17.5", "2천3천", "2천1500"] {
            assert!(parse_korean_number(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(
            parse_korean_number("99999999999999999999"),
            Err(AmountError::TooLarge("99999999999999999999".into()))
        );
        assert_eq!("0".parse::<Price>(), Err(AmountError::Zero("0".into())));
        assert!(Quantity::new(0).is_err());
    }

    #[test]
    fn prices_and_quantities_refuse_zero_when_deserialized() {
        assert!(serde_json::from_str::<Price>("0").is_err());
        assert_eq!(serde_json::from_str::<Price>("17000").unwrap().get(), 17_000);
        assert!(serde_json::from_str::<Quantity>("-5").is_err());
    }

    #[test]
    fn bid_amount_multiplies_and_never_overflows_silently() {
        let amount = bid_amount(Price::new(17_500).unwrap(), Quantity::new(1_000_000).unwrap());
        assert_eq!(amount, Some(Won::new(17_500_000_000)));
        assert_eq!(bid_amount(Price::new(u64::MAX).unwrap(), Quantity::new(2).unwrap()), None);
    }
}
