//! Checks of advice and bids: deviation of what the client did from what we advised, the KRX tick
//! grid, and whether a fund can pay for its bid.

use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::lockup::LockUp;
use crate::domain::money::{Price, Quantity, Won, bid_amount};
use crate::domain::regulation::{Regulation, RegulationError};
use crate::domain::tracker::{ActualLine, AdviceLine};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth telling staff; nothing wrong.
    Info,
    /// Accepted, but staff should look.
    Warning,
    /// Cannot be right: refused on import, flagged on a bid.
    Error,
}

/// Something a check found about one fund's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    PriceDiffers {
        fund_id: FundId,
        advised: Price,
        actual: Price,
        diff: i64,
    },
    /// `percent_tenths` is the deviation in tenths of a percent (600 = +60.0%).
    QuantityDiffers {
        fund_id: FundId,
        advised: Quantity,
        actual: Quantity,
        diff: i64,
        percent_tenths: i64,
    },
    LockUpDiffers {
        fund_id: FundId,
        advised: LockUp,
        actual: LockUp,
    },
    /// Advised, but the client reported no bid for it.
    MissingBid {
        fund_id: FundId,
    },
    /// A bid for a fund we gave no advice for.
    UnadvisedBid {
        fund_id: FundId,
    },
    /// Book-building bids need not follow ticks, but an off-grid price is usually a typo.
    OffGrid {
        fund_id: FundId,
        price: Price,
        tick: u64,
    },
    ExceedsAbilityToPay {
        fund_id: FundId,
        amount: Won,
        aum: Won,
    },
    /// The fund is not one of the client's accounts.
    UnknownFund {
        fund_id: FundId,
    },
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::PriceDiffers { .. }
            | Finding::QuantityDiffers { .. }
            | Finding::LockUpDiffers { .. }
            | Finding::MissingBid { .. }
            | Finding::UnadvisedBid { .. }
            | Finding::OffGrid { .. } => Severity::Warning,
            Finding::ExceedsAbilityToPay { .. } | Finding::UnknownFund { .. } => Severity::Error,
        }
    }
}

/// Checks one priced line (advice or bid) on its own: the tick grid and the fund's ability to pay.
pub fn check_line(
    client: &Client,
    fund_id: &FundId,
    price: Price,
    quantity: Quantity,
    date: NaiveDate,
    reg: &Regulation,
) -> Result<Vec<Finding>, RegulationError> {
    let mut out = Vec::new();
    let tick = reg.tick_size(date, price)?;
    if !price.get().is_multiple_of(tick) {
        out.push(Finding::OffGrid { fund_id: fund_id.clone(), price, tick });
    }
    match client.fund(fund_id) {
        None => out.push(Finding::UnknownFund { fund_id: fund_id.clone() }),
        Some(fund) => {
            // An amount beyond u64 is beyond every fund.
            let amount = bid_amount(price, quantity).unwrap_or(Won::new(u64::MAX));
            if amount > fund.aum {
                out.push(Finding::ExceedsAbilityToPay { fund_id: fund_id.clone(), amount, aum: fund.aum });
            }
        }
    }
    Ok(out)
}

/// Compares a client's bids with our advice, fund by fund, and checks each bid on its own.
pub fn check_bids(
    client: &Client,
    advice: &[AdviceLine],
    actual: &[ActualLine],
    date: NaiveDate,
    reg: &Regulation,
) -> Result<Vec<Finding>, RegulationError> {
    let mut out = compare(advice, actual);
    for b in actual {
        out.extend(check_line(client, &b.fund_id, b.price, b.quantity, date, reg)?);
    }
    Ok(out)
}

