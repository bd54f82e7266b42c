//! The [`Scheduler`] port on Amazon EventBridge Scheduler: one one-time schedule per job, named after
//! the job, in one schedule group, firing the scheduler function with a JSON [`Invocation`].
//!
//! - The expression is `at(yyyy-mm-ddThh:mm:ss)` in Asia/Seoul local time with
//!   `ScheduleExpressionTimezone = "Asia/Seoul"` (KST is UTC+9 all year, so the conversion is exact).
//! - `ActionAfterCompletion = DELETE`: a fired schedule deletes itself, so its name is free again.
//! - A time in the past (or less than [`MIN_LEAD`] ahead) is moved to now + [`MIN_LEAD`]: AWS rejects
//!   (or, at best, never fires) an `at()` that has already passed, and a late job must still run once.
//! - Creating a name that exists answers 409 ConflictException: the job is already scheduled, `Ok`.
//! - Deleting a name that does not exist (fired, or never scheduled) answers 404: `Ok`.
//!
//! See `docs/scheduling.md` for the Input contract and the idempotency key.

use crate::domain::time::{Timestamp, kst};
use crate::ports::clock::{Clock, SystemClock};
use crate::ports::scheduler::{Job, JobPayload, Scheduler, SchedulerError};
use async_trait::async_trait;
use aws_sdk_scheduler::error::{DisplayErrorContext, SdkError};
use aws_sdk_scheduler::operation::create_schedule::CreateScheduleError;
use aws_sdk_scheduler::operation::delete_schedule::DeleteScheduleError;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};
use chrono::{SecondsFormat, SubsecRound, TimeDelta};
use serde::Deserialize;
use std::sync::Arc;

/// The IANA zone schedule expressions are written in.
pub const SCHEDULE_TIMEZONE: &str = "Asia/Seoul";
/// What EventBridge Scheduler replaces, in the target input, with the time the schedule was due
/// (RFC 3339 in UTC, e.g. `2026-03-16T00:00:00Z`): the same on every retry of one firing.
pub const SCHEDULED_TIME_PLACEHOLDER: &str = "<aws.scheduler.scheduled-time>";
/// How long EventBridge Scheduler keeps retrying one firing before it gives up (or dead-letters it).
pub const MAXIMUM_EVENT_AGE_SECONDS: i32 = 3600;
/// How many times EventBridge Scheduler retries one firing whose invocation failed.
pub const MAXIMUM_RETRY_ATTEMPTS: i32 = 10;
/// The least a job is scheduled ahead of now: a job due earlier (late, or in the past) fires then.
pub const MIN_LEAD: TimeDelta = TimeDelta::minutes(1);

/// Schedules jobs as one-time EventBridge Scheduler schedules.
pub struct EventBridgeScheduler {
    client: aws_sdk_scheduler::Client,
    group: String,
    target_arn: String,
    role_arn: String,
    dead_letter_arn: Option<String>,
    clock: Arc<dyn Clock>,
}

impl EventBridgeScheduler {
    /// `group` must exist (the SAM template creates it); `target_arn` is the scheduler function,
    /// `role_arn` the role EventBridge Scheduler assumes to invoke it, `dead_letter_arn` an SQS queue
    /// for firings whose retries are exhausted.
    pub fn new(
        client: aws_sdk_scheduler::Client,
        group: impl Into<String>,
        target_arn: impl Into<String>,
        role_arn: impl Into<String>,
        dead_letter_arn: Option<String>,
    ) -> Self {
        EventBridgeScheduler {
            client,
            group: group.into(),
            target_arn: target_arn.into(),
            role_arn: role_arn.into(),
            dead_letter_arn,
            clock: Arc::new(SystemClock),
        }
    }

    /// The clock that decides whether a job is already due (the machine's by default).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    fn target(&self, job: &Job) -> Result<Target, SchedulerError> {
        let retry = RetryPolicy::builder()
            .maximum_event_age_in_seconds(MAXIMUM_EVENT_AGE_SECONDS)
            .maximum_retry_attempts(MAXIMUM_RETRY_ATTEMPTS)
            .build();
        Target::builder()
            .arn(&self.target_arn)
            .role_arn(&self.role_arn)
            .input(target_input(job)?)
            .retry_policy(retry)
            .set_dead_letter_config(
                self.dead_letter_arn.as_ref().map(|arn| DeadLetterConfig::builder().arn(arn).build()),
            )
            .build()
            .map_err(|e| refused(job, e.to_string()))
    }
}

