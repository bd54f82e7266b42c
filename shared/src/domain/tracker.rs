//! The per-client record of one process: what we advised each fund, what the client actually did,
//! the evidence it sent, and where the exchange stands.

use crate::domain::check::{Finding, compare};
use crate::domain::ids::{ClientId, FundId, ProcessId, StaffId, TelegramUserId};
use crate::domain::lockup::LockUp;
use crate::domain::money::{Price, Quantity};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackerState {
    /// Not sent yet.
    Pending,
    /// Sent; waiting for the client to acknowledge.
    Sent,
    /// Acknowledged; waiting for the client's answer.
    Acknowledged,
    /// The client answered; waiting for staff to confirm.
    Submitted,
    Confirmed,
    /// Could not be delivered; staff must act.
    Failed,
    /// Staff decided this client is not chased for this process.
    Skipped,
}

impl TrackerState {
    pub const ALL: [TrackerState; 7] = [
        TrackerState::Pending,
        TrackerState::Sent,
        TrackerState::Acknowledged,
        TrackerState::Submitted,
        TrackerState::Confirmed,
        TrackerState::Failed,
        TrackerState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrackerState::Pending => "pending",
            TrackerState::Sent => "sent",
            TrackerState::Acknowledged => "acknowledged",
            TrackerState::Submitted => "submitted",
            TrackerState::Confirmed => "confirmed",
            TrackerState::Failed => "failed",
            TrackerState::Skipped => "skipped",
        }
    }

    /// Whether someone still has to act: the system, the client or staff.
    pub fn is_open(self) -> bool {
        !matches!(self, TrackerState::Confirmed | TrackerState::Skipped)
    }

    /// Whether the client is the one who has to act (and so gets reminded).
    pub fn awaits_client(self) -> bool {
        matches!(self, TrackerState::Sent | TrackerState::Acknowledged)
    }
}

impl fmt::Display for TrackerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The firm's opinion for one fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceLine {
    pub fund_id: FundId,
    pub price: Price,
    pub quantity: Quantity,
    pub lockup: LockUp,
    #[serde(default)]
    pub comment: String,
}

/// What the client says it did for one fund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualLine {
    pub fund_id: FundId,
    pub price: Price,
    pub quantity: Quantity,
    pub lockup: LockUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Photo,
    Document,
}

/// A file the client sent (a screenshot, a spreadsheet), kept by Telegram's file id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub file_id: String,
    pub file_name: Option<String>,
    pub size: Option<u64>,
    pub received_at: Timestamp,
}

/// Who acted in the client's chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatActor {
    pub user_id: TelegramUserId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerEvent {
    /// A sender is about to send the advice. A tracker left in this mark by a crash is not sent
    /// again blindly: the message may have gone out.
    SendStarted {
        at: Timestamp,
    },
    Sent {
        at: Timestamp,
    },
    SendFailed {
        reason: String,
        at: Timestamp,
    },
    /// Staff asked to try a failed send again.
    Retry {
        at: Timestamp,
    },
    Acknowledged {
        by: ChatActor,
        at: Timestamp,
    },
    Submitted {
        lines: Vec<ActualLine>,
        at: Timestamp,
    },
    EvidenceReceived {
        evidence: Evidence,
        at: Timestamp,
    },
    /// Staff confirm the values; `lines` overrides what the client submitted.
    Confirmed {
        by: StaffId,
        lines: Option<Vec<ActualLine>>,
        at: Timestamp,
    },
    /// The client pressed 수정 (or staff reopened): the answer is asked for again.
    Reopened {
        at: Timestamp,
    },
    Skipped {
        by: StaffId,
        at: Timestamp,
    },
    Reminded {
        at: Timestamp,
    },
    Escalated {
        at: Timestamp,
    },
}

