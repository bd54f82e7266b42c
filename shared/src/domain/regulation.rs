//! Regulatory parameters that change every year or two (tick sizes, the transaction tax, price
//! limits, when lock-ups release), kept as dated configuration in `config/regulation.json`: each entry applies from its
//! date until the next entry's date.

use crate::domain::calendar::KrxCalendar;
use crate::domain::lockup::LockUp;
use crate::domain::market::Market;
use crate::domain::money::{Price, Won};
use chrono::NaiveDate;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegulationError {
    #[error("regulation file is not valid: {0}")]
    Invalid(String),
    #[error("no {what} is configured for {date}")]
    NotConfigured { what: &'static str, date: NaiveDate },
}

#[derive(Debug, Clone, Deserialize)]
struct Dated<T> {
    from: NaiveDate,
    #[serde(flatten)]
    value: T,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TickStep {
    pub from_price: u64,
    pub tick: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TickTable {
    pub steps: Vec<TickStep>,
}

/// Each market's tax as its components in basis points (KOSPI's 0.20% is 증권거래세 0.05% plus
/// 농어촌특별세 0.15%): each component is truncated to whole won on its own, as brokers do.
#[derive(Debug, Clone, Deserialize)]
pub struct TaxRates {
    pub kospi_basis_points: Vec<u32>,
    pub kosdaq_basis_points: Vec<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PriceLimits {
    pub listing_day_min_percent: u32,
    pub listing_day_max_percent: u32,
    pub daily_percent: u32,
}

/// The range of brokerage commission rates a statement may show, in hundredths of a basis point
/// of the gross amount (10 = 0.001%, 5000 = 0.5%): outside it a commission is likely misread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct CommissionRange {
    pub min_hundredth_basis_points: u32,
    pub max_hundredth_basis_points: u32,
}

/// Hundredths of a basis point in one.
const PER_MILLION: u128 = 1_000_000;

impl CommissionRange {
    /// Whether `commission` on a sale of `gross` is within the range (both ends included).
    pub fn accepts(self, gross: Won, commission: Won) -> bool {
        let paid = u128::from(commission.get()) * PER_MILLION;
        let gross = u128::from(gross.get());
        gross * u128::from(self.min_hundredth_basis_points) <= paid
            && paid <= gross * u128::from(self.max_hundredth_basis_points)
    }

    /// The range in won for a sale of `gross`: the lowest and highest commission accepted.
    pub fn bounds(self, gross: Won) -> (Won, Won) {
        let gross = u128::from(gross.get());
        let low = (gross * u128::from(self.min_hundredth_basis_points)).div_ceil(PER_MILLION);
        let high = gross * u128::from(self.max_hundredth_basis_points) / PER_MILLION;
        let won = |v: u128| Won::new(u64::try_from(v).unwrap_or(u64::MAX));
        (won(low), won(high))
    }
}

/// When locked shares may first be sold: the listing date plus the lock-up period, moved to the
/// next KRX business day; one day earlier when the listing day counts as the period's first day.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ReleaseRule {
    pub listing_day_counts: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Regulation {
    tick_tables: Vec<Dated<TickTable>>,
    transaction_tax: Vec<Dated<TaxRates>>,
    price_limits: Vec<Dated<PriceLimits>>,
    lockup_release: Vec<Dated<ReleaseRule>>,
    commission: Vec<Dated<CommissionRange>>,
}

fn in_force<'a, T>(entries: &'a [Dated<T>], date: NaiveDate, what: &'static str) -> Result<&'a T, RegulationError> {
    entries.iter().rev().find(|e| e.from <= date).map(|e| &e.value).ok_or(RegulationError::NotConfigured { what, date })
}

impl Regulation {
    /// The parameters shipped with the code.
    pub fn builtin() -> &'static Regulation {
        static REG: OnceLock<Regulation> = OnceLock::new();
        REG.get_or_init(|| {
            // Part of the build and parsed by a test; a broken edit fails CI, not users.
            Regulation::parse(include_str!("../../config/regulation.json"))
                .unwrap_or_else(|e| panic!("config/regulation.json: {e}"))
        })
    }

    pub fn parse(json: &str) -> Result<Regulation, RegulationError> {
        let reg: Regulation = serde_json::from_str(json).map_err(|e| RegulationError::Invalid(e.to_string()))?;
        reg.check()?;
        Ok(reg)
    }

    fn check(&self) -> Result<(), RegulationError> {
        let invalid = |s: &str| Err(RegulationError::Invalid(s.to_owned()));
        let sorted = |dates: Vec<NaiveDate>| !dates.is_empty() && dates.windows(2).all(|w| w[0] < w[1]);
        if !sorted(self.tick_tables.iter().map(|e| e.from).collect())
            || !sorted(self.transaction_tax.iter().map(|e| e.from).collect())
            || !sorted(self.price_limits.iter().map(|e| e.from).collect())
            || !sorted(self.lockup_release.iter().map(|e| e.from).collect())
            || !sorted(self.commission.iter().map(|e| e.from).collect())
        {
            return invalid("every list needs at least one entry, in increasing `from` order");
        }
        if self.commission.iter().any(|c| c.value.min_hundredth_basis_points > c.value.max_hundredth_basis_points) {
            return invalid("a commission range's minimum must not exceed its maximum");
        }
        for table in &self.tick_tables {
            let steps = &table.value.steps;
            if steps.first().map(|s| s.from_price) != Some(0)
                || steps.windows(2).any(|w| w[0].from_price >= w[1].from_price)
                || steps.iter().any(|s| s.tick == 0 || !s.from_price.is_multiple_of(s.tick))
            {
                return invalid(
                    "tick steps must start at price 0, increase, and have non-zero ticks that divide their start price",
                );
            }
        }
        Ok(())
    }

    /// The tick size for a price on `date`.
    pub fn tick_size(&self, date: NaiveDate, price: Price) -> Result<u64, RegulationError> {
        let table = in_force(&self.tick_tables, date, "tick table")?;
        Ok(table.steps.iter().rev().find(|s| s.from_price <= price.get()).map_or(1, |s| s.tick))
    }

    /// Whether `price` lies on the KRX tick grid on `date`.
    pub fn is_on_tick(&self, date: NaiveDate, price: Price) -> Result<bool, RegulationError> {
        Ok(price.get().is_multiple_of(self.tick_size(date, price)?))
    }

    /// The securities transaction tax on a sale of `amount`, truncated to whole won as brokers do.
    pub fn transaction_tax(&self, date: NaiveDate, market: Market, amount: Won) -> Result<Won, RegulationError> {
        let rates = in_force(&self.transaction_tax, date, "transaction tax")?;
        let components = match market {
            Market::Kospi => &rates.kospi_basis_points,
            Market::Kosdaq => &rates.kosdaq_basis_points,
        };
        let tax: u128 = components.iter().map(|bp| u128::from(amount.get()) * u128::from(*bp) / 10_000).sum();
        Ok(Won::new(u64::try_from(tax).unwrap_or(u64::MAX)))
    }

    /// The commission rates a statement of a sale on `date` may show.
    pub fn commission_range(&self, date: NaiveDate) -> Result<CommissionRange, RegulationError> {
        in_force(&self.commission, date, "commission range").copied()
    }

    pub fn price_limits(&self, date: NaiveDate) -> Result<PriceLimits, RegulationError> {
        in_force(&self.price_limits, date, "price limits").copied()
    }

    /// The first day shares under `lockup` may be sold, for a stock listed on `listing` (the
    /// listing day itself for shares with no lock-up).
    pub fn first_sale_date(
        &self,
        lockup: LockUp,
        listing: NaiveDate,
        calendar: &KrxCalendar,
    ) -> Result<NaiveDate, RegulationError> {
        let rule = in_force(&self.lockup_release, listing, "lock-up release rule")?;
        let end = lockup.release_date(listing).unwrap_or(listing);
        let first = if rule.listing_day_counts && end > listing { end.pred_opt().unwrap_or(end) } else { end };
        Ok(calendar.on_or_after(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn tick(price: u64) -> u64 {
        Regulation::builtin().tick_size(d(2026, 3, 16), Price::new(price).unwrap()).unwrap()
    }

    #[test]
    fn every_tick_table_boundary() {
        let cases = [
            (1, 1),
            (1_999, 1),
            (2_000, 5),
            (4_999, 5),
            (5_000, 10),
            (19_999, 10),
            (20_000, 50),
            (49_999, 50),
            (50_000, 100),
            (199_999, 100),
            (200_000, 500),
            (499_999, 500),
            (500_000, 1_000),
            (3_000_000, 1_000),
        ];
        for (price, expected) in cases {
            assert_eq!(tick(price), expected, "tick at {price}");
        }
    }

    #[test]
    fn grid_checks_use_the_tick_in_force() {
        let reg = Regulation::builtin();
        let on = |p: u64| reg.is_on_tick(d(2026, 3, 16), Price::new(p).unwrap()).unwrap();
        assert!(on(17_000) && on(17_010) && on(2_005) && on(48_050));
        assert!(!on(16_995) && !on(2_003) && !on(48_020));
        assert_eq!(
            reg.tick_size(d(2022, 12, 1), Price::new(1_000).unwrap()),
            Err(RegulationError::NotConfigured { what: "tick table", date: d(2022, 12, 1) })
        );
    }

    #[test]
    fn transaction_tax_is_dated() {
        let reg = Regulation::builtin();
        let amount = Won::new(10_000_000);
        assert_eq!(reg.transaction_tax(d(2026, 4, 7), Market::Kosdaq, amount), Ok(Won::new(20_000)));
        assert_eq!(reg.transaction_tax(d(2025, 6, 1), Market::Kospi, amount), Ok(Won::new(15_000)));
        assert_eq!(reg.transaction_tax(d(2024, 6, 1), Market::Kospi, amount), Ok(Won::new(18_000)));
        // Truncated, not rounded: 0.20% of 999원 is 1.998원.
        assert_eq!(reg.transaction_tax(d(2026, 4, 7), Market::Kosdaq, Won::new(999)), Ok(Won::new(1)));
        // KOSPI truncates each component: 0.05% of 1,333원 → 0, 0.15% → 1 (not 0.20% → 2).
        assert_eq!(reg.transaction_tax(d(2026, 4, 7), Market::Kospi, Won::new(1_333)), Ok(Won::new(1)));
        assert_eq!(reg.transaction_tax(d(2026, 4, 7), Market::Kosdaq, Won::new(1_333)), Ok(Won::new(2)));
    }

    #[test]
    fn price_limits_on_listing_day() {
        let limits = Regulation::builtin().price_limits(d(2026, 4, 7)).unwrap();
        assert_eq!((limits.listing_day_min_percent, limits.listing_day_max_percent), (60, 400));
        assert_eq!(limits.daily_percent, 30);
    }

    #[test]
    fn lockups_release_on_the_next_business_day_after_their_period() {
        let reg = Regulation::builtin();
        let cal = KrxCalendar::builtin();
        let first = |l: LockUp, listing: NaiveDate| reg.first_sale_date(l, listing, cal).unwrap().to_string();
        // (가상)한빛로보틱스 lists on Tuesday 2026-04-07.
        let listing = d(2026, 4, 7);
        assert_eq!(first(LockUp::None, listing), "2026-04-07");
        assert_eq!(first(LockUp::Days15, listing), "2026-04-22");
        assert_eq!(first(LockUp::Months1, listing), "2026-05-07");
        assert_eq!(first(LockUp::Months3, listing), "2026-07-07");
        assert_eq!(first(LockUp::Months6, listing), "2026-10-07");
        // Listed Friday 2026-04-10: 15 days later is Saturday 04-25, so Monday 04-27.
        assert_eq!(first(LockUp::Days15, d(2026, 4, 10)), "2026-04-27");
        // One month after 2026-04-24 is 05-24, a Sunday, and 05-25 a substitute holiday.
        assert_eq!(first(LockUp::Months1, d(2026, 4, 24)), "2026-05-26");
        let counting: Regulation = Regulation::parse(
            &include_str!("../../config/regulation.json")
                .replace("\"listing_day_counts\": false", "\"listing_day_counts\": true"),
        )
        .unwrap();
        assert_eq!(counting.first_sale_date(LockUp::Days15, listing, cal).unwrap().to_string(), "2026-04-21");
        assert_eq!(counting.first_sale_date(LockUp::None, listing, cal).unwrap().to_string(), "2026-04-07");
    }

    #[test]
    fn commission_ranges_are_dated_and_inclusive() {
        let reg = Regulation::builtin();
        let range = reg.commission_range(d(2026, 4, 9)).unwrap();
        let gross = Won::new(336_000_000);
        // 0.001% is 3,360원 and 0.5% is 1,680,000원 of this sale; both ends are accepted.
        assert_eq!(range.bounds(gross), (Won::new(3_360), Won::new(1_680_000)));
        assert!(range.accepts(gross, Won::new(3_360)) && range.accepts(gross, Won::new(1_680_000)));
        assert!(!range.accepts(gross, Won::new(3_359)) && !range.accepts(gross, Won::new(1_680_001)));
        assert!(range.accepts(Won::ZERO, Won::ZERO), "nothing sold, nothing charged");
        assert_eq!(
            reg.commission_range(d(2022, 12, 31)),
            Err(RegulationError::NotConfigured { what: "commission range", date: d(2022, 12, 31) })
        );
        let inverted = include_str!("../../config/regulation.json")
            .replace("\"min_hundredth_basis_points\": 10", "\"min_hundredth_basis_points\": 9000");
        assert!(matches!(Regulation::parse(&inverted), Err(RegulationError::Invalid(_))));
    }

    #[test]
    fn malformed_regulation_files_are_refused() {
        let unsorted = r#"{"tick_tables":[{"from":"2023-01-25","steps":[{"from_price":0,"tick":1}]}],
            "transaction_tax":[{"from":"2026-01-01","kospi_basis_points":[20],"kosdaq_basis_points":[20]},
                               {"from":"2025-01-01","kospi_basis_points":[15],"kosdaq_basis_points":[15]}],
            "price_limits":[{"from":"2023-06-26","listing_day_min_percent":60,"listing_day_max_percent":400,"daily_percent":30}],
            "lockup_release":[{"from":"2023-01-01","listing_day_counts":false}]}"#;
        assert!(matches!(Regulation::parse(unsorted), Err(RegulationError::Invalid(_))));
        let zero_tick = unsorted.replace("\"tick\":1", "\"tick\":0");
        assert!(Regulation::parse(&zero_tick).is_err());
        assert!(Regulation::parse("{}").is_err());
    }
}