/// Advice against answer, fund by fund: each advised fund's deviation or its missing bid, then the
/// bids for funds we gave no advice for.
pub fn compare(advice: &[AdviceLine], actual: &[ActualLine]) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in advice {
        match actual.iter().find(|b| b.fund_id == a.fund_id) {
            None => out.push(Finding::MissingBid { fund_id: a.fund_id.clone() }),
            Some(b) => out.extend(deviation(a, b)),
        }
    }
    out.extend(
        actual
            .iter()
            .filter(|b| !advice.iter().any(|a| a.fund_id == b.fund_id))
            .map(|b| Finding::UnadvisedBid { fund_id: b.fund_id.clone() }),
    );
    out
}

/// How one bid deviates from its advice; empty when it matches exactly.
pub fn deviation(advice: &AdviceLine, actual: &ActualLine) -> Vec<Finding> {
    let fund_id = &advice.fund_id;
    let mut out = Vec::new();
    if actual.price != advice.price {
        out.push(Finding::PriceDiffers {
            fund_id: fund_id.clone(),
            advised: advice.price,
            actual: actual.price,
            diff: signed_diff(actual.price.get(), advice.price.get()),
        });
    }
    if actual.quantity != advice.quantity {
        let diff = signed_diff(actual.quantity.get(), advice.quantity.get());
        let tenths = i128::from(diff) * 1000 / i128::from(advice.quantity.get());
        let percent_tenths = tenths.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        out.push(Finding::QuantityDiffers {
            fund_id: fund_id.clone(),
            advised: advice.quantity,
            actual: actual.quantity,
            diff,
            percent_tenths,
        });
    }
    if actual.lockup != advice.lockup {
        out.push(Finding::LockUpDiffers { fund_id: fund_id.clone(), advised: advice.lockup, actual: actual.lockup });
    }
    out
}

