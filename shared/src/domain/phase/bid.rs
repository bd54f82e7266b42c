//! Phase 1, 수요예측 참여: per fund the firm advises a bid (price, quantity, lock-up, a comment);
//! the client reports the bid it actually made. Checks: deviation from the advice, the KRX tick
//! grid, and whether the fund can pay for its bid.

use super::reading::{Number, Unit, fund_of_line, numbers, reply_lines, take_lockup};
use super::{Context, FundLine, FundLines, LineError, LineInput, ReplyError, Severity};
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::lockup::LockUp;
use crate::domain::money::{Price, Quantity, Won, bid_amount};
use crate::domain::regulation::{Regulation, RegulationError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The firm's opinion for one fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AdviceLine {
    pub fund_id: FundId,
    pub price: Price,
    pub quantity: Quantity,
    pub lockup: LockUp,
    #[serde(default)]
    pub comment: String,
}

/// The bid the client says it made for one fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidLine {
    pub fund_id: FundId,
    pub price: Price,
    pub quantity: Quantity,
    pub lockup: LockUp,
}

impl FundLine for AdviceLine {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

impl FundLine for BidLine {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidAdvice {
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<AdviceLine>, min_items = 1)]
    pub lines: FundLines<AdviceLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BidAnswer {
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<BidLine>, min_items = 1)]
    pub lines: FundLines<BidLine>,
}

