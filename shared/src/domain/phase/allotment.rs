//! Phase 2, 배정내역 및 확약여부 확인: after the final price is fixed the firm shows each client the
//! bid it confirmed per fund and asks what the lead manager allotted. The client answers per fund
//! with the allotted quantity (0 = 미배정) and the lock-up it was allotted under. The checks catch
//! what matters now: a lock-up other than the one committed (priority and set-aside tranches
//! depend on it), more shares than bid for, and an amount due beyond the fund's size. Confirmed
//! allotments record when each fund's shares may first be sold, which phase 3 starts from.

use super::reading::{Number, Unit, fund_of_line, numbers, reply_lines, says_not_allotted, take_lockup};
use super::{Context, FundLine, FundLines, LineError, LineInput, ReplyError, Severity};
use crate::domain::client::Client;
use crate::domain::ids::FundId;
use crate::domain::lockup::LockUp;
use crate::domain::money::Price;
use crate::domain::money::{Quantity, Won, bid_amount, parse_korean_number};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The bid a client confirmed for one fund in book-building: what its allotment is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommittedBid {
    pub fund_id: FundId,
    pub price: Price,
    pub quantity: Quantity,
    pub lockup: LockUp,
}

impl FundLine for CommittedBid {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

/// What the firm sends: the client's confirmed bids, whose allotment it asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AllotmentAdvice {
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<CommittedBid>, min_items = 1)]
    pub lines: FundLines<CommittedBid>,
}

impl From<&super::bid::BidAnswer> for AllotmentAdvice {
    /// The confirmed bids, each fund's allotment to be asked for.
    fn from(bid: &super::bid::BidAnswer) -> Self {
        let lines = bid.lines.map_same_funds(|b| CommittedBid {
            fund_id: b.fund_id.clone(),
            price: b.price,
            quantity: b.quantity,
            lockup: b.lockup,
        });
        AllotmentAdvice { lines }
    }
}

/// One fund's allotment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AllotmentLine {
    pub fund_id: FundId,
    pub allotted: Allotted,
}

impl FundLine for AllotmentLine {
    fn fund_id(&self) -> &FundId {
        &self.fund_id
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Allotted {
    /// Shares allotted, under a lock-up.
    Shares { quantity: Quantity, lockup: LockUp },
    /// 미배정: nothing allotted.
    None,
}

/// When one fund's allotted shares may first be sold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Release {
    pub fund_id: FundId,
    pub quantity: Quantity,
    pub lockup: LockUp,
    /// A KST date: the listing date plus the lock-up, on a KRX business day.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AllotmentAnswer {
    /// One line per fund, each fund at most once.
    #[schema(value_type = Vec<AllotmentLine>, min_items = 1)]
    pub lines: FundLines<AllotmentLine>,
    /// Recorded when staff confirm the allotment, from the listing date then in force.
    #[serde(default)]
    pub releases: Vec<Release>,
}

impl AllotmentAnswer {
    pub fn new(lines: FundLines<AllotmentLine>) -> Self {
        AllotmentAnswer { lines, releases: Vec::new() }
    }

