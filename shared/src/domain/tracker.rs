//! The per-client record of one process, whatever its phase: the lifecycle (sent → acknowledged →
//! submitted → confirmed, with reminders, escalation and evidence) written once around the phase's
//! own content, the [`Advice`] and the [`Answer`] of [`crate::domain::phase`].

use crate::domain::ids::{ClientId, ProcessId, StaffId, TelegramUserId};
use crate::domain::phase::bid::{AdviceLine, BidAdvice, BidAnswer, BidLine};
use crate::domain::phase::{Advice, Answer, Asks, Finding, FundLines, Phase};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackerState {
    /// Not sent yet.
    Pending,
    /// Sent; waiting for the client to acknowledge (a notice without ✅ ends here).
    Sent,
    /// Acknowledged; waiting for the client's answer (a notice with ✅ ends here).
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

    /// The state with its article, for messages: "a sent tracker", "an acknowledged tracker".
    pub fn with_article(self) -> String {
        let article = if self.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("{article} {self}")
    }
}

impl fmt::Display for TrackerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Photo,
    Document,
}

/// A file the client sent (a screenshot, a spreadsheet), kept by Telegram's file id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub file_id: String,
    pub file_name: Option<String>,
    pub size: Option<u64>,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
}

/// Who acted in the client's chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// The client's answer. It never replaces one already submitted: the client presses 수정
    /// (reopening) first.
    Submitted {
        answer: Answer,
        at: Timestamp,
    },
    EvidenceReceived {
        evidence: Evidence,
        at: Timestamp,
    },
    /// Staff confirm the answer; `answer` records values they read off a screenshot, corrected, or
    /// took by phone (then from any state the client has been sent to).
    Confirmed {
        by: StaffId,
        answer: Option<Answer>,
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

/// Files one tracker keeps. A tracker is one item and DynamoDB refuses an item over 400 KB, after
/// which it could never be written again; a client sending more is told to hand the rest over
/// another way.
pub const MAX_EVIDENCE: usize = 20;

/// How often a client who keeps sending files past [`MAX_EVIDENCE`] is told so: a reply to each
/// would spend the group's 20 messages a minute on the same sentence.
pub const EVIDENCE_FULL_REPEAT: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// A client's message or button press, as Telegram identifies it in every delivery of its update:
/// `m:<chat>:<message id>` or `q:<callback query id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct InputId(String);

impl InputId {
    /// A message, or one edit of it (an edit is an input of its own).
    pub fn message(chat_id: i64, message_id: i64, edit_date: Option<i64>) -> InputId {
        match edit_date {
            Some(edited) => InputId(format!("m:{chat_id}:{message_id}.{edited}")),
            None => InputId(format!("m:{chat_id}:{message_id}")),
        }
    }
    pub fn press(callback_query_id: &str) -> InputId {
        InputId(format!("q:{callback_query_id}"))
    }
}

impl fmt::Display for InputId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The input a tracker last acted on. Telegram delivers an update again when handling it failed
/// part way; the mark, written with each change and each reply, tells the next attempt what the
/// first already did, so a client's answer is taken once and confirmed once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InputMark {
    pub input: InputId,
    /// It changed the tracker (an acknowledgement, an answer, a file).
    #[serde(default)]
    pub changed: bool,
    /// The bot's reply to it went out.
    pub answered: bool,
}

/// How far a tracker got with an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputProgress {
    /// Not acted on (or not the latest input it acted on).
    New,
    /// Its change is saved; the reply is not known to have gone.
    Applied,
    /// Changed and replied to.
    Answered,
    /// Replied to without a change (an answer refused, a closed request).
    Replied,
}

/// The bot's messages a tracker remembers, so that replies to them find it.
pub const MAX_MESSAGE_IDS: usize = 64;
/// The first messages (the advice, in parts if long, and the prompt) are never forgotten.
const ALWAYS_KEPT_IDS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    #[error("this tracker holds {MAX_EVIDENCE} files already")]
    EvidenceFull,
    #[error("{} tracker cannot take {event}", state.with_article())]
    IllegalTransition { state: TrackerState, event: &'static str },
    #[error("nothing to confirm: the client sent no values (a file only); enter the values read off it")]
    EmptyAnswer,
    #[error("an answer of the {answer:?} phase does not fit {advice:?} advice")]
    WrongPhase { advice: Phase, answer: Phase },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "TrackerFields")]
