//! The Scheduler port: one-time jobs at a given time (kickoffs, chasing silent clients). In AWS,
//! EventBridge Scheduler invokes the scheduler function; locally, a loop over due jobs in the store.

use crate::domain::ids::{ClientId, ProcessId};
use crate::domain::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What a job does when it fires. Handlers re-read the state and do nothing when it has moved on,
/// so a job fired twice, late, or after a change of plan is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum JobPayload {
    /// Send the process's advice to every client not yet sent to.
    Kickoff { process_id: ProcessId },
    /// Remind or escalate one silent client, whichever is due.
    Chase { process_id: ProcessId, client_id: ClientId },
    /// Send the staff group what is queued for it and bring stale progress cards up to date.
    StaffFeed,
    /// After the emergency stop: carry on a process where it stood (kick it off if its time came
    /// while stopped; else send who was not sent to and chase the others as due).
    Resume { process_id: ProcessId },
}

/// A one-time job. Its name is deterministic, at most 64 characters of `[0-9A-Za-z_.-]`, so
/// scheduling the same job twice is one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub name: String,
    pub at: Timestamp,
    pub payload: JobPayload,
}

impl Job {
    pub fn kickoff(process_id: &ProcessId, at: Timestamp) -> Job {
        Job {
            name: format!("kickoff-{process_id}"),
            at,
            payload: JobPayload::Kickoff { process_id: process_id.clone() },
        }
    }

    /// A chase due at `at`: one name per tracker and due minute.
    pub fn chase(process_id: &ProcessId, client_id: &ClientId, at: Timestamp) -> Job {
        Job {
            name: format!(
                "chase-{}-{}-{}",
                short_hash(process_id.as_str()),
                short_hash(client_id.as_str()),
                at.timestamp() / 60
            ),
            at,
            payload: JobPayload::Chase { process_id: process_id.clone(), client_id: client_id.clone() },
        }
    }
}

impl Job {
    /// Carrying on a process after the emergency stop: one name per process and resume minute,
    /// never the name of a job that fired during the stop.
    pub fn resume(process_id: &ProcessId, at: Timestamp) -> Job {
        Job {
            name: format!("resume-{}-{}", short_hash(process_id.as_str()), at.timestamp() / 60),
            at,
            payload: JobPayload::Resume { process_id: process_id.clone() },
        }
    }

    /// The staff feed's next run: one name per five seconds, so everyone who asks for a run in
    /// the same moment asks for the same one.
    pub fn staff_feed(at: Timestamp) -> Job {
        // The first five-second mark at or after `at` (never before it: a run due at 10:00:00.3
        // that fired at 10:00:00 would find nothing due yet).
        let whole = at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0);
        let slot = (whole + 4).div_euclid(5) * 5;
        let at = chrono::DateTime::from_timestamp(slot, 0).unwrap_or(at);
        Job { name: format!("staff-feed-{slot}"), at, payload: JobPayload::StaffFeed }
    }
}

/// 16 hex digits of FNV-1a: keeps names short whatever the ids' lengths.
fn short_hash(s: &str) -> String {
    let hash = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulerError {
    #[error("the scheduler refused job {name}: {reason}")]
    Refused { name: String, reason: String },
    #[error("the scheduler failed: {0}")]
    Unavailable(String),
    /// This deployment gives the running function no access to the scheduler.
    #[error("this function has no access to the scheduler")]
    Withheld,
}

#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Schedules `job`; a job of the same name already scheduled is left as it is.
    async fn schedule(&self, job: &Job) -> Result<(), SchedulerError>;
    /// Cancels a job by name; cancelling a job that is not there (fired, or never scheduled) is fine.
    async fn cancel(&self, name: &str) -> Result<(), SchedulerError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_names_are_deterministic_short_and_safe() {
        let process = ProcessId::generate();
        let client: ClientId = "x".repeat(56).parse().unwrap();
        let at: Timestamp = "2026-03-16T00:05:00Z".parse().unwrap();
        let a = Job::chase(&process, &client, at);
        assert_eq!(a, Job::chase(&process, &client, at));
        assert_ne!(a.name, Job::chase(&process, &client, at + chrono::TimeDelta::minutes(5)).name);
        for job in [a, Job::kickoff(&process, at), Job::resume(&process, at)] {
            assert!(job.name.len() <= 64, "{}", job.name);
            assert!(job.name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{}", job.name);
        }
    }

    #[test]
    fn feed_runs_fall_on_the_next_five_second_mark() {
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        let job = Job::staff_feed(at("2026-03-16T00:00:00.300Z"));
        assert_eq!((job.at, job.payload), (at("2026-03-16T00:00:05Z"), JobPayload::StaffFeed));
        assert_eq!(Job::staff_feed(at("2026-03-16T00:00:05Z")).at, at("2026-03-16T00:00:05Z"));
        assert_eq!(
            Job::staff_feed(at("2026-03-16T00:00:01Z")).name,
            Job::staff_feed(at("2026-03-16T00:00:04.9Z")).name
        );
    }

    #[test]
    fn payloads_are_tagged_json() {
        let p: ProcessId = "p1".parse().unwrap();
        let json = serde_json::to_value(JobPayload::Kickoff { process_id: p }).unwrap();
        assert_eq!(json, serde_json::json!({"job": "kickoff", "process_id": "p1"}));
    }
}
