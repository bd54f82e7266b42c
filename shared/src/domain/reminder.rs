//! When to chase a silent client next, from the process's policy and the tracker's history.

use crate::domain::process::{QuietHours, ReminderPolicy};
use crate::domain::time::{Timestamp, kst};
use crate::domain::tracker::{Tracker, TrackerState};
use chrono::{Days, TimeZone, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextAction {
    /// Remind the client at this time (already moved out of quiet hours).
    Remind { at: Timestamp },
    /// Tell the staff group (긴급) at this time. Staff are told even in quiet hours.
    Escalate { at: Timestamp },
    /// Nothing to chase: the client is not the one who has to act, or every reminder was spent and
    /// staff were already told.
    Nothing,
}

/// The next thing to do about `tracker`, whichever comes first. Escalation wins a tie: staff hear
/// of a silent client before it is reminded once more. A client whose response tracking is off is
/// never chased.
pub fn next_action(policy: &ReminderPolicy, tracker: &Tracker, response_tracking: bool) -> NextAction {
    let state = tracker.state();
    if !response_tracking || !tracker.awaits_client() {
        return NextAction::Nothing;
    }
    let every =
        if state == TrackerState::Sent { policy.remind_unacknowledged_every } else { policy.remind_unsubmitted_every };
    let since = match (state, tracker.advice().answer_due_from()) {
        (TrackerState::Acknowledged, Some(due)) => tracker.state_since().max(due),
        _ => tracker.state_since(),
    };
    let escalate = tracker.escalated_at().is_none().then(|| since + policy.escalate_after.delta());
    let remind = (tracker.reminders_in_state() < policy.max_reminders).then(|| {
        let base = tracker.last_reminded_at().unwrap_or(since);
        outside_quiet_hours(policy.quiet_hours, base + every.delta())
    });
    match (remind, escalate) {
        (Some(r), Some(e)) if r < e => NextAction::Remind { at: r },
        (_, Some(e)) => NextAction::Escalate { at: e },
        (Some(r), None) => NextAction::Remind { at: r },
        (None, None) => NextAction::Nothing,
    }
}

/// `t`, or the end of the quiet window `t` falls in.
pub fn outside_quiet_hours(quiet: Option<QuietHours>, t: Timestamp) -> Timestamp {
    let Some(q) = quiet else { return t };
    let local = t.with_timezone(&kst());
    let time = local.time();
    let wraps = q.start > q.end;
    let inside = if wraps { time >= q.start || time < q.end } else { time >= q.start && time < q.end };
    if !inside {
        return t;
    }
    let mut end_date = local.date_naive();
    if wraps && time >= q.start {
        end_date = end_date.checked_add_days(Days::new(1)).unwrap_or(end_date);
    }
    match kst().from_local_datetime(&end_date.and_time(q.end)) {
        chrono::LocalResult::Single(end) => end.with_timezone(&Utc),
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TelegramUserId;
    use crate::domain::lockup::LockUp;
    use crate::domain::money::{Price, Quantity};
    use crate::domain::phase::bid::{AdviceLine, BidAdvice};
    use crate::domain::phase::{Advice, FundLines};
    use crate::domain::process::Minutes;
    use crate::domain::tracker::{ChatActor, TrackerEvent};
    use chrono::{NaiveTime, TimeDelta};

    /// 09:00 KST on the demo's first day.
    fn t(min: i64) -> Timestamp {
        "2026-03-16T00:00:00Z".parse::<Timestamp>().unwrap() + TimeDelta::minutes(min)
    }

    fn sent_at_nine() -> Tracker {
        let lines = vec![AdviceLine {
            fund_id: "f".parse().unwrap(),
            price: Price::new(17_000).unwrap(),
            quantity: Quantity::new(1).unwrap(),
            lockup: LockUp::None,
            comment: String::new(),
        }];
        let advice = Advice::Bid(BidAdvice { lines: FundLines::new(lines).unwrap() });
        let mut tr = Tracker::new("p".parse().unwrap(), "c".parse().unwrap(), advice, t(-1));
        tr.apply(TrackerEvent::Sent { at: t(0) }).unwrap();
        tr
    }

    #[test]
    fn silent_client_is_reminded_twice_then_escalated() {
        let policy = ReminderPolicy::default();
        let mut tr = sent_at_nine();
        assert_eq!(next_action(&policy, &tr, true), NextAction::Remind { at: t(5) });
        tr.apply(TrackerEvent::Reminded { at: t(5) }).unwrap();
        assert_eq!(next_action(&policy, &tr, true), NextAction::Remind { at: t(10) });
        tr.apply(TrackerEvent::Reminded { at: t(10) }).unwrap();
        // The third reminder would be due at 15, the same minute as escalation: staff first.
        assert_eq!(next_action(&policy, &tr, true), NextAction::Escalate { at: t(15) });
        tr.apply(TrackerEvent::Escalated { at: t(15) }).unwrap();
        assert_eq!(next_action(&policy, &tr, true), NextAction::Remind { at: t(15) });
    }

    #[test]
    fn acknowledged_clients_are_chased_for_the_bid_on_the_slower_interval() {
        let policy = ReminderPolicy::default();
        let mut tr = sent_at_nine();
        let by = ChatActor { user_id: TelegramUserId(1), name: "a".into() };
        tr.apply(TrackerEvent::Acknowledged { by, at: t(3) }).unwrap();
        assert_eq!(next_action(&policy, &tr, true), NextAction::Remind { at: t(13) });
    }

    #[test]
    fn reminders_stop_at_the_maximum_and_when_the_client_moves_on() {
        let policy = ReminderPolicy { max_reminders: 1, ..ReminderPolicy::default() };
        let mut tr = sent_at_nine();
        tr.apply(TrackerEvent::Reminded { at: t(5) }).unwrap();
        tr.apply(TrackerEvent::Escalated { at: t(15) }).unwrap();
        assert_eq!(next_action(&policy, &tr, true), NextAction::Nothing);
        let mut submitted = sent_at_nine();
        let by = ChatActor { user_id: TelegramUserId(1), name: "a".into() };
        submitted.apply(TrackerEvent::Acknowledged { by, at: t(1) }).unwrap();
        submitted.apply(TrackerEvent::Skipped { by: "op".parse().unwrap(), at: t(2) }).unwrap();
        assert_eq!(next_action(&policy, &submitted, true), NextAction::Nothing);
    }

    #[test]
    fn clients_without_response_tracking_are_never_chased() {
        let tr = sent_at_nine();
        assert_eq!(next_action(&ReminderPolicy::default(), &tr, false), NextAction::Nothing);
    }

    #[test]
    fn every_number_is_configurable() {
        let policy = ReminderPolicy {
            remind_unacknowledged_every: Minutes::new(7).unwrap(),
            escalate_after: Minutes::new(60).unwrap(),
            ..ReminderPolicy::default()
        };
        assert_eq!(next_action(&policy, &sent_at_nine(), true), NextAction::Remind { at: t(7) });
        let policy = ReminderPolicy { escalate_after: Minutes::new(3).unwrap(), ..policy };
        assert_eq!(next_action(&policy, &sent_at_nine(), true), NextAction::Escalate { at: t(3) });
    }

    #[test]
    fn quiet_hours_defer_reminders_to_their_end() {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let night = Some(QuietHours { start: hm(22, 0), end: hm(8, 0) });
        // 23:00 KST on 03-16 → 08:00 KST on 03-17.
        let late: Timestamp = "2026-03-16T14:00:00Z".parse().unwrap();
        assert_eq!(outside_quiet_hours(night, late), "2026-03-16T23:00:00Z".parse::<Timestamp>().unwrap());
        // 07:00 KST → 08:00 KST the same day.
        let early: Timestamp = "2026-03-15T22:00:00Z".parse().unwrap();
        assert_eq!(outside_quiet_hours(night, early), "2026-03-15T23:00:00Z".parse::<Timestamp>().unwrap());
        // 12:00 KST is outside.
        let noon: Timestamp = "2026-03-16T03:00:00Z".parse().unwrap();
        assert_eq!(outside_quiet_hours(night, noon), noon);
        let lunch = Some(QuietHours { start: hm(12, 0), end: hm(13, 0) });
        assert_eq!(outside_quiet_hours(lunch, noon), "2026-03-16T04:00:00Z".parse::<Timestamp>().unwrap());
        assert_eq!(outside_quiet_hours(None, late), late);
    }

    #[test]
    fn escalation_is_not_deferred_by_quiet_hours() {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let policy = ReminderPolicy {
            quiet_hours: Some(QuietHours { start: hm(9, 0), end: hm(18, 0) }),
            ..ReminderPolicy::default()
        };
        assert_eq!(next_action(&policy, &sent_at_nine(), true), NextAction::Escalate { at: t(15) });
    }
}