pub struct Tracker {
    pub process_id: ProcessId,
    pub client_id: ClientId,
    state: TrackerState,
    /// When the tracker entered its current state: reminders and escalation count from here.
    #[schema(value_type = String, format = DateTime)]
    state_since: Timestamp,
    advice: Advice,
    answer: Option<Answer>,
    evidence: Vec<Evidence>,
    acknowledged_by: Option<ChatActor>,
    confirmed_by: Option<StaffId>,
    failure: Option<String>,
    reminders_total: u32,
    reminders_in_state: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_reminded_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    escalated_at: Option<Timestamp>,
    /// When a send of the advice began, until it is known to have succeeded or failed.
    #[schema(value_type = Option<String>, format = DateTime)]
    send_started_at: Option<Timestamp>,
    /// The bot's messages about this tracker (advice, prompts), so replies to them find it.
    message_ids: Vec<i64>,
    /// The client's message or press that this tracker last acted on, and how far.
    last_input: Option<InputMark>,
    /// When the client was last told the tracker holds all the files it may.
    #[schema(value_type = Option<String>, format = DateTime)]
    told_full_at: Option<Timestamp>,
}

/// A stored tracker before its invariants are checked again. Trackers stored before phases had
/// their own content hold the bid advice as a bare list and the answer as `actual`: they read as
/// the bid phase.
#[derive(Deserialize)]
struct TrackerFields {
    process_id: ProcessId,
    client_id: ClientId,
    state: TrackerState,
    state_since: Timestamp,
    advice: StoredAdvice,
    #[serde(default)]
    answer: Option<Answer>,
    #[serde(default)]
    actual: Option<Vec<BidLine>>,
    evidence: Vec<Evidence>,
    acknowledged_by: Option<ChatActor>,
    confirmed_by: Option<StaffId>,
    failure: Option<String>,
    reminders_total: u32,
    reminders_in_state: u32,
    last_reminded_at: Option<Timestamp>,
    escalated_at: Option<Timestamp>,
    #[serde(default)]
    send_started_at: Option<Timestamp>,
    #[serde(default)]
    message_ids: Vec<i64>,
    #[serde(default)]
    last_input: Option<InputMark>,
    #[serde(default)]
    told_full_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StoredAdvice {
    Phased(Advice),
    BidLines(Vec<AdviceLine>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredTrackerError {
    #[error("{0}")]
    Tracker(#[from] TrackerError),
    #[error("{0}")]
    Lines(#[from] crate::domain::phase::LinesError),
}

impl TryFrom<TrackerFields> for Tracker {
    type Error = StoredTrackerError;
    fn try_from(f: TrackerFields) -> Result<Self, StoredTrackerError> {
        let (advice, answer) = match f.advice {
            StoredAdvice::Phased(advice) => (advice, f.answer),
            StoredAdvice::BidLines(lines) => {
                let advice = Advice::Bid(BidAdvice { lines: FundLines::new(lines)? });
                let answer = match f.actual.filter(|a| !a.is_empty()) {
                    Some(actual) => Some(Answer::Bid(BidAnswer { lines: FundLines::new(actual)? })),
                    None => None,
                };
                (advice, answer)
            }
        };
        if let Some(answer) = &answer {
            fits(&advice, answer)?;
        }
        if f.state == TrackerState::Confirmed && answer.is_none() {
            return Err(TrackerError::EmptyAnswer.into());
        }
        Ok(Tracker {
            process_id: f.process_id,
            client_id: f.client_id,
            state: f.state,
            state_since: f.state_since,
            advice,
            answer,
            evidence: f.evidence,
            acknowledged_by: f.acknowledged_by,
            confirmed_by: f.confirmed_by,
            failure: f.failure,
            reminders_total: f.reminders_total,
            reminders_in_state: f.reminders_in_state,
            last_reminded_at: f.last_reminded_at,
            escalated_at: f.escalated_at,
            send_started_at: f.send_started_at,
            message_ids: f.message_ids,
            last_input: f.last_input,
            told_full_at: f.told_full_at,
        })
    }
}

fn fits(advice: &Advice, answer: &Answer) -> Result<(), TrackerError> {
    if advice.phase() == answer.phase() {
        Ok(())
    } else {
        Err(TrackerError::WrongPhase { advice: advice.phase(), answer: answer.phase() })
    }
}

impl Tracker {
    pub fn new(process_id: ProcessId, client_id: ClientId, advice: Advice, now: Timestamp) -> Tracker {
        Tracker {
            process_id,
            client_id,
            state: TrackerState::Pending,
            state_since: now,
            advice,
            answer: None,
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
            last_input: None,
            told_full_at: None,
        }
    }

    pub fn state(&self) -> TrackerState {
        self.state
    }
    pub fn state_since(&self) -> Timestamp {
        self.state_since
    }
    pub fn advice(&self) -> &Advice {
        &self.advice
    }
    pub fn answer(&self) -> Option<&Answer> {
        self.answer.as_ref()
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

    /// How far this tracker got with `input`.
    pub fn progress(&self, input: &InputId) -> InputProgress {
        match &self.last_input {
            Some(mark) if mark.input != *input => InputProgress::New,
            Some(InputMark { changed: true, answered: true, .. }) => InputProgress::Answered,
            Some(InputMark { changed: true, answered: false, .. }) => InputProgress::Applied,
            Some(InputMark { changed: false, answered: true, .. }) => InputProgress::Replied,
            _ => InputProgress::New,
        }
    }

    /// A file came past [`MAX_EVIDENCE`]: whether to tell the client (not within
    /// [`EVIDENCE_FULL_REPEAT`] of the last time), noted when so.
    pub fn tell_full(&mut self, at: Timestamp) -> bool {
        if self.told_full_at.is_some_and(|told| at - told < EVIDENCE_FULL_REPEAT) {
            return false;
        }
        self.told_full_at = Some(at);
        true
    }

    /// Notes that a change made now comes from `input` (saved with the change).
    pub fn acted_on(&mut self, input: &InputId) {
        self.last_input = Some(InputMark { input: input.clone(), changed: true, answered: false });
    }

    /// Notes that the bot replied to `input` (saved with the reply's message id).
    pub fn replied_to(&mut self, input: &InputId) {
        let changed = self.last_input.as_ref().is_some_and(|mark| mark.input == *input && mark.changed);
        self.last_input = Some(InputMark { input: input.clone(), changed, answered: true });
    }

    pub fn phase(&self) -> Phase {
        self.advice.phase()
    }

    /// Whether the client is the one who has to act (and so gets reminded): the message is out and
    /// what the phase asks for has not come.
    pub fn awaits_client(&self) -> bool {
        match (self.state, self.advice.asks()) {
            (TrackerState::Sent, Asks::Acknowledgement | Asks::Answer) => true,
            (TrackerState::Acknowledged, Asks::Answer) => true,
            (TrackerState::Sent | TrackerState::Acknowledged, _) => false,
            (
                TrackerState::Pending
                | TrackerState::Submitted
                | TrackerState::Confirmed
                | TrackerState::Failed
                | TrackerState::Skipped,
                _,
            ) => false,
        }
    }

    /// Whether someone still has to act: the system, the client or staff. A notice is done once
    /// delivered (or acknowledged, when it asks for ✅).
    pub fn is_open(&self) -> bool {
        match self.state {
            TrackerState::Confirmed | TrackerState::Skipped => false,
            TrackerState::Sent | TrackerState::Acknowledged => self.awaits_client(),
            TrackerState::Pending | TrackerState::Submitted | TrackerState::Failed => true,
        }
    }

    /// Remembers a message the bot sent about this tracker.
    /// Remembers a message of the bot's about this tracker. A client who keeps writing must not
    /// grow the item without bound: past [`MAX_MESSAGE_IDS`] the oldest replies are forgotten, but
    /// never the first messages (the advice, the prompt), which replies most often quote.
    pub fn note_message(&mut self, message_id: i64) {
        if self.message_ids.contains(&message_id) {
            return;
        }
        if self.message_ids.len() >= MAX_MESSAGE_IDS {
            self.message_ids.remove(ALWAYS_KEPT_IDS);
        }
        self.message_ids.push(message_id);
    }

    /// How the answer deviates from the advice (empty before an answer); the checks that need the
    /// client and the stock are the use cases'.
    pub fn deviations(&self) -> Vec<Finding> {
        self.answer.as_ref().map(|answer| self.advice.compare(answer)).unwrap_or_default()
    }

    /// Applies an event if the current state and the phase allow it; the tracker is unchanged
    /// otherwise.
    pub fn apply(&mut self, event: TrackerEvent) -> Result<TrackerState, TrackerError> {
        use TrackerEvent as E;
        use TrackerState as S;
        let illegal = TrackerError::IllegalTransition { state: self.state, event: event.name() };
        let asks = self.advice.asks();
        let answers = asks == Asks::Answer;
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
            (S::Sent, E::Acknowledged { by, .. }) if asks != Asks::Nothing => {
                self.acknowledged_by = Some(by);
                S::Acknowledged
            }
            // After a file alone, the values typed next are the answer; an answer in never is.
            (S::Sent | S::Acknowledged, E::Submitted { answer, .. }) | (S::Submitted, E::Submitted { answer, .. })
                if answers && self.answer.is_none() =>
            {
                fits(&self.advice, &answer)?;
                self.answer = Some(answer);
                S::Submitted
            }
            (S::Sent | S::Acknowledged | S::Submitted, E::EvidenceReceived { evidence, .. }) if answers => {
                if self.evidence.len() >= MAX_EVIDENCE {
                    return Err(TrackerError::EvidenceFull);
                }
                self.evidence.push(evidence);
                S::Submitted
            }
            (S::Submitted | S::Confirmed, E::Confirmed { by, answer: None, .. }) if answers => {
                if self.answer.is_none() {
                    // Evidence alone cannot be confirmed: staff must read the values off it.
                    return Err(TrackerError::EmptyAnswer);
                }
                self.confirmed_by = Some(by);
                S::Confirmed
            }
            (
                S::Sent | S::Acknowledged | S::Failed | S::Submitted | S::Confirmed,
                E::Confirmed { by, answer: Some(answer), .. },
            ) if answers => {
                fits(&self.advice, &answer)?;
                self.answer = Some(answer);
                self.confirmed_by = Some(by);
                self.failure = None;
                S::Confirmed
            }
            (S::Submitted | S::Confirmed, E::Reopened { .. }) => {
                // The answer is withdrawn; the message log keeps what it said.
                self.answer = None;
                self.confirmed_by = None;
                S::Acknowledged
            }
            (S::Pending | S::Sent | S::Acknowledged | S::Failed, E::Skipped { .. }) => S::Skipped,
            (S::Sent | S::Acknowledged, E::Reminded { .. }) if self.awaits_client() => {
                self.reminders_total += 1;
                self.reminders_in_state += 1;
                self.last_reminded_at = Some(at);
                return Ok(self.state);
            }
            (S::Sent | S::Acknowledged, E::Escalated { .. }) if self.awaits_client() => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::lockup::LockUp;
    use crate::domain::money::{Price, Quantity};
    use crate::domain::phase::bid::Finding as BidFinding;
    use crate::domain::phase::notice::{NoticeAdvice, NoticeText};
    use crate::domain::text::Label;
    use chrono::TimeDelta;

    fn t(min: i64) -> Timestamp {
        "2026-03-16T00:00:00Z".parse::<Timestamp>().unwrap() + TimeDelta::minutes(min)
    }

    fn line(fund: &str, price: u64, qty: u64) -> BidLine {
        BidLine {
            fund_id: fund.parse().unwrap(),
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            lockup: LockUp::Months1,
        }
    }

    fn bids(lines: Vec<BidLine>) -> Answer {
        Answer::Bid(BidAnswer { lines: FundLines::new(lines).unwrap() })
    }

    fn bid_advice() -> Advice {
        Advice::Bid(BidAdvice {
            lines: FundLines::new(vec![AdviceLine {
                fund_id: "hy".parse().unwrap(),
                price: Price::new(17_500).unwrap(),
                quantity: Quantity::new(300_000).unwrap(),
                lockup: LockUp::Months1,
                comment: String::new(),
            }])
            .unwrap(),
        })
    }

    fn notice(acknowledge: bool) -> Advice {
        Advice::Notice(NoticeAdvice {
            title: Label::new("추석 연휴 안내").unwrap(),
            text: NoticeText::new("연휴 중에는 답변이 늦을 수 있습니다.").unwrap(),
            acknowledge,
        })
    }

    fn tracker() -> Tracker {
        Tracker::new("p1".parse().unwrap(), "c1".parse().unwrap(), bid_advice(), t(0))
    }

    fn actor() -> ChatActor {
        ChatActor { user_id: TelegramUserId(5_000_000_001), name: "김매니저".into() }
    }

    fn staff() -> StaffId {
        "op".parse().unwrap()
    }

    /// One instance of every event, each with the name the tables below use.
    fn every_event() -> Vec<(&'static str, TrackerEvent)> {
        vec![
            ("send_started", TrackerEvent::SendStarted { at: t(1) }),
            ("sent", TrackerEvent::Sent { at: t(1) }),
            ("send_failed", TrackerEvent::SendFailed { reason: "403".into(), at: t(1) }),
            ("retry", TrackerEvent::Retry { at: t(1) }),
            ("acknowledged", TrackerEvent::Acknowledged { by: actor(), at: t(1) }),
            ("submitted", TrackerEvent::Submitted { answer: bids(vec![line("hy", 17_500, 300_000)]), at: t(1) }),
            (
                "evidence_received",
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
            ),
            ("confirmed", TrackerEvent::Confirmed { by: staff(), answer: None, at: t(1) }),
            (
                "confirmed_with_values",
                TrackerEvent::Confirmed {
                    by: staff(),
                    answer: Some(bids(vec![line("hy", 17_500, 300_000)])),
                    at: t(1),
                },
            ),
            ("reopened", TrackerEvent::Reopened { at: t(1) }),
            ("skipped", TrackerEvent::Skipped { by: staff(), at: t(1) }),
            ("reminded", TrackerEvent::Reminded { at: t(1) }),
            ("escalated", TrackerEvent::Escalated { at: t(1) }),
        ]
    }

    /// A tracker of `advice` brought into `state` through legal events, or `None` where the phase
    /// never reaches it.
    fn tracker_in(advice: &Advice, state: TrackerState) -> Option<Tracker> {
        let mut tr = Tracker::new("p1".parse().unwrap(), "c1".parse().unwrap(), advice.clone(), t(0));
        let steps: Vec<TrackerEvent> = match state {
            TrackerState::Pending => vec![],
            TrackerState::Sent => vec![TrackerEvent::Sent { at: t(1) }],
            TrackerState::Acknowledged => {
                vec![TrackerEvent::Sent { at: t(1) }, TrackerEvent::Acknowledged { by: actor(), at: t(2) }]
            }
            TrackerState::Submitted => vec![
                TrackerEvent::Sent { at: t(1) },
                TrackerEvent::Submitted { answer: bids(vec![line("hy", 17_500, 300_000)]), at: t(2) },
            ],
            TrackerState::Confirmed => vec![
                TrackerEvent::Sent { at: t(1) },
                TrackerEvent::Submitted { answer: bids(vec![line("hy", 17_500, 300_000)]), at: t(2) },
                TrackerEvent::Confirmed { by: staff(), answer: None, at: t(3) },
            ],
            TrackerState::Failed => vec![TrackerEvent::SendFailed { reason: "kicked".into(), at: t(1) }],
            TrackerState::Skipped => vec![TrackerEvent::Skipped { by: staff(), at: t(1) }],
        };
        for e in steps {
            tr.apply(e).ok()?;
        }
        Some(tr)
    }

    fn check_table(advice: &Advice, legal: &[(TrackerState, &str, TrackerState)]) {
        for state in TrackerState::ALL {
            let Some(start) = tracker_in(advice, state) else { continue };
            for (name, event) in every_event() {
                let mut tr = start.clone();
                let expected = legal.iter().find(|(s, e, _)| *s == state && *e == name).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(tr.apply(event), Ok(to), "{state} + {name}"),
                    None => {
                        let refused = tr.apply(event);
                        assert!(refused.is_err(), "{state} + {name} was taken");
                        assert_eq!(tr, start, "a refused event changes nothing");
                    }
                }
            }
        }
    }

    #[test]
    fn transition_table_of_an_answered_phase_is_exactly_as_designed() {
        use TrackerState as S;
        check_table(
            &bid_advice(),
            &[
                (S::Pending, "send_started", S::Pending),
                (S::Pending, "sent", S::Sent),
                (S::Pending, "send_failed", S::Failed),
                (S::Pending, "skipped", S::Skipped),
                (S::Sent, "acknowledged", S::Acknowledged),
                (S::Sent, "submitted", S::Submitted),
                (S::Sent, "evidence_received", S::Submitted),
                (S::Sent, "confirmed_with_values", S::Confirmed),
                (S::Sent, "send_failed", S::Failed),
                (S::Sent, "skipped", S::Skipped),
                (S::Sent, "reminded", S::Sent),
                (S::Sent, "escalated", S::Sent),
                (S::Acknowledged, "submitted", S::Submitted),
                (S::Acknowledged, "evidence_received", S::Submitted),
                (S::Acknowledged, "confirmed_with_values", S::Confirmed),
                (S::Acknowledged, "send_failed", S::Failed),
                (S::Acknowledged, "skipped", S::Skipped),
                (S::Acknowledged, "reminded", S::Acknowledged),
                (S::Acknowledged, "escalated", S::Acknowledged),
                (S::Submitted, "evidence_received", S::Submitted),
                (S::Submitted, "confirmed", S::Confirmed),
                (S::Submitted, "confirmed_with_values", S::Confirmed),
                (S::Submitted, "reopened", S::Acknowledged),
                (S::Confirmed, "confirmed", S::Confirmed),
                (S::Confirmed, "confirmed_with_values", S::Confirmed),
                (S::Confirmed, "reopened", S::Acknowledged),
                (S::Failed, "sent", S::Sent),
                (S::Failed, "retry", S::Pending),
                (S::Failed, "confirmed_with_values", S::Confirmed),
                (S::Failed, "skipped", S::Skipped),
            ],
        );
    }

    #[test]
    fn a_notice_without_acknowledgement_ends_when_sent() {
        use TrackerState as S;
        check_table(
            &notice(false),
            &[
                (S::Pending, "send_started", S::Pending),
                (S::Pending, "sent", S::Sent),
                (S::Pending, "send_failed", S::Failed),
                (S::Pending, "skipped", S::Skipped),
                (S::Sent, "send_failed", S::Failed),
                (S::Sent, "skipped", S::Skipped),
                (S::Failed, "sent", S::Sent),
                (S::Failed, "retry", S::Pending),
                (S::Failed, "skipped", S::Skipped),
            ],
        );
        let sent = tracker_in(&notice(false), S::Sent).unwrap();
        assert!(!sent.awaits_client() && !sent.is_open(), "nobody is chased");
    }

    #[test]
    fn a_notice_with_acknowledgement_ends_when_acknowledged() {
        use TrackerState as S;
        check_table(
            &notice(true),
            &[
                (S::Pending, "send_started", S::Pending),
                (S::Pending, "sent", S::Sent),
                (S::Pending, "send_failed", S::Failed),
                (S::Pending, "skipped", S::Skipped),
                (S::Sent, "acknowledged", S::Acknowledged),
                (S::Sent, "send_failed", S::Failed),
                (S::Sent, "skipped", S::Skipped),
                (S::Sent, "reminded", S::Sent),
                (S::Sent, "escalated", S::Sent),
                (S::Acknowledged, "send_failed", S::Failed),
                (S::Acknowledged, "skipped", S::Skipped),
                (S::Failed, "sent", S::Sent),
                (S::Failed, "retry", S::Pending),
                (S::Failed, "skipped", S::Skipped),
            ],
        );
        let sent = tracker_in(&notice(true), S::Sent).unwrap();
        assert!(sent.awaits_client() && sent.is_open());
        let acknowledged = tracker_in(&notice(true), S::Acknowledged).unwrap();
        assert!(!acknowledged.awaits_client() && !acknowledged.is_open());
    }

    #[test]
    fn refusals_read_as_sentences() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Acknowledged).unwrap();
        let err = tr.apply(TrackerEvent::Reopened { at: t(3) }).unwrap_err();
        assert_eq!(err.to_string(), "an acknowledged tracker cannot take reopened");
        let mut tr = tracker();
        assert_eq!(
            tr.apply(TrackerEvent::Reopened { at: t(3) }).unwrap_err().to_string(),
            "a pending tracker cannot take reopened"
        );
    }

    #[test]
    fn reminders_count_per_state_and_reset_on_progress() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Sent).unwrap();
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
    fn a_submitted_answer_is_never_replaced_unprompted() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Submitted).unwrap();
        let other = bids(vec![line("hy", 1, 1)]);
        assert_eq!(
            tr.apply(TrackerEvent::Submitted { answer: other.clone(), at: t(3) }),
            Err(TrackerError::IllegalTransition { state: TrackerState::Submitted, event: "submitted" })
        );
        tr.apply(TrackerEvent::Reopened { at: t(4) }).unwrap();
        tr.apply(TrackerEvent::Submitted { answer: other.clone(), at: t(5) }).unwrap();
        assert_eq!(tr.answer(), Some(&other));
    }

    #[test]
    fn values_typed_after_a_file_are_the_answer() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Acknowledged).unwrap();
        let evidence = Evidence {
            kind: EvidenceKind::Photo,
            file_id: "AgAD".into(),
            file_name: None,
            size: None,
            received_at: t(3),
        };
        tr.apply(TrackerEvent::EvidenceReceived { evidence, at: t(3) }).unwrap();
        assert_eq!((tr.state(), tr.answer()), (TrackerState::Submitted, None));
        let answer = bids(vec![line("hy", 17_500, 300_000)]);
        tr.apply(TrackerEvent::Submitted { answer: answer.clone(), at: t(4) }).unwrap();
        assert_eq!(tr.answer(), Some(&answer));
        assert!(tr.apply(TrackerEvent::Submitted { answer, at: t(5) }).is_err(), "but not a second answer");
    }

    #[test]
    fn an_answer_must_be_of_the_advices_phase() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Acknowledged).unwrap();
        let allotment = Answer::Allotment(crate::domain::phase::allotment::AllotmentAnswer::new(
            FundLines::new(vec![crate::domain::phase::allotment::AllotmentLine {
                fund_id: "hy".parse().unwrap(),
                allotted: crate::domain::phase::allotment::Allotted::None,
            }])
            .unwrap(),
        ));
        assert_eq!(
            tr.apply(TrackerEvent::Submitted { answer: allotment, at: t(3) }),
            Err(TrackerError::WrongPhase { advice: Phase::Bid, answer: Phase::Allotment })
        );
        assert_eq!(tr.state(), TrackerState::Acknowledged);
    }

    #[test]
    fn evidence_waits_for_staff_values() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Acknowledged).unwrap();
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
            tr.apply(TrackerEvent::Confirmed { by: staff(), answer: None, at: t(4) }),
            Err(TrackerError::EmptyAnswer),
            "nothing to confirm until staff enter the values"
        );
        let answer = bids(vec![line("hy", 17_500, 300_000)]);
        tr.apply(TrackerEvent::Confirmed { by: staff(), answer: Some(answer.clone()), at: t(5) }).unwrap();
        assert_eq!((tr.state(), tr.answer()), (TrackerState::Confirmed, Some(&answer)));
        assert_eq!(tr.evidence().len(), 1);
    }

    #[test]
    fn an_answer_taken_by_phone_is_confirmed_from_sent() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Sent).unwrap();
        let answer = bids(vec![line("hy", 17_500, 300_000)]);
        tr.apply(TrackerEvent::Confirmed { by: staff(), answer: Some(answer.clone()), at: t(5) }).unwrap();
        assert_eq!(
            (tr.state(), tr.answer(), tr.confirmed_by()),
            (TrackerState::Confirmed, Some(&answer), Some(&staff()))
        );
    }

    #[test]
    fn failures_keep_their_reason_until_resent() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Failed).unwrap();
        assert_eq!(tr.failure(), Some("kicked"));
        tr.apply(TrackerEvent::Sent { at: t(9) }).unwrap();
        assert_eq!(tr.failure(), None);
    }

    #[test]
    fn deviations_are_derived_from_advice_and_answer() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Acknowledged).unwrap();
        assert_eq!(tr.deviations(), vec![], "no answer, nothing to compare");
        let answer = bids(vec![line("hy", 17_300, 300_000), line("extra", 17_500, 1)]);
        tr.apply(TrackerEvent::Submitted { answer, at: t(3) }).unwrap();
        assert_eq!(
            tr.deviations(),
            vec![
                Finding::Bid(BidFinding::PriceDiffers {
                    fund_id: "hy".parse().unwrap(),
                    advised: Price::new(17_500).unwrap(),
                    actual: Price::new(17_300).unwrap(),
                    diff: -200,
                }),
                Finding::Bid(BidFinding::UnadvisedBid { fund_id: "extra".parse().unwrap() }),
            ]
        );
    }

    #[test]
    fn reopening_withdraws_the_answer() {
        let mut tr = tracker_in(&bid_advice(), TrackerState::Submitted).unwrap();
        tr.apply(TrackerEvent::Reopened { at: t(5) }).unwrap();
        assert_eq!((tr.state(), tr.answer()), (TrackerState::Acknowledged, None));
        assert_eq!(tr.deviations(), vec![]);
    }

    #[test]
    fn a_tracker_knows_how_far_it_got_with_an_input() {
        let mut tr = tracker();
        let press = InputId::press("cb-1");
        let answer = InputId::message(-100, 7, None);
        assert_eq!(tr.progress(&press), InputProgress::New);
        tr.acted_on(&press);
        assert_eq!(tr.progress(&press), InputProgress::Applied);
        tr.replied_to(&press);
        assert_eq!(tr.progress(&press), InputProgress::Answered);
        assert_eq!(tr.progress(&answer), InputProgress::New);
        // A reply with no change (an answer refused) is done, not applied.
        tr.replied_to(&answer);
        assert_eq!((tr.progress(&answer), tr.progress(&press)), (InputProgress::Replied, InputProgress::New));
        assert_ne!(InputId::message(-100, 7, Some(1)), answer, "an edit is an input of its own");
        let stored = serde_json::to_value(&tr).unwrap();
        assert_eq!(serde_json::from_value::<Tracker>(stored).unwrap(), tr);
    }

    #[test]
    fn stored_trackers_are_checked_when_read() {
        let confirmed = tracker_in(&bid_advice(), TrackerState::Confirmed).unwrap();
        let good = serde_json::to_value(&confirmed).unwrap();
        assert_eq!(good["advice"]["phase"], "bid");
        assert_eq!(good["answer"]["phase"], "bid");
        assert_eq!(serde_json::from_value::<Tracker>(good.clone()).unwrap(), confirmed);
        let mut no_answer = good.clone();
        no_answer["answer"] = serde_json::Value::Null;
        assert!(serde_json::from_value::<Tracker>(no_answer).is_err(), "confirmed needs values");
        let mut twice = good.clone();
        let line = twice["advice"]["lines"][0].clone();
        twice["advice"]["lines"] = serde_json::json!([line.clone(), line]);
        assert!(serde_json::from_value::<Tracker>(twice).is_err(), "advice names a fund once");
        let mut mismatched = good;
        mismatched["answer"] = serde_json::json!({ "phase": "allotment", "lines": [{ "fund_id": "hy", "allotted": { "result": "none" } }] });
        assert!(serde_json::from_value::<Tracker>(mismatched).is_err(), "an answer of another phase");
    }

    #[test]
    fn trackers_stored_before_phases_read_as_the_bid_phase() {
        let confirmed = tracker_in(&bid_advice(), TrackerState::Confirmed).unwrap();
        let mut old = serde_json::to_value(&confirmed).unwrap();
        let object = old.as_object_mut().unwrap();
        let lines = object["advice"]["lines"].clone();
        let actual = object["answer"]["lines"].clone();
        object.insert("advice".into(), lines);
        object.remove("answer");
        object.insert("actual".into(), actual);
        assert_eq!(serde_json::from_value::<Tracker>(old.clone()).unwrap(), confirmed);
        old["state"] = serde_json::json!("sent");
        old["actual"] = serde_json::json!([]);
        let sent = serde_json::from_value::<Tracker>(old).unwrap();
        assert_eq!((sent.phase(), sent.answer()), (Phase::Bid, None));
    }

    #[test]
    fn a_tracker_remembers_its_first_and_latest_messages_only() {
        let mut tr = tracker();
        for id in 1..=1_000 {
            tr.note_message(id);
        }
        let ids = tr.message_ids();
        assert_eq!(ids.len(), MAX_MESSAGE_IDS);
        assert_eq!(&ids[..4], &[1, 2, 3, 4], "the advice and the prompt stay");
        assert_eq!(ids[4], 1_000 - (MAX_MESSAGE_IDS as i64 - 4) + 1);
        assert_eq!(*ids.last().unwrap(), 1_000);
        tr.note_message(1_000);
        assert_eq!(tr.message_ids().len(), MAX_MESSAGE_IDS, "a message is remembered once");
    }
}
