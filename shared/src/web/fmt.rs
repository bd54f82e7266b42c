//! How the dashboard writes values: Korean labels, amounts as `17,000원` (the domain's own
//! formatting), times in KST.

use crate::domain::process::{ProcessKind, ProcessState};
use crate::domain::staff::Role;
use crate::domain::time::{Timestamp, kst};
use crate::domain::tracker::TrackerState;

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Viewer => "viewer",
        Role::Operator => "operator",
        Role::Advisor => "advisor",
        Role::Admin => "admin",
    }
}

pub fn role_korean(role: Role) -> &'static str {
    match role {
        Role::Viewer => "조회",
        Role::Operator => "운영",
        Role::Advisor => "자문",
        Role::Admin => "관리자",
    }
}

pub fn tracker_state(state: TrackerState) -> &'static str {
    match state {
        TrackerState::Pending => "발송 전",
        TrackerState::Sent => "미확인",
        TrackerState::Acknowledged => "확인, 답변 대기",
        TrackerState::Submitted => "답변 접수",
        TrackerState::Confirmed => "확정",
        TrackerState::Failed => "발송 실패",
        TrackerState::Skipped => "제외",
    }
}

pub fn process_state(state: ProcessState) -> &'static str {
    match state {
        ProcessState::Draft => "작성 중",
        ProcessState::Scheduled => "예약됨",
        ProcessState::Running => "진행 중",
        ProcessState::Paused => "일시 중지",
        ProcessState::Completed => "완료",
        ProcessState::Cancelled => "취소",
    }
}

pub fn process_kind(kind: ProcessKind) -> &'static str {
    kind.korean()
}

/// `11-28 (토) 09:00`: a time in KST, without the year (the dashboard is about days around now).
pub fn kst_short(t: Timestamp) -> String {
    let local = t.with_timezone(&kst());
    let weekday = ["월", "화", "수", "목", "금", "토", "일"];
    let day = weekday.get(chrono::Datelike::weekday(&local).num_days_from_monday() as usize).copied().unwrap_or("");
    format!("{} ({day}) {}", local.format("%m-%d"), local.format("%H:%M"))
}

/// `2026-11-28 09:00 KST`.
pub fn kst_full(t: Timestamp) -> String {
    crate::domain::time::format_kst(t)
}

/// How long ago, as staff say it: `35분`, `3시간 5분`, `2일 4시간`.
pub fn elapsed(since: Timestamp, now: Timestamp) -> String {
    let minutes = (now - since).num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins}분"),
        (0, h) => format!("{h}시간 {mins}분"),
        (d, h) => format!("{d}일 {h}시간"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_read_in_kst() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 28, 0, 5, 0).single().unwrap_or_default();
        assert_eq!(kst_short(t), "11-28 (토) 09:05");
        assert_eq!(elapsed(t, t + chrono::TimeDelta::minutes(185)), "3시간 5분");
        assert_eq!(elapsed(t, t + chrono::TimeDelta::minutes(3000)), "2일 2시간");
    }
}
