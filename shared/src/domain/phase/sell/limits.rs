//! The day's price limits (가격제한폭) for a sale: on listing day 60%–400% of the offer price
//! (pre-open included), after it ±30% of the previous close, both as dated configuration. KRX
//! moves a limit onto the tick grid inward: the upper one down, the lower one up.

use super::SellAdvice;
use crate::domain::calendar::KrxCalendar;
use crate::domain::money::Price;
use crate::domain::regulation::{Regulation, RegulationError};
use crate::domain::stock::Stock;
use chrono::NaiveDate;
use serde::Serialize;

/// A trading day of a listed stock: what its price limits follow from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub date: NaiveDate,
    pub listing: NaiveDate,
    pub offer_price: Price,
    /// The previous session's close, when known.
    pub previous_close: Option<Price>,
}

/// The lowest and highest prices the day allows, and what they were computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayLimits {
    pub low: Price,
    pub high: Price,
    pub basis: LimitBasis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum LimitBasis {
    /// Listing day: a share of the offer price.
    ListingDay { offer_price: Price },
    /// A later day whose previous close is known.
    PreviousClose { close: Price },
    /// A later day without its previous close: the widest band the daily limits allow after
    /// `sessions` sessions since listing day, a bound rather than the day's limits.
    Reachable { offer_price: Price, sessions: u32 },
}

impl LimitBasis {
    /// Whether these are the day's limits themselves (a price outside them cannot have traded).
    pub fn is_exact(self) -> bool {
        match self {
            LimitBasis::ListingDay { .. } | LimitBasis::PreviousClose { .. } => true,
            LimitBasis::Reachable { .. } => false,
        }
    }
}

impl DayLimits {
    pub fn contains(&self, price: Price) -> bool {
        self.low <= price && price <= self.high
    }
}

impl Session {
    /// The session of `advice`'s sale date for `stock`; none before the final price is set.
    pub fn of(stock: &Stock, advice: &SellAdvice) -> Option<Session> {
        Some(Session {
            date: advice.sale_date,
            listing: stock.schedule().dates().listing,
            offer_price: stock.final_price()?,
            previous_close: advice.previous_close,
        })
    }

    pub fn is_listing_day(&self) -> bool {
        self.date == self.listing
    }

    /// The day's limits; none before listing day, when nothing trades.
    pub fn limits(&self, reg: &Regulation, calendar: &KrxCalendar) -> Result<Option<DayLimits>, RegulationError> {
        if self.date < self.listing {
            return Ok(None);
        }
        let rule = reg.price_limits(self.date)?;
        let listing_day = |offer: Price| -> Result<(Price, Price), RegulationError> {
            Ok((
                bound(reg, self.date, offer, rule.listing_day_min_percent, Rounding::Up)?,
                bound(reg, self.date, offer, rule.listing_day_max_percent, Rounding::Down)?,
            ))
        };
        if self.is_listing_day() {
            let (low, high) = listing_day(self.offer_price)?;
            return Ok(Some(DayLimits { low, high, basis: LimitBasis::ListingDay { offer_price: self.offer_price } }));
        }
        let down = 100u32.saturating_sub(rule.daily_percent);
        let up = 100u32.saturating_add(rule.daily_percent);
        if let Some(close) = self.previous_close {
            let low = bound(reg, self.date, close, down, Rounding::Up)?;
            let high = bound(reg, self.date, close, up, Rounding::Down)?;
            return Ok(Some(DayLimits { low, high, basis: LimitBasis::PreviousClose { close } }));
        }
        let (mut low, mut high) = listing_day(self.offer_price)?;
        let first_after = self.listing.succ_opt().unwrap_or(self.listing);
        let sessions = calendar.business_days_inclusive(first_after, self.date);
        for _ in 0..sessions {
            low = bound(reg, self.date, low, down, Rounding::Up)?;
            high = bound(reg, self.date, high, up, Rounding::Down)?;
        }
        Ok(Some(DayLimits { low, high, basis: LimitBasis::Reachable { offer_price: self.offer_price, sessions } }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    Up,
    Down,
}

/// `percent` of `base`, on the tick grid of `date`, rounded inward (never below one won).
fn bound(
    reg: &Regulation,
    date: NaiveDate,
    base: Price,
    percent: u32,
    rounding: Rounding,
) -> Result<Price, RegulationError> {
    let scaled = u128::from(base.get()) * u128::from(percent);
    let raw = match rounding {
        Rounding::Up => scaled.div_ceil(100),
        Rounding::Down => scaled / 100,
    };
    let raw = u64::try_from(raw).unwrap_or(u64::MAX / 2).max(1);
    let tick = reg.tick_size(date, at_least_one(raw)?)?;
    let on_grid = match rounding {
        Rounding::Up => raw.div_ceil(tick).saturating_mul(tick),
        Rounding::Down => (raw / tick * tick).max(tick),
    };
    at_least_one(on_grid)
}

fn at_least_one(won: u64) -> Result<Price, RegulationError> {
    Price::new(won.max(1)).map_err(|e| RegulationError::Invalid(e.to_string()))
}
