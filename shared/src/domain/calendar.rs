//! KRX business days. Holidays are data (`config/krx-holidays.txt`), not code: KRX announces each
//! year's closing days in December and the list is extended then.

use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("holiday list line {line}: {reason}")]
pub struct CalendarError {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct KrxCalendar {
    holidays: BTreeMap<NaiveDate, String>,
    first_year: i32,
    last_year: i32,
}

impl KrxCalendar {
    /// The calendar shipped with the code (2025–2027).
    pub fn builtin() -> &'static KrxCalendar {
        static CAL: OnceLock<KrxCalendar> = OnceLock::new();
        CAL.get_or_init(|| {
            // The file is part of the build and parsed by a test; a broken edit fails CI, not users.
            KrxCalendar::parse(include_str!("../../config/krx-holidays.txt"))
                .unwrap_or_else(|e| panic!("config/krx-holidays.txt: {e}"))
        })
    }

    /// Parses `YYYY-MM-DD name` lines; `#` starts a comment.
    pub fn parse(text: &str) -> Result<KrxCalendar, CalendarError> {
        let mut holidays = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |reason: String| CalendarError { line: i + 1, reason };
            let (date, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let date =
                NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| err(format!("{date:?} is not a date: {e}")))?;
            if holidays.insert(date, name.trim().to_owned()).is_some() {
                return Err(err(format!("{date} is listed twice")));
            }
        }
        let (Some(first), Some(last)) = (holidays.keys().next(), holidays.keys().last()) else {
            return Err(CalendarError { line: 0, reason: "no holidays listed".into() });
        };
        Ok(KrxCalendar { first_year: first.year(), last_year: last.year(), holidays })
    }

    /// Whether the holiday list covers `date`'s year; outside it only weekends are known.
    pub fn covers(&self, date: NaiveDate) -> bool {
        (self.first_year..=self.last_year).contains(&date.year())
    }

    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains_key(&date)
    }

    /// The `n`-th business day after `date` (`n = 0` is `date` itself, even on a holiday).
    pub fn add_business_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_business_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// `date` when it is a business day, else the next one.
    pub fn on_or_after(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        while !self.is_business_day(d) {
            match d.succ_opt() {
                Some(next) => d = next,
                None => return d,
            }
        }
        d
    }

    /// Business days in `start..=end` (0 when `end < start`).
    pub fn business_days_inclusive(&self, start: NaiveDate, end: NaiveDate) -> u32 {
        start.iter_days().take_while(|d| *d <= end).filter(|d| self.is_business_day(*d)).count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn builtin_calendar_covers_2025_to_2027() {
        let cal = KrxCalendar::builtin();
        assert!(cal.covers(d(2025, 1, 2)) && cal.covers(d(2027, 12, 30)));
        assert!(!cal.covers(d(2028, 1, 3)));
        assert_eq!(cal.holiday_name(d(2026, 6, 3)), Some("제9회 전국동시지방선거"));
        for closed in [d(2025, 1, 29), d(2026, 2, 17), d(2026, 12, 31), d(2027, 10, 11)] {
            assert!(!cal.is_business_day(closed), "{closed}");
        }
        assert!(cal.is_business_day(d(2026, 3, 16)));
        assert!(!cal.is_business_day(d(2026, 3, 21)), "a Saturday");
    }

    #[test]
    fn every_listed_year_is_complete() {
        // Weekday closing days per year; a missing or extra line fails here.
        let cal = KrxCalendar::builtin();
        for (year, expected) in [(2025, 19), (2026, 17), (2027, 15)] {
            let count = cal.holidays.keys().filter(|d| d.year() == year).count();
            assert_eq!(count, expected, "{year}");
        }
        assert!(
            cal.holidays.keys().all(|d| cal.covers(*d) && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)),
            "every listed day is a weekday (weekend holidays need no line)"
        );
        assert_eq!(cal.holiday_name(d(2026, 7, 17)).map(|n| n.starts_with("제헌절")), Some(true));
    }

    #[test]
    fn business_day_arithmetic_skips_weekends_and_holidays() {
        let cal = KrxCalendar::builtin();
        // Friday 2026-03-27 + 2 business days = Tuesday 03-31 (the demo's payment date).
        assert_eq!(cal.add_business_days(d(2026, 3, 27), 2), d(2026, 3, 31));
        // Over 설날: Friday 2026-02-13 + 1 = Thursday 02-19.
        assert_eq!(cal.add_business_days(d(2026, 2, 13), 1), d(2026, 2, 19));
        assert_eq!(cal.business_days_inclusive(d(2026, 3, 16), d(2026, 3, 20)), 5);
        assert_eq!(cal.business_days_inclusive(d(2026, 3, 20), d(2026, 3, 16)), 0);
        // 2026-05-25 is a substitute holiday.
        assert_eq!(cal.business_days_inclusive(d(2026, 5, 25), d(2026, 5, 29)), 4);
        assert_eq!(cal.on_or_after(d(2026, 3, 16)), d(2026, 3, 16));
        assert_eq!(cal.on_or_after(d(2026, 3, 21)), d(2026, 3, 23), "Saturday → Monday");
        assert_eq!(cal.on_or_after(d(2026, 2, 16)), d(2026, 2, 19), "설날 → the Thursday after");
    }

    #[test]
    fn bad_holiday_lists_are_refused_with_the_line() {
        let err = KrxCalendar::parse("2026-01-01 신정\n2026-13-01 x").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(KrxCalendar::parse("2026-01-01 a\n2026-01-01 b").is_err());
        assert!(KrxCalendar::parse("# nothing").is_err());
    }
}