#[async_trait]
impl Scheduler for EventBridgeScheduler {
    async fn schedule(&self, job: &Job) -> Result<(), SchedulerError> {
        check_name(&job.name).map_err(|reason| refused(job, reason))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| refused(job, e.to_string()))?;
        let fires = fire_time(job.at, self.clock.now());
        let result = self
            .client
            .create_schedule()
            .name(&job.name)
            .group_name(&self.group)
            .schedule_expression(schedule_expression(fires))
            .schedule_expression_timezone(SCHEDULE_TIMEZONE)
            .flexible_time_window(window)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(self.target(job)?)
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(name = %job.name, group = %self.group, at = %fires, "scheduled");
                Ok(())
            }
            Err(SdkError::ServiceError(e)) if matches!(e.err(), CreateScheduleError::ConflictException(_)) => {
                tracing::debug!(name = %job.name, "already scheduled");
                Ok(())
            }
            Err(err) => {
                let reason = DisplayErrorContext(&err).to_string();
                match err.as_service_error() {
                    Some(
                        CreateScheduleError::ValidationException(_)
                        | CreateScheduleError::ResourceNotFoundException(_)
                        | CreateScheduleError::ServiceQuotaExceededException(_),
                    ) => Err(refused(job, reason)),
                    _ => Err(SchedulerError::Unavailable(reason)),
                }
            }
        }
    }

    async fn cancel(&self, name: &str) -> Result<(), SchedulerError> {
        let result = self.client.delete_schedule().name(name).group_name(&self.group).send().await;
        match result {
            Ok(_) => {
                tracing::info!(name, group = %self.group, "cancelled");
                Ok(())
            }
            Err(SdkError::ServiceError(e)) if matches!(e.err(), DeleteScheduleError::ResourceNotFoundException(_)) => {
                Ok(())
            }
            Err(err) => {
                let reason = DisplayErrorContext(&err).to_string();
                match err.as_service_error() {
                    Some(DeleteScheduleError::ValidationException(_)) => {
                        Err(SchedulerError::Refused { name: name.to_owned(), reason })
                    }
                    _ => Err(SchedulerError::Unavailable(reason)),
                }
            }
        }
    }
}

fn refused(job: &Job, reason: impl Into<String>) -> SchedulerError {
    SchedulerError::Refused { name: job.name.clone(), reason: reason.into() }
}

/// EventBridge Scheduler's rule for schedule names: 1 to 64 of `[0-9A-Za-z_.-]`.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err(format!("a schedule name has 1 to 64 characters, not {}", name.len()));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err("a schedule name has only letters, digits, '-', '_' and '.'".into());
    }
    Ok(())
}

/// When a job due at `at` is made to fire, seen at `now`: `at` to the second, or now + [`MIN_LEAD`]
/// when that is later (a due or overdue job fires as soon as it can, once).
pub fn fire_time(at: Timestamp, now: Timestamp) -> Timestamp {
    at.max(now + MIN_LEAD).trunc_subsecs(0)
}

/// `at(2026-03-16T09:00:00)` for 2026-03-16T00:00:00Z: the instant in KST, to be read with
/// [`SCHEDULE_TIMEZONE`].
pub fn schedule_expression(at: Timestamp) -> String {
    at.with_timezone(&kst()).format("at(%Y-%m-%dT%H:%M:%S)").to_string()
}

/// The target input of `job`: `{"name", "scheduled_time": "<aws.scheduler.scheduled-time>", "payload"}`.
pub fn target_input(job: &Job) -> Result<String, SchedulerError> {
    let input = serde_json::json!({
        "name": job.name,
        "scheduled_time": SCHEDULED_TIME_PLACEHOLDER,
        "payload": job.payload,
    });
    serde_json::to_string(&input).map_err(|e| refused(job, format!("serialising the input: {e}")))
}

/// One firing of a schedule, as the scheduler function receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub name: String,
    /// When the schedule was due (not when it was delivered): the same on every retry.
    pub scheduled_time: Timestamp,
    pub payload: JobPayload,
}