fn signed_diff(a: u64, b: u64) -> i64 {
    let d = i128::from(a) - i128::from(b);
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// A bid as it arrives from a form, a CSV row or a parsed reply, before it is known to be whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BidInput {
    pub fund: String,
    pub price: Option<String>,
    pub quantity: Option<String>,
    pub lockup: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BidError {
    #[error("{fund}: a bid needs a price")]
    MissingPrice { fund: String },
    #[error("{fund}: a bid needs a quantity")]
    MissingQuantity { fund: String },
    #[error("{fund}: a bid needs a lock-up (미확약, 15일, 1개월, 3개월, 6개월)")]
    MissingLockUp { fund: String },
    #[error("{fund}: {reason}")]
    Invalid { fund: String, reason: String },
    #[error("{fund:?} is not one of this client's funds")]
    UnknownFund { fund: String },
}

/// Turns raw bid fields into a bid line of one of the client's funds, or says what is wrong.
pub fn parse_bid(client: &Client, input: &BidInput) -> Result<ActualLine, BidError> {
    let fund = input.fund.trim().to_owned();
    let account = client.fund_named(&fund).ok_or_else(|| BidError::UnknownFund { fund: fund.clone() })?;
    let invalid = |reason: String| BidError::Invalid { fund: fund.clone(), reason };
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let price = present(&input.price).ok_or_else(|| BidError::MissingPrice { fund: fund.clone() })?;
    let quantity = present(&input.quantity).ok_or_else(|| BidError::MissingQuantity { fund: fund.clone() })?;
    let lockup = present(&input.lockup).ok_or_else(|| BidError::MissingLockUp { fund: fund.clone() })?;
    Ok(ActualLine {
        fund_id: account.id.clone(),
        price: price.parse::<Price>().map_err(|e| invalid(e.to_string()))?,
        quantity: quantity.parse::<Quantity>().map_err(|e| invalid(e.to_string()))?,
        lockup: lockup.parse::<LockUp>().map_err(|e| invalid(e.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    //! The phase-1 cases of the demo data, each its own test.
    use super::*;
    use crate::domain::client::{FundAccount, FundKind};
    use crate::domain::text::Label;

    fn date() -> NaiveDate {
        "2026-03-20".parse().unwrap()
    }

    fn client_with(funds: &[(&str, &str, u64)]) -> Client {
        let funds = funds
            .iter()
            .map(|(id, name, eok)| FundAccount {
                id: id.parse().unwrap(),
                name: Label::new(name).unwrap(),
                kind: FundKind::Private,
                aum: Won::new(eok * 100_000_000),
            })
            .collect();
        Client::new("c".parse().unwrap(), Label::new("client").unwrap(), "rep".parse().unwrap(), funds).unwrap()
    }

    /// (가상)다솜자산운용: one 150억 hedge fund.
    fn dasom() -> Client {
        client_with(&[("hedge", "사모 헤지", 150)])
    }

    /// (가상)가온자산운용: a 2,300억 IPO fund.
    fn gaon() -> Client {
        client_with(&[("ipo", "공모주 채권혼합", 2_300), ("pv", "사모", 300)])
    }

    fn advice(fund: &str, price: u64, qty: u64, lockup: LockUp) -> AdviceLine {
        AdviceLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            lockup,
            comment: String::new(),
        }
    }

    fn bid(fund: &str, price: u64, qty: u64, lockup: LockUp) -> ActualLine {
        ActualLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            lockup,
        }
    }

    fn check(client: &Client, advice: &[AdviceLine], actual: &[ActualLine]) -> Vec<Finding> {
        check_bids(client, advice, actual, date(), Regulation::builtin()).unwrap()
    }

    #[test]
    fn exact_match_has_no_findings() {
        let a = [advice("ipo", 17_500, 300_000, LockUp::Months1)];
        let b = [bid("ipo", 17_500, 300_000, LockUp::Months1)];
        assert_eq!(check(&gaon(), &a, &b), vec![]);
    }

    #[test]
    fn price_minus_200_is_a_price_deviation() {
        let a = [advice("ipo", 17_500, 300_000, LockUp::Months1)];
        let b = [bid("ipo", 17_300, 300_000, LockUp::Months1)];
        assert_eq!(
            check(&gaon(), &a, &b),
            vec![Finding::PriceDiffers {
                fund_id: "ipo".parse().unwrap(),
                advised: Price::new(17_500).unwrap(),
                actual: Price::new(17_300).unwrap(),
                diff: -200,
            }]
        );
    }

    #[test]
    fn price_plus_1000_and_quantity_plus_60_percent() {
        let a = [advice("ipo", 17_000, 100_000, LockUp::None)];
        let b = [bid("ipo", 18_000, 160_000, LockUp::None)];
        let found = check(&gaon(), &a, &b);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(matches!(found[0], Finding::PriceDiffers { diff: 1_000, .. }));
        assert!(matches!(found[1], Finding::QuantityDiffers { diff: 60_000, percent_tenths: 600, .. }));
    }

    #[test]
    fn quantity_plus_50_percent_within_aum_is_only_a_deviation() {
        // 450,000 × 17,500 = 78.75억, well within 2,300억.
        let a = [advice("ipo", 17_500, 300_000, LockUp::Months3)];
        let b = [bid("ipo", 17_500, 450_000, LockUp::Months3)];
        let found = check(&gaon(), &a, &b);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(matches!(found[0], Finding::QuantityDiffers { percent_tenths: 500, .. }));
        assert!(found.iter().all(|f| f.severity() == Severity::Warning));
    }

    #[test]
    fn off_grid_bid_of_16995_warns() {
        let a = [advice("ipo", 17_000, 300_000, LockUp::Months1)];
        let b = [bid("ipo", 16_995, 300_000, LockUp::Months1)];
        let found = check(&gaon(), &a, &b);
        let off_grid =
            Finding::OffGrid { fund_id: "ipo".parse().unwrap(), price: Price::new(16_995).unwrap(), tick: 10 };
        assert!(found.contains(&off_grid), "{found:?}");
        assert_eq!(off_grid.severity(), Severity::Warning);
        assert!(found.iter().all(|f| f.severity() < Severity::Error));
    }

    #[test]
    fn bid_with_no_price_is_rejected() {
        let input = BidInput {
            fund: "공모주 채권혼합".into(),
            price: None,
            quantity: Some("300,000".into()),
            lockup: Some("1개월".into()),
        };
        assert_eq!(parse_bid(&gaon(), &input), Err(BidError::MissingPrice { fund: "공모주 채권혼합".into() }));
        let blank = BidInput { price: Some("  ".into()), ..input };
        assert!(matches!(parse_bid(&gaon(), &blank), Err(BidError::MissingPrice { .. })));
    }

    #[test]
    fn one_million_shares_at_17500_exceeds_a_150_eok_fund() {
        let found = check_line(
            &dasom(),
            &"hedge".parse().unwrap(),
            Price::new(17_500).unwrap(),
            Quantity::new(1_000_000).unwrap(),
            date(),
            Regulation::builtin(),
        )
        .unwrap();
        let expected = Finding::ExceedsAbilityToPay {
            fund_id: "hedge".parse().unwrap(),
            amount: Won::new(17_500_000_000),
            aum: Won::new(15_000_000_000),
        };
        assert_eq!(found, vec![expected.clone()]);
        assert_eq!(expected.severity(), Severity::Error);
        // Exactly the AUM is still payable.
        let at_limit = check_line(
            &dasom(),
            &"hedge".parse().unwrap(),
            Price::new(15_000).unwrap(),
            Quantity::new(1_000_000).unwrap(),
            date(),
            Regulation::builtin(),
        )
        .unwrap();
        assert_eq!(at_limit, vec![]);
    }

    #[test]
    fn no_answer_is_a_missing_bid_per_advised_fund() {
        let a = [advice("ipo", 17_500, 300_000, LockUp::Months1), advice("pv", 17_500, 10_000, LockUp::None)];
        let b = [bid("ipo", 17_500, 300_000, LockUp::Months1)];
        assert_eq!(check(&gaon(), &a, &b), vec![Finding::MissingBid { fund_id: "pv".parse().unwrap() }]);
    }

    #[test]
    fn lockup_mismatch_and_unadvised_or_unknown_funds() {
        let a = [advice("ipo", 17_500, 300_000, LockUp::Months3)];
        let b = [bid("ipo", 17_500, 300_000, LockUp::None), bid("ghost", 17_500, 1, LockUp::None)];
        let found = check(&gaon(), &a, &b);
        assert_eq!(
            found,
            vec![
                Finding::LockUpDiffers {
                    fund_id: "ipo".parse().unwrap(),
                    advised: LockUp::Months3,
                    actual: LockUp::None
                },
                Finding::UnadvisedBid { fund_id: "ghost".parse().unwrap() },
                Finding::UnknownFund { fund_id: "ghost".parse().unwrap() },
            ]
        );
    }

    #[test]
    fn bids_parse_from_raw_fields() {
        let input = BidInput {
            fund: "사모".into(),
            price: Some("17,500".into()),
            quantity: Some("30만".into()),
            lockup: Some("확약3개월".into()),
        };
        assert_eq!(parse_bid(&gaon(), &input), Ok(bid("pv", 17_500, 300_000, LockUp::Months3)));
        let bad_lockup = BidInput { lockup: Some("2개월".into()), ..input.clone() };
        assert!(matches!(parse_bid(&gaon(), &bad_lockup), Err(BidError::Invalid { .. })));
        let zero = BidInput { quantity: Some("0".into()), ..input.clone() };
        assert!(matches!(parse_bid(&gaon(), &zero), Err(BidError::Invalid { .. })));
        let unknown = BidInput { fund: "하이일드".into(), ..input };
        assert_eq!(parse_bid(&gaon(), &unknown), Err(BidError::UnknownFund { fund: "하이일드".into() }));
    }
}
