//! An IPO: the stock, its price band and final price, and its schedule with KRX's ordering rules.

use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::StockId;
pub use crate::domain::market::Market;
use crate::domain::money::Price;
use crate::domain::regulation::Regulation;
use crate::domain::text::Label;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A KRX short code: six digits or capital letters (`005930`, `0088M0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StockCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a KRX stock code: six digits or capital letters, such as 005930")]
pub struct StockCodeError(pub String);

impl TryFrom<String> for StockCode {
    type Error = StockCodeError;
    fn try_from(s: String) -> Result<Self, StockCodeError> {
        let ok = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if ok { Ok(StockCode(s)) } else { Err(StockCodeError(s)) }
    }
}

impl From<StockCode> for String {
    fn from(c: StockCode) -> String {
        c.0
    }
}

impl StockCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The offering's price band; a SPAC's fixed price is a band of one price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "BandFields")]
pub struct PriceBand {
    low: Price,
    high: Price,
}

#[derive(Deserialize)]
struct BandFields {
    low: Price,
    high: Price,
}

impl TryFrom<BandFields> for PriceBand {
    type Error = StockError;
    fn try_from(b: BandFields) -> Result<Self, StockError> {
        PriceBand::new(b.low, b.high)
    }
}

impl PriceBand {
    pub fn new(low: Price, high: Price) -> Result<Self, StockError> {
        if low > high {
            return Err(StockError::BandInverted { low, high });
        }
        Ok(PriceBand { low, high })
    }

    pub fn low(self) -> Price {
        self.low
    }

    pub fn high(self) -> Price {
        self.high
    }

    pub fn contains(self, price: Price) -> bool {
        (self.low..=self.high).contains(&price)
    }
}

/// The dates of an offering, all KST calendar dates. Construction enforces KRX's order:
/// filing < book-building start ≤ book-building end < price fixing ≤ subscription start ≤
/// subscription end < payment ≤ listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleDates", into = "ScheduleDates")]
pub struct Schedule {
    dates: ScheduleDates,
}

/// The raw dates, before their order is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleDates {
    pub filing: NaiveDate,
    pub bookbuilding_start: NaiveDate,
    pub bookbuilding_end: NaiveDate,
    pub price_fixing: NaiveDate,
    pub subscription_start: NaiveDate,
    pub subscription_end: NaiveDate,
    pub payment: NaiveDate,
    pub listing: NaiveDate,
}

/// One broken ordering rule, naming both fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderViolation {
    pub earlier: &'static str,
    pub later: &'static str,
    pub earlier_date: NaiveDate,
    pub later_date: NaiveDate,
    /// `true` when the rule is "strictly before", `false` for "on or before".
    pub strict: bool,
}

impl fmt::Display for OrderViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rel = if self.strict { "before" } else { "on or before" };
        write!(f, "{} ({}) must be {rel} {} ({})", self.earlier, self.earlier_date, self.later, self.later_date)
    }
}

/// What a valid stock may still get wrong; shown to staff, never refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StockWarning {
    /// Book-building shorter than five business days for a non-SPAC (the rule since July 2023).
    ShortBookbuilding { business_days: u32 },
    /// Payment is usually two business days after the subscription ends.
    UnusualPaymentDate { expected: NaiveDate, actual: NaiveDate },
    /// A date that is not a KRX business day.
    NotABusinessDay { field: &'static str, date: NaiveDate },
    /// The holiday list does not cover this year: only weekends were considered.
    HolidaysUnknown { year: i32 },
    /// A final price off the KRX tick grid is usually a typo.
    FinalPriceOffGrid { price: Price, tick: u64 },
    /// The final price lies outside the price band (allowed, but worth a second look).
    FinalPriceOutsideBand { price: Price, low: Price, high: Price },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("schedule out of order: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    ScheduleOutOfOrder(Vec<OrderViolation>),
    #[error("price band low {low} is above high {high}")]
    BandInverted { low: Price, high: Price },
    #[error("the final price can be set only after book-building ends on {bookbuilding_end} (today is {today})")]
    FinalPriceTooEarly { bookbuilding_end: NaiveDate, today: NaiveDate },
    #[error("the offering was withdrawn")]
    Withdrawn,
}

impl From<Schedule> for ScheduleDates {
    fn from(s: Schedule) -> ScheduleDates {
        s.dates
    }
}

impl TryFrom<ScheduleDates> for Schedule {
    type Error = StockError;
    fn try_from(dates: ScheduleDates) -> Result<Self, StockError> {
        Schedule::new(dates)
    }
}

impl Schedule {
    pub fn new(dates: ScheduleDates) -> Result<Self, StockError> {
        let d = &dates;
        let rules = [
            ("filing", d.filing, "bookbuilding_start", d.bookbuilding_start, true),
            ("bookbuilding_start", d.bookbuilding_start, "bookbuilding_end", d.bookbuilding_end, false),
            ("bookbuilding_end", d.bookbuilding_end, "price_fixing", d.price_fixing, true),
            ("price_fixing", d.price_fixing, "subscription_start", d.subscription_start, false),
            ("subscription_start", d.subscription_start, "subscription_end", d.subscription_end, false),
            ("subscription_end", d.subscription_end, "payment", d.payment, true),
            ("payment", d.payment, "listing", d.listing, false),
        ];
        let violations: Vec<OrderViolation> = rules
            .into_iter()
            .filter(|&(_, a, _, b, strict)| if strict { a >= b } else { a > b })
            .map(|(earlier, earlier_date, later, later_date, strict)| OrderViolation {
                earlier,
                later,
                earlier_date,
                later_date,
                strict,
            })
            .collect();
        if violations.is_empty() { Ok(Schedule { dates }) } else { Err(StockError::ScheduleOutOfOrder(violations)) }
    }

    pub fn dates(&self) -> &ScheduleDates {
        &self.dates
    }

    /// The soft rules, judged on the KRX calendar.
    pub fn warnings(&self, cal: &KrxCalendar, spac: bool) -> Vec<StockWarning> {
        let d = &self.dates;
        let mut out = Vec::new();
        let named = [
            ("filing", d.filing),
            ("bookbuilding_start", d.bookbuilding_start),
            ("bookbuilding_end", d.bookbuilding_end),
            ("price_fixing", d.price_fixing),
            ("subscription_start", d.subscription_start),
            ("subscription_end", d.subscription_end),
            ("payment", d.payment),
            ("listing", d.listing),
        ];
        let mut unknown_years: Vec<i32> =
            named.iter().filter(|(_, date)| !cal.covers(*date)).map(|(_, date)| chrono::Datelike::year(date)).collect();
        unknown_years.dedup();
        out.extend(unknown_years.into_iter().map(|year| StockWarning::HolidaysUnknown { year }));
        out.extend(
            named
                .iter()
                .filter(|(_, date)| !cal.is_business_day(*date))
                .map(|&(field, date)| StockWarning::NotABusinessDay { field, date }),
        );
        let business_days = cal.business_days_inclusive(d.bookbuilding_start, d.bookbuilding_end);
        if !spac && business_days < 5 {
            out.push(StockWarning::ShortBookbuilding { business_days });
        }
        let expected = cal.add_business_days(d.subscription_end, 2);
        if d.payment != expected {
            out.push(StockWarning::UnusualPaymentDate { expected, actual: d.payment });
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StockStatus {
    Active,
    /// 철회: everything scheduled for it is cancelled.
    Withdrawn,
}

/// Where an active offering stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferingPhase {
    Filed,
    Bookbuilding,
    AwaitingPrice,
    Priced,
    Subscription,
    AwaitingListing,
    Listed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    pub id: StockId,
    pub name: Label,
    pub code: Option<StockCode>,
    pub market: Market,
    pub lead_manager: Label,
    band: PriceBand,
    final_price: Option<Price>,
    schedule: Schedule,
    pub spac: bool,
    status: StockStatus,
}

/// What staff supply to create a stock.
#[derive(Debug, Clone)]
pub struct NewStock {
    pub id: StockId,
    pub name: Label,
    pub code: Option<StockCode>,
    pub market: Market,
    pub lead_manager: Label,
    pub band: PriceBand,
    pub schedule: Schedule,
    pub spac: bool,
}

impl Stock {
    pub fn new(new: NewStock) -> Stock {
        Stock {
            id: new.id,
            name: new.name,
            code: new.code,
            market: new.market,
            lead_manager: new.lead_manager,
            band: new.band,
            final_price: None,
            schedule: new.schedule,
            spac: new.spac,
            status: StockStatus::Active,
        }
    }

    pub fn final_price(&self) -> Option<Price> {
        self.final_price
    }

    pub fn band(&self) -> PriceBand {
        self.band
    }

    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// A new band (an amended filing can change it).
    pub fn set_band(&mut self, band: PriceBand) -> Result<(), StockError> {
        self.ensure_active()?;
        self.band = band;
        Ok(())
    }

    pub fn status(&self) -> StockStatus {
        self.status
    }

    /// Sets the final offer price; only after book-building has ended. It may lie outside the band.
    pub fn set_final_price(&mut self, price: Price, today: NaiveDate) -> Result<(), StockError> {
        self.ensure_active()?;
        let end = self.schedule.dates().bookbuilding_end;
        if today <= end {
            return Err(StockError::FinalPriceTooEarly { bookbuilding_end: end, today });
        }
        self.final_price = Some(price);
        Ok(())
    }

    /// 정정신고서: a new schedule replaces the old one. Returns whether any date moved. A final
    /// price fixed before a book-building that is now to end later no longer stands.
    pub fn amend_schedule(&mut self, schedule: Schedule) -> Result<bool, StockError> {
        self.ensure_active()?;
        let moved = schedule != self.schedule;
        if schedule.dates().bookbuilding_end > self.schedule.dates().bookbuilding_end {
            self.final_price = None;
        }
        self.schedule = schedule;
        Ok(moved)
    }

    /// 철회. Withdrawing twice is harmless.
    pub fn withdraw(&mut self) {
        self.status = StockStatus::Withdrawn;
    }

    fn ensure_active(&self) -> Result<(), StockError> {
        match self.status {
            StockStatus::Active => Ok(()),
            StockStatus::Withdrawn => Err(StockError::Withdrawn),
        }
    }

    /// The schedule's soft rules, and whether the final price sits on the tick grid and in the band.
    pub fn warnings(&self, cal: &KrxCalendar, reg: &Regulation) -> Vec<StockWarning> {
        let mut out = self.schedule.warnings(cal, self.spac);
        if let Some(price) = self.final_price {
            // The grid of the day the price was fixed; an unconfigured date adds no warning.
            if let Ok(tick) = reg.tick_size(self.schedule.dates().price_fixing, price)
                && !price.get().is_multiple_of(tick)
            {
                out.push(StockWarning::FinalPriceOffGrid { price, tick });
            }
            if !self.band.contains(price) {
                out.push(StockWarning::FinalPriceOutsideBand { price, low: self.band.low(), high: self.band.high() });
            }
        }
        out
    }

    pub fn phase_on(&self, date: NaiveDate) -> OfferingPhase {
        let d = self.schedule.dates();
        if date >= d.listing {
            OfferingPhase::Listed
        } else if date > d.subscription_end {
            OfferingPhase::AwaitingListing
        } else if date >= d.subscription_start {
            OfferingPhase::Subscription
        } else if date >= d.price_fixing {
            OfferingPhase::Priced
        } else if date > d.bookbuilding_end {
            OfferingPhase::AwaitingPrice
        } else if date >= d.bookbuilding_start {
            OfferingPhase::Bookbuilding
        } else {
            OfferingPhase::Filed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// (가상)한빛로보틱스 from the demo data.
    fn hanbit_dates() -> ScheduleDates {
        ScheduleDates {
            filing: d("2026-02-20"),
            bookbuilding_start: d("2026-03-16"),
            bookbuilding_end: d("2026-03-20"),
            price_fixing: d("2026-03-24"),
            subscription_start: d("2026-03-26"),
            subscription_end: d("2026-03-27"),
            payment: d("2026-03-31"),
            listing: d("2026-04-07"),
        }
    }

    fn violations(dates: ScheduleDates) -> Vec<(&'static str, &'static str)> {
        match Schedule::new(dates) {
            Err(StockError::ScheduleOutOfOrder(v)) => v.iter().map(|v| (v.earlier, v.later)).collect(),
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn demo_schedules_are_valid_without_warnings() {
        let cal = KrxCalendar::builtin();
        let hanbit = Schedule::new(hanbit_dates()).unwrap();
        assert_eq!(hanbit.warnings(cal, false), vec![]);
        let nuri = Schedule::new(ScheduleDates {
            filing: d("2026-02-25"),
            bookbuilding_start: d("2026-03-19"),
            bookbuilding_end: d("2026-03-25"),
            price_fixing: d("2026-03-27"),
            subscription_start: d("2026-03-31"),
            subscription_end: d("2026-04-01"),
            payment: d("2026-04-03"),
            listing: d("2026-04-10"),
        })
        .unwrap();
        assert_eq!(nuri.warnings(cal, false), vec![]);
        let spac = Schedule::new(ScheduleDates {
            filing: d("2026-03-05"),
            bookbuilding_start: d("2026-03-23"),
            bookbuilding_end: d("2026-03-24"),
            price_fixing: d("2026-03-26"),
            subscription_start: d("2026-03-30"),
            subscription_end: d("2026-03-31"),
            payment: d("2026-04-02"),
            listing: d("2026-04-09"),
        })
        .unwrap();
        assert_eq!(spac.warnings(cal, true), vec![], "two days is normal for a SPAC");
        assert_eq!(spac.warnings(cal, false), vec![StockWarning::ShortBookbuilding { business_days: 2 }]);
    }

    #[test]
    fn each_hard_rule_is_enforced() {
        let base = hanbit_dates();
        let mut s = base;
        s.filing = s.bookbuilding_start;
        assert_eq!(violations(s), vec![("filing", "bookbuilding_start")]);

        let mut s = base;
        s.bookbuilding_end = d("2026-03-15");
        assert_eq!(violations(s), vec![("bookbuilding_start", "bookbuilding_end")]);

        let mut s = base;
        s.price_fixing = s.bookbuilding_end;
        assert_eq!(violations(s), vec![("bookbuilding_end", "price_fixing")]);

        let mut s = base;
        s.subscription_start = d("2026-03-23");
        assert_eq!(
            violations(s),
            vec![("price_fixing", "subscription_start")],
            "subscription may not start before the price is fixed"
        );

        let mut s = base;
        s.subscription_end = d("2026-03-25");
        assert_eq!(violations(s), vec![("subscription_start", "subscription_end")]);

        let mut s = base;
        s.payment = s.subscription_end;
        assert_eq!(violations(s), vec![("subscription_end", "payment")]);

        let mut s = base;
        s.listing = d("2026-03-30");
        assert_eq!(violations(s), vec![("payment", "listing")]);
    }

    #[test]
    fn equal_dates_are_allowed_where_the_rule_says_on_or_before() {
        let mut s = hanbit_dates();
        s.bookbuilding_end = s.bookbuilding_start;
        s.subscription_start = s.price_fixing;
        s.subscription_end = s.price_fixing;
        s.payment = d("2026-03-26");
        s.listing = s.payment;
        assert!(Schedule::new(s).is_ok());
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let mut s = hanbit_dates();
        s.filing = d("2026-04-30");
        s.payment = d("2026-03-01");
        s.listing = d("2026-02-28");
        let v = violations(s);
        assert_eq!(v, vec![("filing", "bookbuilding_start"), ("subscription_end", "payment"), ("payment", "listing")]);
        let message = Schedule::new(s).unwrap_err().to_string();
        assert!(message.contains("filing (2026-04-30) must be before bookbuilding_start (2026-03-16)"), "{message}");
    }

    #[test]
    fn soft_rules_warn() {
        let cal = KrxCalendar::builtin();
        let mut s = hanbit_dates();
        s.bookbuilding_end = d("2026-03-19");
        s.payment = d("2026-04-01");
        let warnings = Schedule::new(s).unwrap().warnings(cal, false);
        assert_eq!(
            warnings,
            vec![
                StockWarning::ShortBookbuilding { business_days: 4 },
                StockWarning::UnusualPaymentDate { expected: d("2026-03-31"), actual: d("2026-04-01") },
            ]
        );
        let mut s = hanbit_dates();
        s.listing = d("2026-04-11");
        assert_eq!(
            Schedule::new(s).unwrap().warnings(cal, false),
            vec![StockWarning::NotABusinessDay { field: "listing", date: d("2026-04-11") }]
        );
        let mut s = hanbit_dates();
        s.listing = d("2028-01-05");
        assert_eq!(Schedule::new(s).unwrap().warnings(cal, false), vec![StockWarning::HolidaysUnknown { year: 2028 }]);
    }

    #[test]
    fn schedules_from_json_are_checked_too() {
        let mut s = hanbit_dates();
        s.listing = d("2026-03-01");
        let json = serde_json::to_string(&s).unwrap();
        assert!(serde_json::from_str::<Schedule>(&json).is_err());
        let good = serde_json::to_string(&Schedule::new(hanbit_dates()).unwrap()).unwrap();
        assert_eq!(serde_json::from_str::<Schedule>(&good).unwrap().dates(), &hanbit_dates());
    }

    fn hanbit() -> Stock {
        Stock::new(NewStock {
            id: "hanbit".parse().unwrap(),
            name: Label::new("(가상)한빛로보틱스").unwrap(),
            code: Some(StockCode::try_from("0088M0".to_owned()).unwrap()),
            market: Market::Kosdaq,
            lead_manager: Label::new("(가상)미래증권").unwrap(),
            band: PriceBand::new(Price::new(14_000).unwrap(), Price::new(16_000).unwrap()).unwrap(),
            schedule: Schedule::new(hanbit_dates()).unwrap(),
            spac: false,
        })
    }

    #[test]
    fn final_price_only_after_bookbuilding_and_may_exceed_the_band() {
        let mut stock = hanbit();
        let p = Price::new(17_000).unwrap();
        assert_eq!(
            stock.set_final_price(p, d("2026-03-20")),
            Err(StockError::FinalPriceTooEarly { bookbuilding_end: d("2026-03-20"), today: d("2026-03-20") })
        );
        assert_eq!(stock.set_final_price(p, d("2026-03-23")), Ok(()));
        assert_eq!(stock.final_price(), Some(p));
        assert!(!stock.band().contains(p));
    }

    #[test]
    fn a_later_bookbuilding_voids_the_final_price() {
        let mut stock = hanbit();
        stock.set_final_price(Price::new(17_000).unwrap(), d("2026-03-24")).unwrap();
        let mut same_end = hanbit_dates();
        same_end.listing = d("2026-04-08");
        stock.amend_schedule(Schedule::new(same_end).unwrap()).unwrap();
        assert_eq!(stock.final_price(), Some(Price::new(17_000).unwrap()), "book-building unchanged");
        let mut redone = hanbit_dates();
        redone.bookbuilding_end = d("2026-03-23");
        redone.price_fixing = d("2026-03-25");
        stock.amend_schedule(Schedule::new(redone).unwrap()).unwrap();
        assert_eq!(stock.final_price(), None, "the price must be fixed again");
    }

    #[test]
    fn withdrawn_offerings_refuse_changes() {
        let mut stock = hanbit();
        stock.withdraw();
        assert_eq!(stock.status(), StockStatus::Withdrawn);
        assert_eq!(stock.set_final_price(Price::new(17_000).unwrap(), d("2026-03-24")), Err(StockError::Withdrawn));
        assert_eq!(stock.amend_schedule(Schedule::new(hanbit_dates()).unwrap()), Err(StockError::Withdrawn));
        assert_eq!(stock.set_band(stock.band()), Err(StockError::Withdrawn));
    }

    #[test]
    fn amendment_reports_whether_dates_moved() {
        let mut stock = hanbit();
        assert_eq!(stock.amend_schedule(Schedule::new(hanbit_dates()).unwrap()), Ok(false));
        let mut moved = hanbit_dates();
        for date in [
            &mut moved.bookbuilding_start,
            &mut moved.bookbuilding_end,
            &mut moved.price_fixing,
            &mut moved.subscription_start,
            &mut moved.subscription_end,
            &mut moved.payment,
            &mut moved.listing,
        ] {
            *date = *date + chrono::Days::new(28);
        }
        assert_eq!(stock.amend_schedule(Schedule::new(moved).unwrap()), Ok(true));
        assert_eq!(stock.schedule().dates().listing, d("2026-05-05"));
    }

    #[test]
    fn band_and_code_are_validated() {
        let (lo, hi) = (Price::new(16_000).unwrap(), Price::new(14_000).unwrap());
        assert_eq!(PriceBand::new(lo, hi), Err(StockError::BandInverted { low: lo, high: hi }));
        assert!(serde_json::from_str::<PriceBand>(r#"{"low":16000,"high":14000}"#).is_err());
        assert!(StockCode::try_from("005930".to_owned()).is_ok());
        assert!(StockCode::try_from("5930".to_owned()).is_err());
        assert!(StockCode::try_from("00593a".to_owned()).is_err());
    }

    #[test]
    fn phases_follow_the_schedule() {
        let stock = hanbit();
        assert_eq!(stock.phase_on(d("2026-03-01")), OfferingPhase::Filed);
        assert_eq!(stock.phase_on(d("2026-03-16")), OfferingPhase::Bookbuilding);
        assert_eq!(stock.phase_on(d("2026-03-23")), OfferingPhase::AwaitingPrice);
        assert_eq!(stock.phase_on(d("2026-03-24")), OfferingPhase::Priced);
        assert_eq!(stock.phase_on(d("2026-03-27")), OfferingPhase::Subscription);
        assert_eq!(stock.phase_on(d("2026-03-31")), OfferingPhase::AwaitingListing);
        assert_eq!(stock.phase_on(d("2026-04-07")), OfferingPhase::Listed);
    }
}
