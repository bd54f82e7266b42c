//! An advisory process: one phase of one IPO (or a notice), sent to a set of clients at a kickoff
//! time, with the policy for reminding silent clients and escalating to staff.

use crate::domain::calendar::KrxCalendar;
use crate::domain::ids::{ProcessId, StockId};
use crate::domain::phase::Phase;
use crate::domain::stock::Schedule;
use crate::domain::time::{Timestamp, at_kst};
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU32;

/// Which day's opinion a participation process carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Round {
    FirstDay,
    LastDay,
    Revision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProcessKind {
    /// 수요예측 참여: only this kind has rounds.
    Participation { round: Round },
    /// 배정내역 및 확약여부 확인.
    Allotment,
    /// 일반 공지; the only kind that may have no stock.
    Notice,
    /// 상장 후 매도의견 for one sale date (listing day, or a lock-up's release).
    Sell {
        #[schema(value_type = String, format = Date)]
        sale_date: NaiveDate,
    },
    /// 매매명세서 확인 of the sales made on one sale date.
    Statement {
        #[schema(value_type = String, format = Date)]
        sale_date: NaiveDate,
    },
}

/// KRX settles a sale two business days after it (T+2): its statement is final then.
pub const SETTLEMENT_BUSINESS_DAYS: u32 = 2;

impl ProcessKind {
    pub fn korean(self) -> &'static str {
        match self {
            ProcessKind::Participation { round: Round::FirstDay } => "수요예측 참여 (첫날)",
            ProcessKind::Participation { round: Round::LastDay } => "수요예측 참여 (마감일)",
            ProcessKind::Participation { round: Round::Revision } => "수요예측 참여 (수정)",
            ProcessKind::Allotment => "배정내역 및 확약여부 확인",
            ProcessKind::Notice => "일반 공지",
            ProcessKind::Sell { .. } => "상장 후 매도의견",
            ProcessKind::Statement { .. } => "매매명세서 확인",
        }
    }

    /// The content its trackers carry.
    pub fn phase(self) -> Phase {
        match self {
            ProcessKind::Participation { .. } => Phase::Bid,
            ProcessKind::Allotment => Phase::Allotment,
            ProcessKind::Notice => Phase::Notice,
            ProcessKind::Sell { .. } => Phase::Sell,
            ProcessKind::Statement { .. } => Phase::Statement,
        }
    }

    /// Whether a process of this kind is about a stock (all but notices).
    pub fn needs_stock(self) -> bool {
        match self {
            ProcessKind::Participation { .. }
            | ProcessKind::Allotment
            | ProcessKind::Sell { .. }
            | ProcessKind::Statement { .. } => true,
            ProcessKind::Notice => false,
        }
    }

    /// When the process starts unless staff choose another time: 09:00 KST on the first day of
    /// book-building for the first round, on its last day for the last round, on the first day of
    /// the subscription for the allotment check (the final price is known by then); 08:00 KST on a
    /// sale date, before the 08:30 pre-open, for its sell advice; 09:00 KST on the day the sale
    /// settles (T+2 KRX business days) for its statements. A revision and a notice have none.
    pub fn default_kickoff(self, schedule: &Schedule, calendar: &KrxCalendar) -> Option<Timestamp> {
        let nine = NaiveTime::from_hms_opt(9, 0, 0)?;
        let eight = NaiveTime::from_hms_opt(8, 0, 0)?;
        let d = schedule.dates();
        match self {
            ProcessKind::Participation { round: Round::FirstDay } => Some(at_kst(d.bookbuilding_start, nine)),
            ProcessKind::Participation { round: Round::LastDay } => Some(at_kst(d.bookbuilding_end, nine)),
            ProcessKind::Allotment => Some(at_kst(d.subscription_start, nine)),
            ProcessKind::Sell { sale_date } => Some(at_kst(sale_date, eight)),
            ProcessKind::Statement { sale_date } => Some(at_kst(settlement_date(sale_date, calendar), nine)),
            ProcessKind::Participation { round: Round::Revision } | ProcessKind::Notice => None,
        }
    }
}

/// The day a sale made on `sale_date` settles: T+2 KRX business days.
pub fn settlement_date(sale_date: NaiveDate, calendar: &KrxCalendar) -> NaiveDate {
    calendar.add_business_days(calendar.on_or_after(sale_date), SETTLEMENT_BUSINESS_DAYS)
}

/// A positive number of minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Minutes(NonZeroU32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a number of minutes must be at least 1")]
pub struct ZeroMinutes;

impl Minutes {
    pub fn new(m: u32) -> Result<Self, ZeroMinutes> {
        NonZeroU32::new(m).map(Minutes).ok_or(ZeroMinutes)
    }

    pub fn get(self) -> u32 {
        self.0.get()
    }

    pub fn delta(self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.get()))
    }
}

impl TryFrom<u32> for Minutes {
    type Error = ZeroMinutes;
    fn try_from(m: u32) -> Result<Self, ZeroMinutes> {
        Minutes::new(m)
    }
}

