//! Writing the audit and error logs, best effort: a failure to log is itself only logged, never
//! allowed to undo or block the action it describes.

use super::App;
use crate::domain::journal::{AuditEntry, BACKGROUND_FAILURE_LOG, ErrorEntry};

impl App {
    pub async fn record_audit(
        &self,
        actor: &str,
        action: &str,
        entity_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) {
        let entry = AuditEntry {
            id: uuid::Uuid::now_v7().simple().to_string(),
            at: self.clock.now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            entity_id: entity_id.to_owned(),
            before,
            after,
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!(error = %e, action, entity_id, "audit entry not written");
        }
    }

    pub async fn record_error(&self, source: &str, context: &str, message: &str) {
        let entry = ErrorEntry {
            id: uuid::Uuid::now_v7().simple().to_string(),
            at: self.clock.now(),
            source: source.to_owned(),
            context: context.to_owned(),
            message: message.to_owned(),
        };
        // Counted by a metric filter in AWS, which raises an alarm (`BACKGROUND_FAILURE_LOG`).
        tracing::error!(source, context, "{BACKGROUND_FAILURE_LOG}");
        if let Err(e) = self.store.append_error(&entry).await {
            tracing::error!(error = %e, source, context, "error entry not written");
        }
    }
}
