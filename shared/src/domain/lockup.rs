//! Lock-up commitments (의무보유확약), counted from the listing date.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LockUp {
    None,
    Days15,
    Months1,
    Months3,
    Months6,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a lock-up: write 미확약, 15일, 1개월, 3개월 or 6개월")]
pub struct LockUpError(pub String);

impl LockUp {
    pub const ALL: [LockUp; 5] = [LockUp::None, LockUp::Days15, LockUp::Months1, LockUp::Months3, LockUp::Months6];

    /// The canonical Korean form.
    pub fn korean(self) -> &'static str {
        match self {
            LockUp::None => "미확약",
            LockUp::Days15 => "15일",
            LockUp::Months1 => "1개월",
            LockUp::Months3 => "3개월",
            LockUp::Months6 => "6개월",
        }
    }

    /// The first day the shares may be sold, for a stock listed on `listing`; `None` for no lock-up.
    pub fn release_date(self, listing: NaiveDate) -> Option<NaiveDate> {
        match self {
            LockUp::None => None,
            LockUp::Days15 => listing.checked_add_days(Days::new(15)),
            LockUp::Months1 => listing.checked_add_months(Months::new(1)),
            LockUp::Months3 => listing.checked_add_months(Months::new(3)),
            LockUp::Months6 => listing.checked_add_months(Months::new(6)),
        }
    }
}

impl FromStr for LockUp {
    type Err = LockUpError;

    /// Accepts the forms clients write: `미확약`, `없음`, `X`, `-`, `15일`, `15D`, `보름`, `1개월`,
    /// `1M`, `한달`, `확약3개월`, `3개월 확약`, `의무보유 6개월`, `석달`, `반년` …
    fn from_str(s: &str) -> Result<Self, LockUpError> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
        let none_words =
            ["미확약", "비확약", "확약없음", "없음", "미", "무", "x", "-", "n", "no", "none", "0", "0개월", "해당없음"];
        if none_words.contains(&compact.as_str()) {
            return Ok(LockUp::None);
        }
        let core = compact
            .trim_start_matches("의무보유")
            .trim_start_matches("확약")
            .trim_end_matches("확약")
            .trim_end_matches("의무보유");
        let lockup = match core {
            "15일" | "15d" | "15days" | "보름" => LockUp::Days15,
            "1개월" | "1m" | "1달" | "한달" | "1month" => LockUp::Months1,
            "3개월" | "3m" | "3달" | "석달" | "세달" | "3months" => LockUp::Months3,
            "6개월" | "6m" | "6달" | "여섯달" | "반년" | "6months" => LockUp::Months6,
            _ => return Err(LockUpError(s.to_owned())),
        };
        Ok(lockup)
    }
}

impl TryFrom<String> for LockUp {
    type Error = LockUpError;
    fn try_from(s: String) -> Result<Self, LockUpError> {
        s.parse()
    }
}

impl From<LockUp> for String {
    fn from(l: LockUp) -> String {
        l.korean().to_owned()
    }
}

impl fmt::Display for LockUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.korean())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lockup_form_parses() {
        let cases: &[(&str, LockUp)] = &[
            ("미확약", LockUp::None),
            ("비확약", LockUp::None),
            ("확약 없음", LockUp::None),
            ("없음", LockUp::None),
            ("X", LockUp::None),
            ("-", LockUp::None),
            ("15일", LockUp::Days15),
            ("15D", LockUp::Days15),
            ("보름", LockUp::Days15),
            ("확약15일", LockUp::Days15),
            ("1개월", LockUp::Months1),
            ("1M", LockUp::Months1),
            ("한 달", LockUp::Months1),
            ("1개월 확약", LockUp::Months1),
            ("확약1개월", LockUp::Months1),
            ("3개월", LockUp::Months3),
            ("3m", LockUp::Months3),
            ("석달", LockUp::Months3),
            ("확약 3개월", LockUp::Months3),
            ("6개월", LockUp::Months6),
            ("6M", LockUp::Months6),
            ("반년", LockUp::Months6),
            ("의무보유 6개월", LockUp::Months6),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<LockUp>(), Ok(*expected), "{text:?}");
        }
    }

    #[test]
    fn canonical_forms_round_trip() {
        for l in LockUp::ALL {
            assert_eq!(l.korean().parse::<LockUp>(), Ok(l));
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(serde_json::from_str::<LockUp>(&json).unwrap(), l);
        }
        assert_eq!(LockUp::Months3.to_string(), "3개월");
    }

    #[test]
    fn unknown_lockups_are_refused() {
        for bad in ["2개월", "12개월", "확약", "", "1년"] {
            assert_eq!(bad.parse::<LockUp>(), Err(LockUpError(bad.to_owned())), "{bad:?}");
        }
    }

    #[test]
    fn release_dates_count_from_listing() {
        let listing = NaiveDate::from_ymd_opt(2026, 4, 7).unwrap();
        let release = |l: LockUp| l.release_date(listing).map(|d| d.to_string());
        assert_eq!(release(LockUp::None), None);
        assert_eq!(release(LockUp::Days15).as_deref(), Some("2026-04-22"));
        assert_eq!(release(LockUp::Months1).as_deref(), Some("2026-05-07"));
        assert_eq!(release(LockUp::Months3).as_deref(), Some("2026-07-07"));
        assert_eq!(release(LockUp::Months6).as_deref(), Some("2026-10-07"));
        // Month ends clamp: listed 08-31, one month later is 09-30.
        let end = NaiveDate::from_ymd_opt(2026, 8, 31).unwrap();
        assert_eq!(LockUp::Months1.release_date(end).map(|d| d.to_string()).as_deref(), Some("2026-09-30"));
    }
}
