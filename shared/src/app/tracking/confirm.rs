//! Staff confirm a client's answer: as submitted, or with values they read off a screenshot,
//! corrected, or took by phone (then from any state the client was sent to). Values staff enter
//! are checked like a client's, and what breaks a rule is told to the staff group.

use crate::app::{App, AppError, Refusal};
use crate::domain::ids::{ClientId, ProcessId, StaffId};
use crate::domain::phase::{LineInput, Severity};
use crate::domain::templates::staff;
use crate::domain::tracker::{Tracker, TrackerEvent};
use crate::ports::store::Versioned;

impl App {
    /// A confirmed answer is settled: the ✅ and ✏️ 수정 buttons still showing in the client's group
    /// come off (best effort; pressing one later would only say it is done).
    async fn retire_buttons(&self, client: &crate::domain::client::Client, tracker: &Tracker) {
        let Some(chat) = client.reachable_chat() else { return };
        for message_id in tracker.message_ids() {
            if let Err(e) = self.messenger.remove_buttons(chat, *message_id).await {
                tracing::debug!(error = %e, message_id, "no buttons to remove");
            }
        }
    }

    /// Confirms a tracker's answer; `lines` replaces it with staff's values. The answer is read
    /// per the tracker's phase, so a value the phase does not take is refused, naming the line.
    pub async fn confirm(
        &self,
        process_id: &ProcessId,
        client_id: &ClientId,
        by: &StaffId,
        lines: Option<&[LineInput]>,
    ) -> Result<Versioned<Tracker>, AppError> {
        let loaded = self.load_process(process_id).await?;
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let client = self.store.get_client(client_id).await?.value;
        let ctx = self.context(&client, loaded.stock.as_ref());
        let answer = match lines {
            Some(lines) => Some(stored.value.advice().answer_from_lines(&client, lines).map_err(Refusal::from)?),
            None => stored.value.answer().cloned(),
        };
        let mut tracker = stored.value.clone();
        let answer = answer.map(|a| a.on_confirm(&ctx));
        tracker.apply(TrackerEvent::Confirmed { by: by.clone(), answer, at: self.clock.now() })?;
        let saved = self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await?;
        self.retire_buttons(&client, &stored.value).await;
        // Confirming what the client sent adds nothing staff have not seen with its submission;
        // values staff entered are checked afresh.
        if let (Some(answer), Some(_)) = (tracker.answer(), lines) {
            let findings = tracker.advice().check(answer, &ctx).unwrap_or_else(|_| tracker.advice().compare(answer));
            if findings.iter().any(|f| f.severity() >= Severity::Warning) {
                let staff_name =
                    self.store.get_staff(by).await.map(|s| s.value.name.to_string()).unwrap_or_else(|_| by.to_string());
                let subject = loaded.subject(tracker.advice());
                let html = staff::confirmed(&subject, &client, &staff_name, tracker.phase(), &findings);
                self.notify_staff_about(Some(process_id), html).await;
            }
        }
        self.tracker_moved(process_id).await;
        // A sale date's last execution report asks for its statements; a stock's last statement
        // gets its result to staff.
        self.after_confirm(&loaded.process).await;
        Ok(saved)
    }
}
