//! The bot's emergency stop: one switch for every process at once. While it is off, nothing is
//! sent to clients and nothing is sent to the staff group but the stop and resume notices; what
//! would have gone is held where it already waits (trackers not yet sent, chases due, queued
//! staff notices) and goes when staff resume. See `docs/scheduling.md` ("The emergency stop").

use crate::domain::ids::StaffId;
use crate::domain::text::Label;
use crate::domain::time::{Timestamp, format_kst};
use crate::telegram::html::escape;
use serde::{Deserialize, Serialize};

/// Who stopped the bot, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// The staff member's name, as the audit log names them.
    pub by: String,
    pub staff_id: Option<StaffId>,
    pub since: Timestamp,
    pub reason: Label,
}

/// Who last resumed the bot, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub by: String,
    pub at: Timestamp,
}

/// The switch, as stored: one record for the whole deployment. Never written means running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotControl {
    /// Set while the bot is stopped.
    pub stopped: Option<Stop>,
    /// The last resume, kept while running: notices held by the stop are not late for having
    /// waited through it.
    pub resumed: Option<Resume>,
}

/// Running or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BotState {
    Running,
    Stopped,
}

/// The bot's state as staff see it (the API and the dashboard's banner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BotStatus {
    pub state: BotState,
    /// Who stopped it (while stopped) or last resumed it (while running; absent if nobody ever did).
    pub by: Option<String>,
    /// Since when it is in this state (absent for a bot never stopped). Spelled out for the
    /// schema, which does not see through the `Timestamp` alias.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Why it was stopped (while stopped).
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotSwitchError {
    #[error("the bot is already stopped (by {by} since {since}: {reason})")]
    AlreadyStopped { by: String, since: String, reason: String },
    #[error("the bot is running: there is nothing to resume")]
    NotStopped,
}

impl BotControl {
    pub fn is_stopped(&self) -> bool {
        self.stopped.is_some()
    }

    /// Stops the bot; refused when it is stopped already (the first stop's reason stands).
    pub fn stop(&mut self, stop: Stop) -> Result<(), BotSwitchError> {
        if let Some(current) = &self.stopped {
            return Err(already_stopped(current));
        }
        self.stopped = Some(stop);
        Ok(())
    }

    /// Resumes the bot: the stop it ends, or refused when it is running.
    pub fn resume(&mut self, resume: Resume) -> Result<Stop, BotSwitchError> {
        let stop = self.stopped.take().ok_or(BotSwitchError::NotStopped)?;
        self.resumed = Some(resume);
        Ok(stop)
    }

    pub fn status(&self) -> BotStatus {
        match (&self.stopped, &self.resumed) {
            (Some(stop), _) => BotStatus {
                state: BotState::Stopped,
                by: Some(stop.by.clone()),
                since: Some(stop.since),
                reason: Some(stop.reason.to_string()),
            },
            (None, resumed) => BotStatus {
                state: BotState::Running,
                by: resumed.as_ref().map(|r| r.by.clone()),
                since: resumed.as_ref().map(|r| r.at),
                reason: None,
            },
        }
    }

    /// Held work waited from when it was raised, or from the last resume if that is later: a
    /// notice raised during a stop is not late for the stop's length.
    pub fn waited_since(&self, raised: Timestamp) -> Timestamp {
        self.resumed.as_ref().map_or(raised, |r| raised.max(r.at))
    }
}

pub(crate) fn already_stopped(stop: &Stop) -> BotSwitchError {
    BotSwitchError::AlreadyStopped {
        by: stop.by.clone(),
        since: format_kst(stop.since),
        reason: stop.reason.to_string(),
    }
}

/// The staff group's notice of a stop.
pub fn stop_notice(stop: &Stop) -> String {
    format!(
        "⛔ <b>봇 긴급 정지</b>\n{} 님이 {}에 봇을 정지했습니다.\n사유: {}\n\n고객사 발송, 리마인드, 에스컬레이션과 직원방 알림을 모두 보류합니다. 고객의 답변은 계속 받아 기록합니다. 재개하면 보류된 일을 이어서 진행합니다.",
        escape(&stop.by),
        format_kst(stop.since),
        escape(stop.reason.as_str()),
    )
}

/// The staff group's notice of a resume.
pub fn resume_notice(stop: &Stop, resume: &Resume, processes: usize) -> String {
    format!(
        "▶️ <b>봇 재개</b>\n{} 님이 {}에 봇을 재개했습니다 ({}부터 정지, 사유: {}).\n진행 중인 프로세스 {processes}건을 멈춘 곳부터 이어서 진행합니다. 보류된 알림이 뒤따릅니다.",
        escape(&resume.by),
        format_kst(resume.at),
        format_kst(stop.since),
        escape(stop.reason.as_str()),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn stop() -> Stop {
        Stop {
            by: "김운영".into(),
            staff_id: None,
            since: at("2026-03-16T00:30:00Z"),
            reason: Label::new("오발송").unwrap(),
        }
    }

    #[test]
    fn stop_then_resume_and_neither_twice() {
        let mut control = BotControl::default();
        assert_eq!(control.status().state, BotState::Running);
        control.stop(stop()).unwrap();
        assert!(matches!(control.stop(stop()), Err(BotSwitchError::AlreadyStopped { .. })));
        let status = control.status();
        assert_eq!((status.state, status.reason.as_deref()), (BotState::Stopped, Some("오발송")));
        let resume = Resume { by: "박자문".into(), at: at("2026-03-16T01:00:00Z") };
        assert_eq!(control.resume(resume.clone()).unwrap(), stop());
        assert_eq!(control.resume(resume), Err(BotSwitchError::NotStopped));
        let status = control.status();
        assert_eq!((status.state, status.by.as_deref()), (BotState::Running, Some("박자문")));
    }

    #[test]
    fn held_notices_wait_from_the_resume() {
        let mut control = BotControl::default();
        let raised = at("2026-03-16T00:40:00Z");
        assert_eq!(control.waited_since(raised), raised);
        control.stop(stop()).unwrap();
        control.resume(Resume { by: "x".into(), at: at("2026-03-16T01:00:00Z") }).unwrap();
        assert_eq!(control.waited_since(raised), at("2026-03-16T01:00:00Z"));
        assert_eq!(control.waited_since(at("2026-03-16T02:00:00Z")), at("2026-03-16T02:00:00Z"));
    }

    #[test]
    fn notices_escape_what_staff_typed() {
        let mut s = stop();
        s.reason = Label::new("<b>틀린</b> 가격").unwrap();
        assert!(stop_notice(&s).contains("&lt;b&gt;틀린"));
    }
}