/// Something a check found about one fund's bid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Each phase has a `Finding`: named apart in the OpenAPI document, or one would replace the others.
#[schema(as = BidFinding)]
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
    /// Advice further outside the stock's price band than the firm tolerates.
    OutsideBand {
        fund_id: FundId,
        price: Price,
        low: Price,
        high: Price,
    },
    /// Advice that fits another offering's band: perhaps that stock's sheet.
    FitsOtherStock {
        fund_id: FundId,
        price: Price,
        stock: String,
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
            | Finding::OffGrid { .. }
            | Finding::OutsideBand { .. }
            | Finding::FitsOtherStock { .. } => Severity::Warning,
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
pub fn check(advice: &BidAdvice, answer: &BidAnswer, ctx: &Context<'_>) -> Result<Vec<Finding>, RegulationError> {
    let mut out = compare(advice, answer);
    for b in &answer.lines {
        out.extend(check_line(ctx.client, &b.fund_id, b.price, b.quantity, ctx.today, ctx.regulation)?);
    }
    Ok(out)
}

/// Advice against answer, fund by fund: each advised fund's deviation or its missing bid, then the
/// bids for funds we gave no advice for.
pub fn compare(advice: &BidAdvice, answer: &BidAnswer) -> Vec<Finding> {
    let mut out = Vec::new();
    for a in &advice.lines {
        match answer.lines.of(&a.fund_id) {
            None => out.push(Finding::MissingBid { fund_id: a.fund_id.clone() }),
            Some(b) => out.extend(deviation(a, b)),
        }
    }
    out.extend(
        answer
            .lines
            .iter()
            .filter(|b| advice.lines.of(&b.fund_id).is_none())
            .map(|b| Finding::UnadvisedBid { fund_id: b.fund_id.clone() }),
    );
    out
}

/// How one bid deviates from its advice; empty when it matches exactly.
pub fn deviation(advice: &AdviceLine, actual: &BidLine) -> Vec<Finding> {
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

/// Turns raw fields into a bid of one of the client's funds, or says what is wrong.
pub fn parse_line(client: &Client, input: &LineInput) -> Result<BidLine, LineError> {
    let fund = input.fund.trim().to_owned();
    let account = client.fund_named(&fund).ok_or_else(|| LineError::UnknownFund { fund: fund.clone() })?;
    let invalid = |reason: String| LineError::Invalid { fund: fund.clone(), reason };
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let price = present(&input.price).ok_or_else(|| LineError::MissingPrice { fund: fund.clone() })?;
    let quantity = present(&input.quantity).ok_or_else(|| LineError::MissingQuantity { fund: fund.clone() })?;
    let lockup = present(&input.lockup).ok_or_else(|| LineError::MissingLockUp { fund: fund.clone() })?;
    Ok(BidLine {
        fund_id: account.id.clone(),
        price: price.parse::<Price>().map_err(|e| invalid(e.to_string()))?,
        quantity: quantity.parse::<Quantity>().map_err(|e| invalid(e.to_string()))?,
        lockup: lockup.parse::<LockUp>().map_err(|e| invalid(e.to_string()))?,
    })
}

/// Reads a client's bids from its reply: `17,500 / 300,000 / 1개월`, `17500원 30만주 확약3개월`,
/// one line per fund when the client has several (`하이일드 17,500 / 300,000 / 1개월`).
pub fn parse_reply(text: &str, client: &Client, advised: &[&FundId]) -> Result<BidAnswer, ReplyError> {
    let mut out = Vec::new();
    for (i, raw) in reply_lines(text)?.into_iter().enumerate() {
        let line = i + 1;
        let (fund, rest) = fund_of_line(raw, line, client, advised)?;
        let (lockup, rest) = take_lockup(&rest);
        let (price, quantity) = price_and_quantity(&numbers(&rest));
        if price.is_none() && quantity.is_none() && lockup.is_none() {
            return Err(ReplyError::Unreadable { line, text: raw.to_owned() });
        }
        let input = LineInput {
            fund: fund.id.to_string(),
            price: price.map(|p| p.to_string()),
            quantity: quantity.map(|q| q.to_string()),
            lockup: lockup.map(|l| l.korean().to_owned()),
            ..LineInput::default()
        };
        out.push(parse_line(client, &input).map_err(|error| ReplyError::Line { line, error })?);
    }
    Ok(BidAnswer { lines: FundLines::new(out)? })
}

/// Marked numbers go where their unit says; the rest fill price, then quantity, in order.
fn price_and_quantity(numbers: &[Number]) -> (Option<u64>, Option<u64>) {
    let mut price = numbers.iter().find(|n| n.unit == Unit::Won).map(|n| n.value);
    let mut quantity = numbers.iter().find(|n| n.unit == Unit::Shares).map(|n| n.value);
    for n in numbers.iter().filter(|n| n.unit == Unit::None) {
        if price.is_none() {
            price = Some(n.value);
        } else if quantity.is_none() {
            quantity = Some(n.value);
        }
    }
    (price, quantity)
}

#[cfg(test)]
mod tests {
    //! The phase-1 cases of the demo data, each its own test.
    use super::*;
    use crate::domain::calendar::KrxCalendar;
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

    fn advice(lines: &[(&str, u64, u64, LockUp)]) -> BidAdvice {
        let lines = lines
            .iter()
            .map(|(fund, price, qty, lockup)| AdviceLine {
                fund_id: fund.parse().unwrap(),
                price: Price::new(*price).unwrap(),
                quantity: Quantity::new(*qty).unwrap(),
                lockup: *lockup,
                comment: String::new(),
            })
            .collect();
        BidAdvice { lines: FundLines::new(lines).unwrap() }
    }

    fn bid(fund: &str, price: u64, qty: u64, lockup: LockUp) -> BidLine {
        BidLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            lockup,
        }
    }

    fn answer(lines: Vec<BidLine>) -> BidAnswer {
        BidAnswer { lines: FundLines::new(lines).unwrap() }
    }

    fn checked(client: &Client, advice: &BidAdvice, bids: Vec<BidLine>) -> Vec<Finding> {
        let ctx = Context {
            client,
            stock: None,
            today: date(),
            regulation: Regulation::builtin(),
            calendar: KrxCalendar::builtin(),
        };
        check(advice, &answer(bids), &ctx).unwrap()
    }

    #[test]
    fn exact_match_has_no_findings() {
        let a = advice(&[("ipo", 17_500, 300_000, LockUp::Months1)]);
        assert_eq!(checked(&gaon(), &a, vec![bid("ipo", 17_500, 300_000, LockUp::Months1)]), vec![]);
    }

    #[test]
    fn price_minus_200_is_a_price_deviation() {
        let a = advice(&[("ipo", 17_500, 300_000, LockUp::Months1)]);
        assert_eq!(
            checked(&gaon(), &a, vec![bid("ipo", 17_300, 300_000, LockUp::Months1)]),
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
        let a = advice(&[("ipo", 17_000, 100_000, LockUp::None)]);
        let found = checked(&gaon(), &a, vec![bid("ipo", 18_000, 160_000, LockUp::None)]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(matches!(found[0], Finding::PriceDiffers { diff: 1_000, .. }));
        assert!(matches!(found[1], Finding::QuantityDiffers { diff: 60_000, percent_tenths: 600, .. }));
    }

    #[test]
    fn quantity_plus_50_percent_within_aum_is_only_a_deviation() {
        // 450,000 × 17,500 = 78.75억, well within 2,300억.
        let a = advice(&[("ipo", 17_500, 300_000, LockUp::Months3)]);
        let found = checked(&gaon(), &a, vec![bid("ipo", 17_500, 450_000, LockUp::Months3)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(matches!(found[0], Finding::QuantityDiffers { percent_tenths: 500, .. }));
        assert!(found.iter().all(|f| f.severity() == Severity::Warning));
    }

    #[test]
    fn off_grid_bid_of_16995_warns() {
        let a = advice(&[("ipo", 17_000, 300_000, LockUp::Months1)]);
        let found = checked(&gaon(), &a, vec![bid("ipo", 16_995, 300_000, LockUp::Months1)]);
        let off_grid =
            Finding::OffGrid { fund_id: "ipo".parse().unwrap(), price: Price::new(16_995).unwrap(), tick: 10 };
        assert!(found.contains(&off_grid), "{found:?}");
        assert_eq!(off_grid.severity(), Severity::Warning);
        assert!(found.iter().all(|f| f.severity() < Severity::Error));
    }

    #[test]
    fn bid_with_no_price_is_rejected() {
        let input = LineInput {
            fund: "공모주 채권혼합".into(),
            price: None,
            quantity: Some("300,000".into()),
            lockup: Some("1개월".into()),
            ..LineInput::default()
        };
        assert_eq!(parse_line(&gaon(), &input), Err(LineError::MissingPrice { fund: "공모주 채권혼합".into() }));
        let blank = LineInput { price: Some("  ".into()), ..input };
        assert!(matches!(parse_line(&gaon(), &blank), Err(LineError::MissingPrice { .. })));
    }

    #[test]
    fn one_million_shares_at_17500_exceeds_a_150_eok_fund() {
        let line = |price| {
            check_line(
                &dasom(),
                &"hedge".parse().unwrap(),
                Price::new(price).unwrap(),
                Quantity::new(1_000_000).unwrap(),
                date(),
                Regulation::builtin(),
            )
            .unwrap()
        };
        let expected = Finding::ExceedsAbilityToPay {
            fund_id: "hedge".parse().unwrap(),
            amount: Won::new(17_500_000_000),
            aum: Won::new(15_000_000_000),
        };
        assert_eq!(line(17_500), vec![expected.clone()]);
        assert_eq!(expected.severity(), Severity::Error);
        assert_eq!(line(15_000), vec![], "exactly the AUM is still payable");
    }

    #[test]
    fn no_answer_is_a_missing_bid_per_advised_fund() {
        let a = advice(&[("ipo", 17_500, 300_000, LockUp::Months1), ("pv", 17_500, 10_000, LockUp::None)]);
        assert_eq!(
            checked(&gaon(), &a, vec![bid("ipo", 17_500, 300_000, LockUp::Months1)]),
            vec![Finding::MissingBid { fund_id: "pv".parse().unwrap() }]
        );
    }

    #[test]
    fn lockup_mismatch_and_unadvised_or_unknown_funds() {
        let a = advice(&[("ipo", 17_500, 300_000, LockUp::Months3)]);
        let found = checked(
            &gaon(),
            &a,
            vec![bid("ipo", 17_500, 300_000, LockUp::None), bid("ghost", 17_500, 1, LockUp::None)],
        );
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
        let input = LineInput {
            fund: "사모".into(),
            price: Some("17,500".into()),
            quantity: Some("30만".into()),
            lockup: Some("확약3개월".into()),
            ..LineInput::default()
        };
        assert_eq!(parse_line(&gaon(), &input), Ok(bid("pv", 17_500, 300_000, LockUp::Months3)));
        let bad_lockup = LineInput { lockup: Some("2개월".into()), ..input.clone() };
        assert!(matches!(parse_line(&gaon(), &bad_lockup), Err(LineError::Invalid { .. })));
        let zero = LineInput { quantity: Some("0".into()), ..input.clone() };
        assert!(matches!(parse_line(&gaon(), &zero), Err(LineError::Invalid { .. })));
        let unknown = LineInput { fund: "하이일드".into(), ..input };
        assert_eq!(parse_line(&gaon(), &unknown), Err(LineError::UnknownFund { fund: "하이일드".into() }));
    }

    fn one() -> (Client, FundId) {
        (client_with(&[("main", "공모 코벤", 1_000)]), "main".parse().unwrap())
    }

    #[test]
    fn the_forms_clients_write() {
        let (c, main) = one();
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
            assert_eq!(parse_reply(text, &c, &[&main]), Ok(answer(vec![expected])), "{text:?}");
        }
    }

    #[test]
    fn one_line_per_fund_for_clients_with_several() {
        let c = client_with(&[("hy", "하이일드", 850), ("pv", "사모 코벤", 420)]);
        let (hy, pv): (FundId, FundId) = ("hy".parse().unwrap(), "pv".parse().unwrap());
        let advised = [&hy, &pv];
        let text = "하이일드 17,300 / 300,000 / 1개월\n사모코벤 18,500원 160,000주 미확약";
        assert_eq!(
            parse_reply(text, &c, &advised),
            Ok(answer(vec![bid("hy", 17_300, 300_000, LockUp::Months1), bid("pv", 18_500, 160_000, LockUp::None)]))
        );
        // Numbers separated by spaces only stay apart once the fund name is taken out.
        assert_eq!(
            parse_reply("사모 코벤 17500 300000 1개월", &c, &advised),
            Ok(answer(vec![bid("pv", 17_500, 300_000, LockUp::Months1)]))
        );
        assert_eq!(parse_reply("17,300 / 300,000 / 1개월", &c, &advised), Err(ReplyError::WhichFund { line: 1 }));
        assert!(matches!(
            parse_reply("하이일드 17,300 / 300,000 / 1개월\n하이일드 17,000 / 1 / 1개월", &c, &advised),
            Err(ReplyError::Lines(_))
        ));
    }

    #[test]
    fn missing_parts_are_named() {
        let (c, main) = one();
        let parse = |t: &str| parse_reply(t, &c, &[&main]);
        assert!(matches!(
            parse("300,000주 1개월"),
            Err(ReplyError::Line { line: 1, error: LineError::MissingPrice { .. } })
        ));
        assert!(matches!(
            parse("17,500 / 1개월"),
            Err(ReplyError::Line { line: 1, error: LineError::MissingQuantity { .. } })
        ));
        assert!(matches!(
            parse("17,500 / 300,000"),
            Err(ReplyError::Line { line: 1, error: LineError::MissingLockUp { .. } })
        ));
        assert_eq!(parse("  \n "), Err(ReplyError::Empty));
        assert!(matches!(parse("확인했습니다"), Err(ReplyError::Unreadable { .. })));
        assert!(parse("감사합니다").is_err_and(|e| e.holds_no_answer()));
        assert!(parse("17,500 / 1개월").is_err_and(|e| !e.holds_no_answer()), "an answer with a gap is an answer");
    }
}