impl Invocation {
    /// The key that makes a firing's effects happen once: schedule name and due time, never the
    /// execution id (which changes on every retry of the same firing).
    pub fn idempotency_key(&self) -> String {
        format!("schedule:{}:{}", self.name, self.scheduled_time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error("not a scheduler invocation: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("the scheduled time was not substituted (was the input sent by hand, not by EventBridge Scheduler?)")]
    PlaceholderNotSubstituted,
    #[error("scheduled_time {value:?} is not an RFC 3339 time: {reason}")]
    ScheduledTime { value: String, reason: String },
}

#[derive(Deserialize)]
struct RawInvocation {
    name: String,
    scheduled_time: String,
    payload: JobPayload,
}

/// Reads the event the scheduler function receives (the target input, with the scheduled time
/// substituted).
pub fn parse_invocation(value: serde_json::Value) -> Result<Invocation, InvocationError> {
    let raw: RawInvocation = serde_json::from_value(value)?;
    if raw.scheduled_time == SCHEDULED_TIME_PLACEHOLDER {
        return Err(InvocationError::PlaceholderNotSubstituted);
    }
    let scheduled_time = chrono::DateTime::parse_from_rfc3339(&raw.scheduled_time)
        .map_err(|e| InvocationError::ScheduledTime { value: raw.scheduled_time.clone(), reason: e.to_string() })?
        .to_utc();
    Ok(Invocation { name: raw.name, scheduled_time, payload: raw.payload })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{ClientId, ProcessId};
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn expressions_are_kst_local_time() {
        assert_eq!(schedule_expression(t("2026-03-16T00:00:00Z")), "at(2026-03-16T09:00:00)");
        // Crosses midnight KST.
        assert_eq!(schedule_expression(t("2026-12-31T15:30:05Z")), "at(2027-01-01T00:30:05)");
    }

    #[test]
    fn future_jobs_keep_their_time_and_late_ones_fire_a_minute_from_now() {
        let now = t("2026-03-16T00:00:00Z");
        assert_eq!(fire_time(t("2026-03-17T00:00:00Z"), now), t("2026-03-17T00:00:00Z"));
        assert_eq!(fire_time(t("2026-03-17T00:00:00.750Z"), now), t("2026-03-17T00:00:00Z"));
        assert_eq!(fire_time(t("2026-03-15T00:00:00Z"), now), t("2026-03-16T00:01:00Z"));
        assert_eq!(fire_time(t("2026-03-16T00:00:30Z"), now), t("2026-03-16T00:01:00Z"));
        assert_eq!(fire_time(t("2026-03-15T00:00:00Z"), t("2026-03-16T00:00:00.400Z")), t("2026-03-16T00:01:00Z"));
    }

    #[test]
    fn names_follow_the_service_rule() {
        assert!(check_name("kickoff-p1").is_ok());
        assert!(check_name(&"a".repeat(64)).is_ok());
        assert!(check_name(&"a".repeat(65)).is_err());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name("한").is_err());
    }

    #[test]
    fn the_input_carries_name_placeholder_and_payload() {
        let process: ProcessId = "p1".parse().unwrap();
        let job = Job::kickoff(&process, t("2026-03-16T00:00:00Z"));
        let input: serde_json::Value = serde_json::from_str(&target_input(&job).unwrap()).unwrap();
        assert_eq!(
            input,
            json!({
                "name": "kickoff-p1",
                "scheduled_time": "<aws.scheduler.scheduled-time>",
                "payload": {"job": "kickoff", "process_id": "p1"},
            })
        );
    }

    #[test]
    fn an_invocation_is_the_input_with_the_time_substituted() {
        let process: ProcessId = "p1".parse().unwrap();
        let client: ClientId = "c1".parse().unwrap();
        let job = Job::chase(&process, &client, t("2026-03-16T00:00:00Z"));
        let input = target_input(&job).unwrap().replace(SCHEDULED_TIME_PLACEHOLDER, "2026-03-16T00:00:00Z");
        let invocation = parse_invocation(serde_json::from_str(&input).unwrap()).unwrap();
        assert_eq!(
            invocation,
            Invocation { name: job.name.clone(), scheduled_time: t("2026-03-16T00:00:00Z"), payload: job.payload }
        );
        assert_eq!(invocation.idempotency_key(), format!("schedule:{}:2026-03-16T00:00:00Z", job.name));
    }

    #[test]
    fn the_key_is_the_same_for_every_spelling_of_the_time() {
        let parse = |time: &str| {
            parse_invocation(json!({
                "name": "kickoff-p1",
                "scheduled_time": time,
                "payload": {"job": "kickoff", "process_id": "p1"},
            }))
            .unwrap()
        };
        let key = parse("2026-03-16T00:00:00Z").idempotency_key();
        assert_eq!(key, "schedule:kickoff-p1:2026-03-16T00:00:00Z");
        assert_eq!(parse("2026-03-16T09:00:00+09:00").idempotency_key(), key);
        assert_eq!(parse("2026-03-16T00:00:00.000Z").idempotency_key(), key);
        assert_ne!(parse("2026-03-16T00:01:00Z").idempotency_key(), key);
    }

    #[test]
    fn bad_invocations_are_errors_not_panics() {
        let payload = json!({"job": "kickoff", "process_id": "p1"});
        let cases = [
            json!(null),
            json!("kickoff-p1"),
            json!({"scheduled_time": "2026-03-16T00:00:00Z", "payload": payload}),
            json!({"name": "kickoff-p1", "payload": payload}),
            json!({"name": "kickoff-p1", "scheduled_time": "2026-03-16T00:00:00Z"}),
            json!({"name": "kickoff-p1", "scheduled_time": "2026-03-16T00:00:00Z", "payload": {"job": "reboot"}}),
            json!({"name": "kickoff-p1", "scheduled_time": 1_773_619_200, "payload": payload}),
        ];
        for case in cases {
            assert!(matches!(parse_invocation(case.clone()), Err(InvocationError::Shape(_))), "{case}");
        }
        let unsubstituted = json!({"name": "n", "scheduled_time": SCHEDULED_TIME_PLACEHOLDER, "payload": payload});
        assert!(matches!(parse_invocation(unsubstituted), Err(InvocationError::PlaceholderNotSubstituted)));
        let bad_time = json!({"name": "n", "scheduled_time": "2026-03-16 09:00", "payload": payload});
        assert!(matches!(parse_invocation(bad_time), Err(InvocationError::ScheduledTime { .. })));
    }
}