    /// The answer with each allotted fund's first sale date, computed from the stock's listing
    /// date; unchanged when the process has no stock or the rule is not configured.
    pub fn with_releases(self, ctx: &Context<'_>) -> Self {
        let Some(stock) = ctx.stock else { return self };
        let listing = stock.schedule().dates().listing;
        let releases = self
            .lines
            .iter()
            .filter_map(|l| match l.allotted {
                Allotted::Shares { quantity, lockup } => {
                    let date = ctx.regulation.first_sale_date(lockup, listing, ctx.calendar).ok()?;
                    Some(Release { fund_id: l.fund_id.clone(), quantity, lockup, date })
                }
                Allotted::None => None,
            })
            .collect();
        AllotmentAnswer { releases, ..self }
    }
}

/// Something a check found about one fund's allotment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
// Each phase has a `Finding`: named apart in the OpenAPI document, or one would replace the others.
#[schema(as = AllotmentFinding)]
pub enum Finding {
    /// Allotted under another lock-up than the one committed in the bid.
    LockUpDiffers { fund_id: FundId, committed: LockUp, allotted: LockUp },
    /// More shares than the fund bid for: cannot be right.
    OverBid { fund_id: FundId, bid: Quantity, allotted: Quantity },
    /// The amount due (allotted × final price) is beyond the fund's size.
    ExceedsAbilityToPay { fund_id: FundId, amount: Won, aum: Won },
    /// What was allotted: the share of the bid in tenths of a percent and, once the final price is
    /// set, the amount due.
    Allotted { fund_id: FundId, quantity: Quantity, ratio_permille: u64, amount_due: Option<Won> },
    /// 미배정.
    NotAllotted { fund_id: FundId },
    /// A fund that bid, with no allotment reported.
    Missing { fund_id: FundId },
    /// An allotment for a fund that made no confirmed bid.
    Unexpected { fund_id: FundId },
}

impl Finding {
    pub fn severity(&self) -> Severity {
        match self {
            Finding::LockUpDiffers { .. }
            | Finding::OverBid { .. }
            | Finding::ExceedsAbilityToPay { .. }
            | Finding::Unexpected { .. } => Severity::Error,
            Finding::Missing { .. } => Severity::Warning,
            Finding::Allotted { .. } | Finding::NotAllotted { .. } => Severity::Info,
        }
    }
}

/// The allotment against the bids, fund by fund, then the allotments nobody bid for. Needs no
/// prices: the amounts due are [`check`]'s.
pub fn compare(advice: &AllotmentAdvice, answer: &AllotmentAnswer) -> Vec<Finding> {
    compared(advice, answer, None, |_| None)
}

/// [`compare`], with the amount due at the stock's final price against each fund's size.
pub fn check(advice: &AllotmentAdvice, answer: &AllotmentAnswer, ctx: &Context<'_>) -> Vec<Finding> {
    let final_price = ctx.stock.and_then(|s| s.final_price());
    compared(advice, answer, final_price, |fund| ctx.client.fund(fund).map(|f| f.aum))
}

fn compared(
    advice: &AllotmentAdvice,
    answer: &AllotmentAnswer,
    final_price: Option<Price>,
    aum: impl Fn(&FundId) -> Option<Won>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for bid in &advice.lines {
        let fund_id = bid.fund_id.clone();
        let Some(line) = answer.lines.of(&bid.fund_id) else {
            out.push(Finding::Missing { fund_id });
            continue;
        };
        let Allotted::Shares { quantity, lockup } = line.allotted else {
            out.push(Finding::NotAllotted { fund_id });
            continue;
        };
        if quantity > bid.quantity {
            out.push(Finding::OverBid { fund_id: fund_id.clone(), bid: bid.quantity, allotted: quantity });
        }
        if lockup != bid.lockup {
            out.push(Finding::LockUpDiffers { fund_id: fund_id.clone(), committed: bid.lockup, allotted: lockup });
        }
        let amount_due = final_price.map(|p| bid_amount(p, quantity).unwrap_or(Won::new(u64::MAX)));
        if let (Some(amount), Some(aum)) = (amount_due, aum(&fund_id))
            && amount > aum
        {
            out.push(Finding::ExceedsAbilityToPay { fund_id: fund_id.clone(), amount, aum });
        }
        let ratio = u128::from(quantity.get()) * 1_000 / u128::from(bid.quantity.get());
        let ratio_permille = u64::try_from(ratio).unwrap_or(u64::MAX);
        out.push(Finding::Allotted { fund_id, quantity, ratio_permille, amount_due });
    }
    out.extend(
        answer
            .lines
            .iter()
            .filter(|l| advice.lines.of(&l.fund_id).is_none())
            .map(|l| Finding::Unexpected { fund_id: l.fund_id.clone() }),
    );
    out
}

/// Reads staff's fields (quantity `0` or `미배정` for nothing allotted) into one fund's allotment.
pub fn parse_line(client: &Client, input: &LineInput) -> Result<AllotmentLine, LineError> {
    let fund = input.fund.trim().to_owned();
    let account = client.fund_named(&fund).ok_or_else(|| LineError::UnknownFund { fund: fund.clone() })?;
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if present(&input.price).is_some() {
        return Err(LineError::Invalid {
            fund,
            reason: "an allotment has no price of its own: the stock's final price applies".into(),
        });
    }
    let quantity = present(&input.quantity).ok_or_else(|| LineError::MissingQuantity { fund: fund.clone() })?;
    let allotted = if says_not_allotted(&quantity) {
        Allotted::None
    } else {
        let n = parse_korean_number(quantity.trim_end_matches('주').trim())
            .map_err(|e| LineError::Invalid { fund: fund.clone(), reason: e.to_string() })?;
        match Quantity::new(n) {
            Err(_) => Allotted::None,
            Ok(quantity) => {
                let lockup = present(&input.lockup).ok_or_else(|| LineError::MissingLockUp { fund: fund.clone() })?;
                let lockup = lockup
                    .parse::<LockUp>()
                    .map_err(|e| LineError::Invalid { fund: fund.clone(), reason: e.to_string() })?;
                Allotted::Shares { quantity, lockup }
            }
        }
    };
    Ok(AllotmentLine { fund_id: account.id.clone(), allotted })
}

/// Reads a client's allotment from its reply: `1,200주 / 3개월`, `미배정`, one line per fund with
/// the fund's name when the client has several. Amounts in won (`20,400,000원`) are ignored: the
/// amount due follows from the final price.
pub fn parse_reply(text: &str, client: &Client, advised: &[&FundId]) -> Result<AllotmentAnswer, ReplyError> {
    let mut out = Vec::new();
    for (i, raw) in reply_lines(text)?.into_iter().enumerate() {
        let line = i + 1;
        let (fund, line_text) = fund_of_line(raw, line, client, advised)?;
        let (lockup, rest) = take_lockup(&line_text);
        let numbers = numbers(&rest);
        let quantity = allotted_quantity(&numbers, &rest).filter(|q| *q > 0);
        // "미배정" counts only where no shares are named: "1,200주 (추가배정 없음)" is 1,200.
        let input = if quantity.is_none() && says_not_allotted(&line_text) {
            LineInput { fund: fund.id.to_string(), quantity: Some("미배정".into()), ..LineInput::default() }
        } else {
            let quantity = quantity.or_else(|| allotted_quantity(&numbers, &rest));
            if quantity.is_none() && lockup.is_none() {
                return Err(ReplyError::Unreadable { line, text: raw.to_owned() });
            }
            LineInput {
                fund: fund.id.to_string(),
                price: None,
                quantity: quantity.map(|q| q.to_string()),
                lockup: lockup.map(|l| l.korean().to_owned()),
                ..LineInput::default()
            }
        };
        out.push(parse_line(client, &input).map_err(|error| ReplyError::Line { line, error })?);
    }
    Ok(AllotmentAnswer::new(FundLines::new(out)?))
}

/// The quantity allotted among the numbers of a line: in shares (`주`) rather than won, and of
/// several, the one written next to 배정 ("신청 3,000주 중 1,200주 배정").
fn allotted_quantity(numbers: &[Number], text: &str) -> Option<u64> {
    let shares: Vec<&Number> = numbers.iter().filter(|n| n.unit == Unit::Shares).collect();
    let candidates: Vec<&Number> =
        if shares.is_empty() { numbers.iter().filter(|n| n.unit == Unit::None).collect() } else { shares };
    let word = text.find("배정").map(|byte| text[..byte].chars().count());
    match (candidates.as_slice(), word) {
        ([], _) => None,
        ([only], _) | ([only, ..], None) => Some(only.value),
        (several, Some(at)) => several.iter().min_by_key(|n| n.at.abs_diff(at)).map(|n| n.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::KrxCalendar;
    use crate::domain::regulation::Regulation;
    use crate::domain::stock::Stock;

    fn saebyeok() -> Client {
        crate::demo::clients().into_iter().find(|c| c.id.as_str() == "saebyeok").unwrap()
    }

    fn nuri() -> Client {
        crate::demo::clients().into_iter().find(|c| c.id.as_str() == "nuri").unwrap()
    }

    fn q(n: u64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    fn committed(fund: &str, qty: u64, lockup: LockUp) -> CommittedBid {
        CommittedBid { fund_id: fund.parse().unwrap(), price: Price::new(17_500).unwrap(), quantity: q(qty), lockup }
    }

    fn advice(bids: Vec<CommittedBid>) -> AllotmentAdvice {
        AllotmentAdvice { lines: FundLines::new(bids).unwrap() }
    }

    fn shares(fund: &str, qty: u64, lockup: LockUp) -> AllotmentLine {
        AllotmentLine { fund_id: fund.parse().unwrap(), allotted: Allotted::Shares { quantity: q(qty), lockup } }
    }

    fn none(fund: &str) -> AllotmentLine {
        AllotmentLine { fund_id: fund.parse().unwrap(), allotted: Allotted::None }
    }

    fn answer(lines: Vec<AllotmentLine>) -> AllotmentAnswer {
        AllotmentAnswer::new(FundLines::new(lines).unwrap())
    }

    /// (가상)한빛로보틱스 priced at 17,000원.
    fn hanbit() -> Stock {
        let mut stock = crate::demo::hanbit();
        stock.set_final_price(Price::new(17_000).unwrap(), "2026-03-24".parse().unwrap()).unwrap();
        stock
    }

    fn ctx<'a>(client: &'a Client, stock: &'a Stock) -> Context<'a> {
        Context {
            client,
            stock: Some(stock),
            today: "2026-03-26".parse().unwrap(),
            regulation: Regulation::builtin(),
            calendar: KrxCalendar::builtin(),
        }
    }

    #[test]
    fn replies_in_the_forms_clients_write() {
        let c = saebyeok();
        let (hy, pv): (FundId, FundId) = ("hy".parse().unwrap(), "pv-kv".parse().unwrap());
        let advised = [&hy, &pv];
        assert_eq!(
            parse_reply("하이일드 1,200주 / 1개월\n사모 코벤 미배정", &c, &advised),
            Ok(answer(vec![shares("hy", 1_200, LockUp::Months1), none("pv-kv")]))
        );
        assert_eq!(
            parse_reply("하이일드 1200 확약1개월 20,400,000원; 사모코벤 0주", &c, &advised),
            Ok(answer(vec![shares("hy", 1_200, LockUp::Months1), none("pv-kv")])),
            "amounts in won are not quantities"
        );
        let n = nuri();
        let kv: FundId = "kv".parse().unwrap();
        assert_eq!(parse_reply("3,000주 3개월", &n, &[&kv]), Ok(answer(vec![shares("kv", 3_000, LockUp::Months3)])));
        assert_eq!(parse_reply("배정 없음", &n, &[&kv]), Ok(answer(vec![none("kv")])));
        assert_eq!(parse_reply("2천주 미확약", &n, &[&kv]), Ok(answer(vec![shares("kv", 2_000, LockUp::None)])));
        assert_eq!(parse_reply("1만2천주 3개월", &n, &[&kv]), Ok(answer(vec![shares("kv", 12_000, LockUp::Months3)])));
        assert_eq!(
            parse_reply("신청 3,000주 중 1,200주 배정 3개월", &n, &[&kv]),
            Ok(answer(vec![shares("kv", 1_200, LockUp::Months3)])),
            "the number next to 배정"
        );
        assert_eq!(
            parse_reply("1,200주 배정 (신청 3,000주) 3개월", &n, &[&kv]),
            Ok(answer(vec![shares("kv", 1_200, LockUp::Months3)]))
        );
        assert_eq!(
            parse_reply("1,200주 3개월 (추가배정 없음)", &n, &[&kv]),
            Ok(answer(vec![shares("kv", 1_200, LockUp::Months3)])),
            "shares named: not 미배정"
        );
        assert_eq!(
            parse_reply("1,200주 6개월 특이사항 없음", &n, &[&kv]),
            Ok(answer(vec![shares("kv", 1_200, LockUp::Months6)]))
        );
        assert_eq!(parse_reply("배정 0주", &n, &[&kv]), Ok(answer(vec![none("kv")])));
        assert!(
            parse_reply("감사합니다", &c, &advised).is_err_and(|e| e.holds_no_answer()),
            "chat from a client with several funds is no answer either"
        );
        assert!(matches!(
            parse_reply("3,000주", &n, &[&kv]),
            Err(ReplyError::Line { line: 1, error: LineError::MissingLockUp { .. } })
        ));
        assert!(parse_reply("감사합니다", &n, &[&kv]).is_err_and(|e| e.holds_no_answer()));
        assert_eq!(parse_reply("1,200주 / 1개월", &c, &advised), Err(ReplyError::WhichFund { line: 1 }));
    }

    #[test]
    fn staff_fields_read_zero_as_not_allotted_and_refuse_a_price() {
        let c = nuri();
        let line = |quantity: &str, lockup: Option<&str>| {
            parse_line(
                &c,
                &LineInput {
                    fund: "공모 코벤".into(),
                    price: None,
                    quantity: Some(quantity.into()),
                    lockup: lockup.map(Into::into),
                    ..LineInput::default()
                },
            )
        };
        assert_eq!(line("0", None), Ok(none("kv")));
        assert_eq!(line("미배정", None), Ok(none("kv")));
        assert_eq!(line("1,200주", Some("3개월")), Ok(shares("kv", 1_200, LockUp::Months3)));
        assert!(matches!(line("1,200", None), Err(LineError::MissingLockUp { .. })));
        assert!(matches!(line("many", Some("3개월")), Err(LineError::Invalid { .. })));
        let priced =
            LineInput { price: Some("17,000".into()), ..LineInput { fund: "kv".into(), ..Default::default() } };
        assert!(matches!(parse_line(&c, &priced), Err(LineError::Invalid { .. })));
    }

    #[test]
    fn a_matching_allotment_reports_its_ratio_and_amount_due() {
        let c = nuri();
        let stock = hanbit();
        let found = check(
            &advice(vec![committed("kv", 500_000, LockUp::Months3)]),
            &answer(vec![shares("kv", 61_500, LockUp::Months3)]),
            &ctx(&c, &stock),
        );
        assert_eq!(
            found,
            vec![Finding::Allotted {
                fund_id: "kv".parse().unwrap(),
                quantity: q(61_500),
                ratio_permille: 123,
                amount_due: Some(Won::new(1_045_500_000)),
            }]
        );
        assert!(found.iter().all(|f| f.severity() == Severity::Info));
    }

    #[test]
    fn a_lockup_other_than_committed_and_more_than_bid_are_errors() {
        let c = saebyeok();
        let stock = hanbit();
        let found = check(
            &advice(vec![committed("hy", 300_000, LockUp::Months1), committed("pv-kv", 160_000, LockUp::None)]),
            &answer(vec![shares("hy", 30_000, LockUp::None), shares("pv-kv", 200_000, LockUp::None)]),
            &ctx(&c, &stock),
        );
        let errors: Vec<&Finding> = found.iter().filter(|f| f.severity() == Severity::Error).collect();
        assert_eq!(
            errors,
            vec![
                &Finding::LockUpDiffers {
                    fund_id: "hy".parse().unwrap(),
                    committed: LockUp::Months1,
                    allotted: LockUp::None
                },
                &Finding::OverBid { fund_id: "pv-kv".parse().unwrap(), bid: q(160_000), allotted: q(200_000) },
            ]
        );
    }

    #[test]
    fn amount_due_beyond_the_fund_missing_funds_and_strangers() {
        let dasom = crate::demo::clients().into_iter().find(|c| c.id.as_str() == "dasom").unwrap();
        let stock = hanbit();
        // 1,000,000 × 17,000 = 170억 against a 150억 fund.
        let found = check(
            &advice(vec![committed("hedge", 1_000_000, LockUp::None)]),
            &answer(vec![shares("hedge", 1_000_000, LockUp::None)]),
            &ctx(&dasom, &stock),
        );
        assert!(found.contains(&Finding::ExceedsAbilityToPay {
            fund_id: "hedge".parse().unwrap(),
            amount: Won::new(17_000_000_000),
            aum: Won::new(15_000_000_000),
        }));
        let found = compare(
            &advice(vec![committed("hy", 300_000, LockUp::Months1)]),
            &answer(vec![shares("pv-kv", 10, LockUp::None)]),
        );
        assert_eq!(
            found,
            vec![
                Finding::Missing { fund_id: "hy".parse().unwrap() },
                Finding::Unexpected { fund_id: "pv-kv".parse().unwrap() }
            ]
        );
    }

    #[test]
    fn confirmation_records_each_funds_first_sale_date() {
        let c = saebyeok();
        let stock = hanbit();
        let confirmed =
            answer(vec![shares("hy", 1_200, LockUp::Months1), none("pv-kv")]).with_releases(&ctx(&c, &stock));
        assert_eq!(
            confirmed.releases,
            vec![Release {
                fund_id: "hy".parse().unwrap(),
                quantity: q(1_200),
                lockup: LockUp::Months1,
                date: "2026-05-07".parse().unwrap()
            }]
        );
        let json = serde_json::to_value(&confirmed).unwrap();
        assert_eq!(json["lines"][1], serde_json::json!({ "fund_id": "pv-kv", "allotted": { "result": "none" } }));
        assert_eq!(serde_json::from_value::<AllotmentAnswer>(json).unwrap(), confirmed);
    }
}
