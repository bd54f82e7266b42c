//! Phase 3's processes, proposed from phase 2: a stock's confirmed allotments say which fund may
//! first sell how many shares on which day (listing day for shares with no lock-up, then each
//! release date), so the firm gets one draft sell process per sale date with its audience, kicking
//! off at 08:00 KST (before the 08:30 pre-open).

use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::{ClientId, FundId};
use crate::domain::lockup::LockUp;
use crate::domain::money::Quantity;
use crate::domain::phase::allotment::{AllotmentAnswer, Allotted};
use crate::domain::regulation::{Regulation, RegulationError};
use chrono::{NaiveDate, NaiveTime};
use std::collections::BTreeMap;

/// Sell processes kick off before the 08:30 pre-open, so clients can place orders for it.
pub const SELL_KICKOFF: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// Statements are asked for at 09:00 KST on settlement day.
pub const STATEMENT_KICKOFF: NaiveTime = match NaiveTime::from_hms_opt(9, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// KRX settles a sale two business days after it (T+2): the statement is final then.
pub const SETTLEMENT_DAYS: u32 = 2;

/// One fund's shares that unlock on a sale date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlocking {
    pub fund_id: FundId,
    pub quantity: Quantity,
}

/// A sale date and who may first sell on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleDay {
    /// The lock-up whose shares unlock that day (미확약: listing day).
    pub lockup: LockUp,
    pub date: NaiveDate,
    pub clients: BTreeMap<ClientId, Vec<Unlocking>>,
}

/// The sale dates of a stock listed on `listing`, from each client's confirmed allotment, in date
/// order: one per lock-up some fund was allotted under. The dates are computed afresh from the
/// listing date in force (an amendment after the allotments were confirmed moves them), by the
/// dated release rule.
pub fn sale_days(
    allotments: &BTreeMap<ClientId, AllotmentAnswer>,
    listing: NaiveDate,
    regulation: &Regulation,
    calendar: &KrxCalendar,
) -> Result<Vec<SaleDay>, RegulationError> {
    let mut by_lockup: BTreeMap<LockUp, BTreeMap<ClientId, Vec<Unlocking>>> = BTreeMap::new();
    for (client, answer) in allotments {
        for line in answer.lines.iter() {
            if let Allotted::Shares { quantity, lockup } = line.allotted {
                by_lockup
                    .entry(lockup)
                    .or_default()
                    .entry(client.clone())
                    .or_default()
                    .push(Unlocking { fund_id: line.fund_id.clone(), quantity });
            }
        }
    }
    let mut days = by_lockup
        .into_iter()
        .map(|(lockup, clients)| {
            Ok(SaleDay { lockup, date: regulation.first_sale_date(lockup, listing, calendar)?, clients })
        })
        .collect::<Result<Vec<_>, RegulationError>>()?;
    days.sort_by_key(|d| (d.date, d.lockup));
    Ok(days)
}

/// The day a sale on `sale_date` settles, when its statement is asked for.
pub fn settlement_date(sale_date: NaiveDate, calendar: &KrxCalendar) -> NaiveDate {
    calendar.add_business_days(calendar.on_or_after(sale_date), SETTLEMENT_DAYS)
}

/// A short, stable name for a lock-up in process ids: `listing`, `15d`, `1m`, `3m`, `6m`.
pub fn lockup_slug(lockup: LockUp) -> &'static str {
    match lockup {
        LockUp::None => "listing",
        LockUp::Days15 => "15d",
        LockUp::Months1 => "1m",
        LockUp::Months3 => "3m",
        LockUp::Months6 => "6m",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phase::FundLines;
    use crate::domain::phase::allotment::AllotmentLine;

    fn answer(lines: &[(&str, Option<(u64, LockUp)>)]) -> AllotmentAnswer {
        let lines = lines
            .iter()
            .map(|(fund, allotted)| AllotmentLine {
                fund_id: fund.parse().unwrap(),
                allotted: match allotted {
                    Some((q, l)) => Allotted::Shares { quantity: Quantity::new(*q).unwrap(), lockup: *l },
                    None => Allotted::None,
                },
            })
            .collect();
        AllotmentAnswer::new(FundLines::new(lines).unwrap())
    }

    #[test]
    fn the_demo_allotments_make_three_sale_days() {
        // As phases_demo confirms them for (가상)한빛로보틱스, listed Tuesday 2026-04-07.
        let allotments: BTreeMap<ClientId, AllotmentAnswer> = [
            ("saebyeok", answer(&[("hy", Some((12_000, LockUp::None))), ("pv-kv", None)])),
            ("nuri", answer(&[("kv", Some((61_500, LockUp::Months3)))])),
            ("gaon", answer(&[("ipo", Some((500_000, LockUp::Months1)))])),
            ("dasom", answer(&[("hedge", Some((50_000, LockUp::None)))])),
        ]
        .into_iter()
        .map(|(c, a)| (c.parse().unwrap(), a))
        .collect();
        let days = sale_days(&allotments, "2026-04-07".parse().unwrap(), Regulation::builtin(), KrxCalendar::builtin())
            .unwrap();
        let summary: Vec<(String, LockUp, Vec<String>)> = days
            .iter()
            .map(|d| (d.date.to_string(), d.lockup, d.clients.keys().map(ToString::to_string).collect()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("2026-04-07".into(), LockUp::None, vec!["dasom".into(), "saebyeok".into()]),
                ("2026-05-07".into(), LockUp::Months1, vec!["gaon".into()]),
                ("2026-07-07".into(), LockUp::Months3, vec!["nuri".into()]),
            ]
        );
        assert_eq!(days[0].clients[&"saebyeok".parse::<ClientId>().unwrap()][0].quantity.get(), 12_000);
        // Moved by an amendment: listed a week later, every date moves with it.
        let moved =
            sale_days(&allotments, "2026-04-14".parse().unwrap(), Regulation::builtin(), KrxCalendar::builtin())
                .unwrap();
        assert_eq!(moved[1].date.to_string(), "2026-05-14");
    }

    #[test]
    fn statements_settle_two_business_days_later() {
        let cal = KrxCalendar::builtin();
        let t2 = |d: &str| settlement_date(d.parse().unwrap(), cal).to_string();
        assert_eq!(t2("2026-04-07"), "2026-04-09");
        // Thursday → Monday.
        assert_eq!(t2("2026-04-09"), "2026-04-13");
        // 2026-05-07 (Thu) → 05-11 (Mon).
        assert_eq!(t2("2026-05-07"), "2026-05-11");
    }
}
