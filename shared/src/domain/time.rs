//! Time: stored in UTC, shown and scheduled in KST (UTC+9, no daylight saving).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn kst() -> FixedOffset {
    // UTC+9 is a valid offset; `east_opt` only fails beyond ±24h.
    FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| unreachable!())
}

/// The instant at `time` KST on `date`.
pub fn at_kst(date: NaiveDate, time: NaiveTime) -> Timestamp {
    let local = date.and_time(time);
    match kst().from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        // A fixed offset has exactly one instant per local time.
        _ => unreachable!("KST has no gaps or folds"),
    }
}

/// The KST calendar date of an instant.
pub fn kst_date(t: Timestamp) -> NaiveDate {
    t.with_timezone(&kst()).date_naive()
}

/// `2026-03-16 09:00 KST`, as staff and clients read times.
pub fn format_kst(t: Timestamp) -> String {
    t.with_timezone(&kst()).format("%Y-%m-%d %H:%M KST").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_kst_is_midnight_utc() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 16).unwrap();
        let t = at_kst(date, NaiveTime::from_hms_opt(9, 0, 0).unwrap());
        assert_eq!(t.to_rfc3339(), "2026-03-16T00:00:00+00:00");
        assert_eq!(format_kst(t), "2026-03-16 09:00 KST");
    }

    #[test]
    fn kst_date_rolls_over_at_15_utc() {
        let t: Timestamp = "2026-03-16T15:00:00Z".parse().unwrap();
        assert_eq!(kst_date(t), NaiveDate::from_ymd_opt(2026, 3, 17).unwrap());
        let t: Timestamp = "2026-03-16T14:59:59Z".parse().unwrap();
        assert_eq!(kst_date(t), NaiveDate::from_ymd_opt(2026, 3, 16).unwrap());
    }
}