impl From<Minutes> for u32 {
    fn from(m: Minutes) -> u32 {
        m.get()
    }
}

/// A daily KST window in which clients are not reminded; may wrap midnight (22:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuietHours {
    #[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$", example = "22:00:00")]
    pub start: NaiveTime,
    #[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$", example = "08:00:00")]
    pub end: NaiveTime,
}

/// How silent clients are chased. Defaults match the firm's current bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReminderPolicy {
    /// While the advice is not acknowledged.
    pub remind_unacknowledged_every: Minutes,
    /// While the acknowledged client has not submitted its bid.
    pub remind_unsubmitted_every: Minutes,
    /// How long a client may stay silent before the staff group is told (긴급).
    pub escalate_after: Minutes,
    /// Reminders per waiting state, after which only staff can chase.
    pub max_reminders: u32,
    pub quiet_hours: Option<QuietHours>,
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        let m = |n| Minutes(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        ReminderPolicy {
            remind_unacknowledged_every: m(5),
            remind_unsubmitted_every: m(10),
            escalate_after: m(15),
            max_reminders: 6,
            quiet_hours: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessState {
    Draft,
    Scheduled,
    Running,
    Paused,
    Completed,
    Cancelled,
}

impl fmt::Display for ProcessState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ProcessState::Draft => "draft",
            ProcessState::Scheduled => "scheduled",
            ProcessState::Running => "running",
            ProcessState::Paused => "paused",
            ProcessState::Completed => "completed",
            ProcessState::Cancelled => "cancelled",
        };
        f.write_str(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessAction {
    Schedule,
    /// Back to draft, to edit the advice before kickoff.
    Unschedule,
    Start,
    Pause,
    Resume,
    Complete,
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} process cannot {action:?}")]
pub struct IllegalProcessTransition {
    pub from: ProcessState,
    pub action: ProcessAction,
}

impl ProcessState {
    pub fn after(self, action: ProcessAction) -> Result<ProcessState, IllegalProcessTransition> {
        use ProcessAction as A;
        use ProcessState as S;
        let next = match (self, action) {
            (S::Draft, A::Schedule) => S::Scheduled,
            (S::Scheduled, A::Unschedule) => S::Draft,
            (S::Draft | S::Scheduled, A::Start) => S::Running,
            (S::Running, A::Pause) => S::Paused,
            (S::Paused, A::Resume) => S::Running,
            (S::Running, A::Complete) => S::Completed,
            (S::Draft | S::Scheduled | S::Running | S::Paused, A::Cancel) => S::Cancelled,
            (from, action) => return Err(IllegalProcessTransition { from, action }),
        };
        Ok(next)
    }

    pub fn is_final(self) -> bool {
        matches!(self, ProcessState::Completed | ProcessState::Cancelled)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Process {
    pub id: ProcessId,
    /// The offering it is about; only a notice may have none.
    pub stock_id: Option<StockId>,
    pub kind: ProcessKind,
    #[schema(value_type = String, format = DateTime)]
    pub kickoff_at: Timestamp,
    pub policy: ReminderPolicy,
    state: ProcessState,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl Process {
    pub fn new(
        id: ProcessId,
        stock_id: Option<StockId>,
        kind: ProcessKind,
        kickoff_at: Timestamp,
        policy: ReminderPolicy,
        created_at: Timestamp,
    ) -> Process {
        Process { id, stock_id, kind, kickoff_at, policy, state: ProcessState::Draft, created_at }
    }

    pub fn state(&self) -> ProcessState {
        self.state
    }

    pub fn apply(&mut self, action: ProcessAction) -> Result<ProcessState, IllegalProcessTransition> {
        self.state = self.state.after(action)?;
        Ok(self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stock::ScheduleDates;

    const STATES: [ProcessState; 6] = [
        ProcessState::Draft,
        ProcessState::Scheduled,
        ProcessState::Running,
        ProcessState::Paused,
        ProcessState::Completed,
        ProcessState::Cancelled,
    ];
    const ACTIONS: [ProcessAction; 7] = [
        ProcessAction::Schedule,
        ProcessAction::Unschedule,
        ProcessAction::Start,
        ProcessAction::Pause,
        ProcessAction::Resume,
        ProcessAction::Complete,
        ProcessAction::Cancel,
    ];

    #[test]
    fn exactly_the_legal_transitions_succeed() {
        use ProcessAction as A;
        use ProcessState as S;
        let legal = [
            (S::Draft, A::Schedule, S::Scheduled),
            (S::Scheduled, A::Unschedule, S::Draft),
            (S::Draft, A::Start, S::Running),
            (S::Scheduled, A::Start, S::Running),
            (S::Running, A::Pause, S::Paused),
            (S::Paused, A::Resume, S::Running),
            (S::Running, A::Complete, S::Completed),
            (S::Draft, A::Cancel, S::Cancelled),
            (S::Scheduled, A::Cancel, S::Cancelled),
            (S::Running, A::Cancel, S::Cancelled),
            (S::Paused, A::Cancel, S::Cancelled),
        ];
        for from in STATES {
            for action in ACTIONS {
                let expected = legal.iter().find(|(f, a, _)| *f == from && *a == action).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(from.after(action), Ok(to)),
                    None => assert_eq!(from.after(action), Err(IllegalProcessTransition { from, action })),
                }
            }
        }
        assert!(S::Completed.is_final() && S::Cancelled.is_final() && !S::Paused.is_final());
    }

    #[test]
    fn participation_kicks_off_at_nine_kst_on_the_round_day() {
        let d = |s: &str| s.parse().unwrap();
        let schedule = Schedule::new(ScheduleDates {
            filing: d("2026-02-20"),
            bookbuilding_start: d("2026-03-16"),
            bookbuilding_end: d("2026-03-20"),
            price_fixing: d("2026-03-24"),
            subscription_start: d("2026-03-26"),
            subscription_end: d("2026-03-27"),
            payment: d("2026-03-31"),
            listing: d("2026-04-07"),
        })
        .unwrap();
        let first =
            ProcessKind::Participation { round: Round::FirstDay }.default_kickoff(&schedule, KrxCalendar::builtin());
        assert_eq!(first.map(|t| t.to_rfc3339()).as_deref(), Some("2026-03-16T00:00:00+00:00"));
        let last =
            ProcessKind::Participation { round: Round::LastDay }.default_kickoff(&schedule, KrxCalendar::builtin());
        assert_eq!(last.map(|t| t.to_rfc3339()).as_deref(), Some("2026-03-20T00:00:00+00:00"));
        assert_eq!(
            ProcessKind::Participation { round: Round::Revision }.default_kickoff(&schedule, KrxCalendar::builtin()),
            None
        );
        let allotment = ProcessKind::Allotment.default_kickoff(&schedule, KrxCalendar::builtin());
        assert_eq!(allotment.map(|t| t.to_rfc3339()).as_deref(), Some("2026-03-26T00:00:00+00:00"));
        assert_eq!(ProcessKind::Notice.default_kickoff(&schedule, KrxCalendar::builtin()), None);
    }

    #[test]
    fn a_sale_kicks_off_before_the_pre_open_and_its_statements_at_t_plus_2() {
        let schedule = *crate::demo::hanbit().schedule();
        let cal = KrxCalendar::builtin();
        let at = |kind: ProcessKind| kind.default_kickoff(&schedule, cal).map(|t| t.to_rfc3339());
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // 08:00 KST on Tuesday 2026-04-07, listing day.
        assert_eq!(at(ProcessKind::Sell { sale_date: d("2026-04-07") }).as_deref(), Some("2026-04-06T23:00:00+00:00"));
        // Sold Tuesday: settles Thursday; sold Friday 04-10: settles Tuesday 04-14.
        assert_eq!(
            at(ProcessKind::Statement { sale_date: d("2026-04-07") }).as_deref(),
            Some("2026-04-09T00:00:00+00:00")
        );
        assert_eq!(
            at(ProcessKind::Statement { sale_date: d("2026-04-10") }).as_deref(),
            Some("2026-04-14T00:00:00+00:00")
        );
        // Sold Wednesday 2026-09-23: the Chuseok holidays (09-24, 09-25) and the weekend pass first.
        assert_eq!(settlement_date(d("2026-09-23"), cal), d("2026-09-29"));
        // Thursday → Monday: 04-09 → 04-13, 05-07 → 05-11.
        assert_eq!(settlement_date(d("2026-04-09"), cal), d("2026-04-13"));
        assert_eq!(settlement_date(d("2026-05-07"), cal), d("2026-05-11"));
        let sell = ProcessKind::Sell { sale_date: d("2026-05-07") };
        assert_eq!((sell.korean(), sell.phase(), sell.needs_stock()), ("상장 후 매도의견", Phase::Sell, true));
        let statement = ProcessKind::Statement { sale_date: d("2026-05-07") };
        assert_eq!(statement.korean(), "매매명세서 확인");
        assert_eq!(statement.phase(), Phase::Statement);
        let json = serde_json::to_value(sell).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "sell", "sale_date": "2026-05-07"}));
        assert_eq!(serde_json::from_value::<ProcessKind>(json).unwrap(), sell);
    }

    #[test]
    fn policy_defaults_match_the_current_bot_and_refuse_zero() {
        let p = ReminderPolicy::default();
        assert_eq!(
            (p.remind_unacknowledged_every.get(), p.remind_unsubmitted_every.get(), p.escalate_after.get()),
            (5, 10, 15)
        );
        assert!(serde_json::from_value::<Minutes>(serde_json::json!(0)).is_err());
        let json = serde_json::to_value(ProcessKind::Participation { round: Round::LastDay }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "participation", "round": "last_day"}));
    }
}
