//! What staff did (the audit log) and what went wrong in the background (the error log).

use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One change made through the staff API, with the record before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: Timestamp,
    /// Who, as the authenticator named them.
    pub actor: String,
    /// What, e.g. `client.update`, `process.start`.
    pub action: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The message of the log line each error-log entry also writes (at error level, with its source
/// and context, never its text, which may quote a client): `template.yaml`'s metric filters count
/// it, and an alarm watches the count.
pub const BACKGROUND_FAILURE_LOG: &str = "background failure";

/// A failure nobody was there to see: an update accepted but not handled, a job that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEntry {
    pub id: String,
    pub at: Timestamp,
    /// `webhook` or `job`.
    pub source: String,
    /// The update id or the job's key.
    pub context: String,
    pub message: String,
}