impl TrackerEvent {
    pub fn name(&self) -> &'static str {
        match self {
            TrackerEvent::SendStarted { .. } => "send_started",
            TrackerEvent::Sent { .. } => "sent",
            TrackerEvent::SendFailed { .. } => "send_failed",
            TrackerEvent::Retry { .. } => "retry",
            TrackerEvent::Acknowledged { .. } => "acknowledged",
            TrackerEvent::Submitted { .. } => "submitted",
            TrackerEvent::EvidenceReceived { .. } => "evidence_received",
            TrackerEvent::Confirmed { .. } => "confirmed",
            TrackerEvent::Reopened { .. } => "reopened",
            TrackerEvent::Skipped { .. } => "skipped",
            TrackerEvent::Reminded { .. } => "reminded",
            TrackerEvent::Escalated { .. } => "escalated",
        }
    }

    fn at(&self) -> Timestamp {
        match self {
            TrackerEvent::SendStarted { at }
            | TrackerEvent::Sent { at }
            | TrackerEvent::SendFailed { at, .. }
            | TrackerEvent::Retry { at }
            | TrackerEvent::Acknowledged { at, .. }
            | TrackerEvent::Submitted { at, .. }
            | TrackerEvent::EvidenceReceived { at, .. }
            | TrackerEvent::Confirmed { at, .. }
            | TrackerEvent::Reopened { at }
            | TrackerEvent::Skipped { at, .. }
            | TrackerEvent::Reminded { at }
            | TrackerEvent::Escalated { at } => *at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    #[error("a {state} tracker cannot take {event}")]
    IllegalTransition { state: TrackerState, event: &'static str },
    #[error("an answer needs at least one line")]
    EmptyAnswer,
    #[error("the answer names fund {0} twice")]
    DuplicateFund(FundId),
    #[error("the advice names fund {0} twice")]
    DuplicateAdvice(FundId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TrackerFields")]
pub struct Tracker {
    pub process_id: ProcessId,
    pub client_id: ClientId,
    state: TrackerState,
    /// When the tracker entered its current state: reminders and escalation count from here.
    state_since: Timestamp,
    advice: Vec<AdviceLine>,
    actual: Vec<ActualLine>,
    evidence: Vec<Evidence>,
    acknowledged_by: Option<ChatActor>,
    confirmed_by: Option<StaffId>,
    failure: Option<String>,
    reminders_total: u32,
    reminders_in_state: u32,
    last_reminded_at: Option<Timestamp>,
    escalated_at: Option<Timestamp>,
    /// When a send of the advice began, until it is known to have succeeded or failed.
    #[serde(default)]
    send_started_at: Option<Timestamp>,
    /// The bot's messages about this tracker (advice, prompts), so replies to them find it.
    #[serde(default)]
    message_ids: Vec<i64>,
}

/// A stored tracker before its invariants are checked again.
#[derive(Deserialize)]
struct TrackerFields {
    process_id: ProcessId,
    client_id: ClientId,
    state: TrackerState,
    /// When the tracker entered its current state: reminders and escalation count from here.
    state_since: Timestamp,
    advice: Vec<AdviceLine>,
    actual: Vec<ActualLine>,
    evidence: Vec<Evidence>,
    acknowledged_by: Option<ChatActor>,
    confirmed_by: Option<StaffId>,
    failure: Option<String>,
    reminders_total: u32,
    reminders_in_state: u32,
    last_reminded_at: Option<Timestamp>,
    escalated_at: Option<Timestamp>,
    /// When a send of the advice began, until it is known to have succeeded or failed.
    #[serde(default)]
    send_started_at: Option<Timestamp>,
    /// The bot's messages about this tracker (advice, prompts), so replies to them find it.
    #[serde(default)]
    message_ids: Vec<i64>,
}

impl TryFrom<TrackerFields> for Tracker {
    type Error = TrackerError;
    fn try_from(f: TrackerFields) -> Result<Self, TrackerError> {
        let mut tracker = Tracker::new(f.process_id, f.client_id, f.advice, f.state_since)?;
        if !f.actual.is_empty() {
            check_answer(&f.actual)?;
        }
        if f.state == TrackerState::Confirmed && f.actual.is_empty() {
            return Err(TrackerError::EmptyAnswer);
        }
        tracker.state = f.state;
        tracker.actual = f.actual;
        tracker.evidence = f.evidence;
        tracker.acknowledged_by = f.acknowledged_by;
        tracker.confirmed_by = f.confirmed_by;
        tracker.failure = f.failure;
        tracker.reminders_total = f.reminders_total;
        tracker.reminders_in_state = f.reminders_in_state;
        tracker.last_reminded_at = f.last_reminded_at;
        tracker.escalated_at = f.escalated_at;
        tracker.send_started_at = f.send_started_at;
        tracker.message_ids = f.message_ids;
        Ok(tracker)
    }
}

impl Tracker {
    pub fn new(
        process_id: ProcessId,
        client_id: ClientId,
        advice: Vec<AdviceLine>,
        now: Timestamp,
    ) -> Result<Tracker, TrackerError> {
        if let Some(dup) = first_duplicate(advice.iter().map(|a| &a.fund_id)) {
            return Err(TrackerError::DuplicateAdvice(dup.clone()));
        }
        Ok(Tracker {
            process_id,
            client_id,
            state: TrackerState::Pending,
            state_since: now,
            advice,
            actual: Vec::new(),
            evidence: Vec::new(),
            acknowledged_by: None,
            confirmed_by: None,
            failure: None,
            reminders_total: 0,
            reminders_in_state: 0,
            last_reminded_at: None,
            escalated_at: None,
            send_started_at: None,
            message_ids: Vec::new(),
        })
    }

    pub fn state(&self) -> TrackerState {
        self.state
    }
    pub fn state_since(&self) -> Timestamp {
        self.state_since
    }
    pub fn advice(&self) -> &[AdviceLine] {
        &self.advice
    }
    pub fn actual(&self) -> &[ActualLine] {
        &self.actual
    }
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
    pub fn acknowledged_by(&self) -> Option<&ChatActor> {
        self.acknowledged_by.as_ref()
    }
    pub fn confirmed_by(&self) -> Option<&StaffId> {
        self.confirmed_by.as_ref()
    }
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
    pub fn reminders_total(&self) -> u32 {
        self.reminders_total
    }
    pub fn reminders_in_state(&self) -> u32 {
        self.reminders_in_state
    }
    pub fn last_reminded_at(&self) -> Option<Timestamp> {
        self.last_reminded_at
    }
    pub fn escalated_at(&self) -> Option<Timestamp> {
        self.escalated_at
    }
    pub fn send_started_at(&self) -> Option<Timestamp> {
        self.send_started_at
    }
    pub fn message_ids(&self) -> &[i64] {
        &self.message_ids
    }

    /// Remembers a message the bot sent about this tracker.
    pub fn note_message(&mut self, message_id: i64) {
        if !self.message_ids.contains(&message_id) {
            self.message_ids.push(message_id);
        }
    }

    /// How the submitted answer deviates from the advice, fund by fund (empty before an answer).
    pub fn deviations(&self) -> Vec<Finding> {
        if self.actual.is_empty() {
            return Vec::new();
        }
        compare(&self.advice, &self.actual)
    }

    /// Applies an event if the current state allows it; the tracker is unchanged otherwise.
    pub fn apply(&mut self, event: TrackerEvent) -> Result<TrackerState, TrackerError> {
        use TrackerEvent as E;
        use TrackerState as S;
        let illegal = TrackerError::IllegalTransition { state: self.state, event: event.name() };
        let at = event.at();
        let next = match (self.state, event) {
            (S::Pending, E::SendStarted { .. }) => {
                self.send_started_at = Some(at);
                return Ok(self.state);
            }
            (S::Pending | S::Failed, E::Sent { .. }) => {
                self.failure = None;
                self.send_started_at = None;
                S::Sent
            }
            // A reminder can fail too (the bot was removed mid-chase): stop chasing a dead chat.
            (S::Pending | S::Sent | S::Acknowledged, E::SendFailed { reason, .. }) => {
                self.failure = Some(reason);
                self.send_started_at = None;
                S::Failed
            }
            (S::Failed, E::Retry { .. }) => S::Pending,
            (S::Sent, E::Acknowledged { by, .. }) => {
                self.acknowledged_by = Some(by);
                S::Acknowledged
            }
            (S::Sent | S::Acknowledged | S::Submitted, E::Submitted { lines, .. }) => {
                check_answer(&lines)?;
                self.actual = lines;
                S::Submitted
            }
            (S::Sent | S::Acknowledged | S::Submitted, E::EvidenceReceived { evidence, .. }) => {
                self.evidence.push(evidence);
                S::Submitted
            }
            (S::Submitted | S::Confirmed, E::Confirmed { by, lines, .. }) => {
                if let Some(lines) = lines {
                    check_answer(&lines)?;
                    self.actual = lines;
                } else if self.actual.is_empty() {
                    // Evidence alone cannot be confirmed: staff must read the values off it.
                    return Err(TrackerError::EmptyAnswer);
                }
                self.confirmed_by = Some(by);
                S::Confirmed
            }
            (S::Submitted | S::Confirmed, E::Reopened { .. }) => {
                // The answer is withdrawn; the message log keeps what it said.
                self.actual.clear();
                self.confirmed_by = None;
                S::Acknowledged
            }
            (S::Pending | S::Sent | S::Acknowledged | S::Failed, E::Skipped { .. }) => S::Skipped,
            (S::Sent | S::Acknowledged, E::Reminded { .. }) => {
                self.reminders_total += 1;
                self.reminders_in_state += 1;
                self.last_reminded_at = Some(at);
                return Ok(self.state);
            }
            (S::Sent | S::Acknowledged, E::Escalated { .. }) => {
                self.escalated_at = Some(at);
                return Ok(self.state);
            }
            _ => return Err(illegal),
        };
        if next != self.state {
            self.reminders_in_state = 0;
            self.last_reminded_at = None;
            self.escalated_at = None;
        }
        self.state = next;
        self.state_since = at;
        Ok(next)
    }
}

fn check_answer(lines: &[ActualLine]) -> Result<(), TrackerError> {
    if lines.is_empty() {
        return Err(TrackerError::EmptyAnswer);
    }
    match first_duplicate(lines.iter().map(|l| &l.fund_id)) {
        Some(dup) => Err(TrackerError::DuplicateFund(dup.clone())),
        None => Ok(()),
    }
}

fn first_duplicate<'a>(ids: impl Iterator<Item = &'a FundId>) -> Option<&'a FundId> {
    let ids: Vec<&FundId> = ids.collect();
    ids.iter().enumerate().find(|(i, id)| ids[..*i].contains(id)).map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn t(min: i64) -> Timestamp {
        "2026-03-16T00:00:00Z".parse::<Timestamp>().unwrap() + TimeDelta::minutes(min)
    }

    fn line(fund: &str, price: u64, qty: u64) -> ActualLine {
        ActualLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            lockup: LockUp::Months1,
        }
    }

    fn tracker() -> Tracker {
        let advice = vec![AdviceLine {
            fund_id: "hy".parse().unwrap(),
            price: Price::new(17_500).unwrap(),
            quantity: Quantity::new(300_000).unwrap(),
            lockup: LockUp::Months1,
            comment: String::new(),
        }];
        Tracker::new("p1".parse().unwrap(), "c1".parse().unwrap(), advice, t(0)).unwrap()
    }

    fn actor() -> ChatActor {
        ChatActor { user_id: TelegramUserId(5_000_000_001), name: "김매니저".into() }
    }

    fn staff() -> StaffId {
        "op".parse().unwrap()
    }

    /// One instance of every event, for exhaustive transition checks.
    fn every_event() -> Vec<TrackerEvent> {
        vec![
            TrackerEvent::SendStarted { at: t(1) },
            TrackerEvent::Sent { at: t(1) },
            TrackerEvent::SendFailed { reason: "403".into(), at: t(1) },
            TrackerEvent::Retry { at: t(1) },
            TrackerEvent::Acknowledged { by: actor(), at: t(1) },
            TrackerEvent::Submitted { lines: vec![line("hy", 17_500, 300_000)], at: t(1) },
            TrackerEvent::EvidenceReceived {
                evidence: Evidence {
                    kind: EvidenceKind::Photo,
                    file_id: "AgAD".into(),
                    file_name: None,
                    size: Some(1_000),
                    received_at: t(1),
                },
                at: t(1),
            },
            TrackerEvent::Confirmed { by: staff(), lines: Some(vec![line("hy", 17_500, 300_000)]), at: t(1) },
            TrackerEvent::Reopened { at: t(1) },
            TrackerEvent::Skipped { by: staff(), at: t(1) },
            TrackerEvent::Reminded { at: t(1) },
            TrackerEvent::Escalated { at: t(1) },
        ]
    }

    /// A tracker brought into `state` through legal events.
    fn tracker_in(state: TrackerState) -> Tracker {
        let mut tr = tracker();
        let steps: Vec<TrackerEvent> = match state {
            TrackerState::Pending => vec![],
            TrackerState::Sent => vec![TrackerEvent::Sent { at: t(1) }],
            TrackerState::Acknowledged => {
                vec![TrackerEvent::Sent { at: t(1) }, TrackerEvent::Acknowledged { by: actor(), at: t(2) }]
            }
            TrackerState::Submitted => vec![
                TrackerEvent::Sent { at: t(1) },
                TrackerEvent::Submitted { lines: vec![line("hy", 17_500, 300_000)], at: t(2) },
            ],
            TrackerState::Confirmed => vec![
                TrackerEvent::Sent { at: t(1) },
                TrackerEvent::Submitted { lines: vec![line("hy", 17_500, 300_000)], at: t(2) },
                TrackerEvent::Confirmed { by: staff(), lines: None, at: t(3) },
            ],
            TrackerState::Failed => vec![TrackerEvent::SendFailed { reason: "kicked".into(), at: t(1) }],
            TrackerState::Skipped => vec![TrackerEvent::Skipped { by: staff(), at: t(1) }],
        };
        for e in steps {
            tr.apply(e).unwrap();
        }
        assert_eq!(tr.state(), state);
        tr
    }

    #[test]
    fn transition_table_is_exactly_as_designed() {
        use TrackerState as S;
        let legal: &[(S, &str, S)] = &[
            (S::Pending, "send_started", S::Pending),
            (S::Pending, "sent", S::Sent),
            (S::Pending, "send_failed", S::Failed),
            (S::Pending, "skipped", S::Skipped),
            (S::Sent, "acknowledged", S::Acknowledged),
            (S::Sent, "submitted", S::Submitted),
            (S::Sent, "evidence_received", S::Submitted),
            (S::Sent, "send_failed", S::Failed),
            (S::Sent, "skipped", S::Skipped),
            (S::Sent, "reminded", S::Sent),
            (S::Sent, "escalated", S::Sent),
            (S::Acknowledged, "submitted", S::Submitted),
            (S::Acknowledged, "evidence_received", S::Submitted),
            (S::Acknowledged, "send_failed", S::Failed),
            (S::Acknowledged, "skipped", S::Skipped),
            (S::Acknowledged, "reminded", S::Acknowledged),
            (S::Acknowledged, "escalated", S::Acknowledged),
            (S::Submitted, "submitted", S::Submitted),
            (S::Submitted, "evidence_received", S::Submitted),
            (S::Submitted, "confirmed", S::Confirmed),
            (S::Submitted, "reopened", S::Acknowledged),
            (S::Confirmed, "confirmed", S::Confirmed),
            (S::Confirmed, "reopened", S::Acknowledged),
            (S::Failed, "sent", S::Sent),
            (S::Failed, "retry", S::Pending),
            (S::Failed, "skipped", S::Skipped),
        ];
        for state in TrackerState::ALL {
            for event in every_event() {
                let name = event.name();
                let mut tr = tracker_in(state);
                let before = tr.clone();
                let expected = legal.iter().find(|(s, e, _)| *s == state && *e == name).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(tr.apply(event), Ok(to), "{state} + {name}"),
                    None => {
                        assert_eq!(
                            tr.apply(event),
                            Err(TrackerError::IllegalTransition { state, event: name }),
                            "{state} + {name}"
                        );
                        assert_eq!(tr, before, "a refused event changes nothing");
                    }
                }
            }
        }
    }

    #[test]
    fn reminders_count_per_state_and_reset_on_progress() {
        let mut tr = tracker_in(TrackerState::Sent);
        tr.apply(TrackerEvent::Reminded { at: t(6) }).unwrap();
        tr.apply(TrackerEvent::Reminded { at: t(11) }).unwrap();
        tr.apply(TrackerEvent::Escalated { at: t(16) }).unwrap();
        assert_eq!((tr.reminders_total(), tr.reminders_in_state()), (2, 2));
        assert_eq!((tr.last_reminded_at(), tr.escalated_at()), (Some(t(11)), Some(t(16))));
        assert_eq!(tr.state_since(), t(1), "reminders do not restart the clock");
        tr.apply(TrackerEvent::Acknowledged { by: actor(), at: t(20) }).unwrap();
        assert_eq!((tr.reminders_total(), tr.reminders_in_state()), (2, 0));
        assert_eq!((tr.last_reminded_at(), tr.escalated_at(), tr.state_since()), (None, None, t(20)));
        assert_eq!(tr.acknowledged_by(), Some(&actor()));
    }

    #[test]
    fn answers_must_be_non_empty_without_duplicate_funds() {
        let mut tr = tracker_in(TrackerState::Acknowledged);
        assert_eq!(tr.apply(TrackerEvent::Submitted { lines: vec![], at: t(3) }), Err(TrackerError::EmptyAnswer));
        let dup = vec![line("hy", 1, 1), line("hy", 2, 2)];
        assert!(matches!(
            tr.apply(TrackerEvent::Submitted { lines: dup, at: t(3) }),
            Err(TrackerError::DuplicateFund(_))
        ));
        assert_eq!(tr.state(), TrackerState::Acknowledged);
    }

    #[test]
    fn evidence_waits_for_staff_values() {
        let mut tr = tracker_in(TrackerState::Acknowledged);
        let evidence = Evidence {
            kind: EvidenceKind::Document,
            file_id: "BQAD".into(),
            file_name: Some("bid.xlsx".into()),
            size: Some(12_345),
            received_at: t(3),
        };
        tr.apply(TrackerEvent::EvidenceReceived { evidence, at: t(3) }).unwrap();
        assert_eq!(tr.state(), TrackerState::Submitted);
        assert_eq!(
            tr.apply(TrackerEvent::Confirmed { by: staff(), lines: None, at: t(4) }),
            Err(TrackerError::EmptyAnswer),
            "nothing to confirm until staff enter the values"
        );
        let lines = vec![line("hy", 17_500, 300_000)];
        tr.apply(TrackerEvent::Confirmed { by: staff(), lines: Some(lines.clone()), at: t(5) }).unwrap();
        assert_eq!((tr.state(), tr.actual()), (TrackerState::Confirmed, lines.as_slice()));
        assert_eq!(tr.evidence().len(), 1);
    }

    #[test]
    fn failures_keep_their_reason_until_resent() {
        let mut tr = tracker_in(TrackerState::Failed);
        assert_eq!(tr.failure(), Some("kicked"));
        tr.apply(TrackerEvent::Sent { at: t(9) }).unwrap();
        assert_eq!(tr.failure(), None);
    }

    #[test]
    fn deviations_are_derived_from_advice_and_answer() {
        let mut tr = tracker_in(TrackerState::Acknowledged);
        assert_eq!(tr.deviations(), vec![], "no answer, nothing to compare");
        let lines = vec![line("hy", 17_300, 300_000), line("extra", 17_500, 1)];
        tr.apply(TrackerEvent::Submitted { lines, at: t(3) }).unwrap();
        assert_eq!(
            tr.deviations(),
            vec![
                Finding::PriceDiffers {
                    fund_id: "hy".parse().unwrap(),
                    advised: Price::new(17_500).unwrap(),
                    actual: Price::new(17_300).unwrap(),
                    diff: -200,
                },
                Finding::UnadvisedBid { fund_id: "extra".parse().unwrap() },
            ]
        );
    }

    #[test]
    fn reopening_withdraws_the_answer() {
        let mut tr = tracker_in(TrackerState::Submitted);
        tr.apply(TrackerEvent::Reopened { at: t(5) }).unwrap();
        assert_eq!((tr.state(), tr.actual()), (TrackerState::Acknowledged, &[][..]));
        assert_eq!(tr.deviations(), vec![]);
    }

    #[test]
    fn stored_trackers_are_checked_when_read() {
        let good = serde_json::to_value(tracker_in(TrackerState::Confirmed)).unwrap();
        assert_eq!(serde_json::from_value::<Tracker>(good.clone()).unwrap(), tracker_in(TrackerState::Confirmed));
        let mut no_answer = good.clone();
        no_answer["actual"] = serde_json::json!([]);
        assert!(serde_json::from_value::<Tracker>(no_answer).is_err(), "confirmed needs values");
        let mut twice = good;
        let line = twice["advice"][0].clone();
        twice["advice"] = serde_json::json!([line.clone(), line]);
        assert!(serde_json::from_value::<Tracker>(twice).is_err(), "advice names a fund once");
    }

    #[test]
    fn advice_may_not_name_a_fund_twice() {
        let a = AdviceLine {
            fund_id: "hy".parse().unwrap(),
            price: Price::new(1).unwrap(),
            quantity: Quantity::new(1).unwrap(),
            lockup: LockUp::None,
            comment: String::new(),
        };
        let err = Tracker::new("p".parse().unwrap(), "c".parse().unwrap(), vec![a.clone(), a], t(0));
        assert!(matches!(err, Err(TrackerError::DuplicateAdvice(_))));
    }
}
