//! Chasing silent clients: after each move a chase job is scheduled at the next due time; the job
//! re-reads the tracker, does everything due (an escalation and a reminder can fall in one minute)
//! and schedules the next. A client that moved on meanwhile is left alone.

use super::{FIRE_GRACE, Loaded, ack_button};
use crate::app::{App, AppError, Outgoing, Refusal, all_pages};
use crate::domain::client::Client;
use crate::domain::ids::{ChatId, ClientId, ProcessId};
use crate::domain::process::{Process, ProcessState};
use crate::domain::reminder::{NextAction, next_action};
use crate::domain::templates::{self, staff};
use crate::domain::tracker::{Tracker, TrackerEvent, TrackerState};
use crate::ports::scheduler::Job;
use crate::ports::store::StoreError;

impl App {
    /// Schedules the next reminder or escalation of a tracker, if any is due.
    pub(crate) async fn schedule_chase(
        &self,
        process: &Process,
        tracker: &Tracker,
        client: &Client,
    ) -> Result<(), AppError> {
        match next_action(&process.policy, tracker, client.response_tracking) {
            NextAction::Remind { at } | NextAction::Escalate { at } => {
                self.scheduler.schedule(&Job::chase(&process.id, &tracker.client_id, at)).await?;
            }
            NextAction::Nothing => {}
        }
        Ok(())
    }

    /// A chase job fired: does every reminder or escalation that is due, then schedules the next.
    pub async fn chase(&self, process_id: &ProcessId, client_id: &ClientId) -> Result<(), AppError> {
        let loaded = self.load_process(process_id).await?;
        let process = &loaded.process;
        if process.state() != ProcessState::Running {
            return Ok(());
        }
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let client = self.store.get_client(client_id).await?.value;
        let Some(chat) = client.reachable_chat() else { return Ok(()) };
        let now = self.clock.now();
        let due_by = now + FIRE_GRACE;
        let mut tracker = stored.value.clone();
        let mut escalations = Vec::new();
        loop {
            let due = next_action(&process.policy, &tracker, client.response_tracking);
            if !matches!(due, NextAction::Remind { at } | NextAction::Escalate { at } if at <= due_by) {
                break;
            }
            if let NextAction::Remind { .. } = due {
                self.send_reminder(&loaded, &client, &mut tracker, chat).await?;
                tracker.apply(TrackerEvent::Reminded { at: now })?;
            } else {
                let minutes = (now - tracker.state_since()).num_minutes();
                let subject = loaded.subject(tracker.advice());
                escalations.push(staff::escalation(&subject, &client, minutes, tracker.state(), tracker.phase()));
                tracker.apply(TrackerEvent::Escalated { at: now })?;
            }
        }
        if tracker == stored.value {
            // Nothing was due (the job fired early or the client moved on): plan from what is.
            return self.schedule_chase(process, &tracker, &client).await;
        }
        let planned = match self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await {
            Ok(saved) => self.schedule_chase(process, &saved.value, &client).await,
            // The client answered meanwhile: keep the reminders' ids (a reply to one must find
            // the tracker) and plan from what it did.
            Err(StoreError::Conflict { .. }) => {
                let sent: Vec<i64> = tracker
                    .message_ids()
                    .iter()
                    .filter(|id| !stored.value.message_ids().contains(id))
                    .copied()
                    .collect();
                let current = self
                    .update_tracker(process_id, client_id, |t| {
                        sent.iter().for_each(|id| t.note_message(*id));
                        Ok(!sent.is_empty())
                    })
                    .await?;
                let current = match current {
                    Some(saved) => saved,
                    None => self.store.get_tracker(process_id, client_id).await?,
                };
                self.schedule_chase(process, &current.value, &client).await
            }
            Err(e) => Err(e.into()),
        };
        for escalation in escalations {
            self.notify_staff_about(Some(process_id), escalation).await;
        }
        self.card_changed(process_id).await;
        planned
    }

    /// Staff asked to remind one client now; refused, saying why, when the client is not the one
    /// who has to act.
    pub async fn remind_now(&self, process_id: &ProcessId, client_id: &ClientId) -> Result<(), AppError> {
        let loaded = self.load_process(process_id).await?;
        let stored = self.store.get_tracker(process_id, client_id).await?;
        let client = self.store.get_client(client_id).await?.value;
        if loaded.process.state() != ProcessState::Running {
            return Err(Refusal::NotAwaitingClient(format!("the process is {}", loaded.process.state())).into());
        }
        if !stored.value.awaits_client() {
            let why = match stored.value.state() {
                TrackerState::Pending => "nothing was sent to this client yet".to_owned(),
                TrackerState::Submitted => "the client answered; its answer waits for staff to confirm".to_owned(),
                TrackerState::Failed => format!(
                    "the send failed ({}): fix the group, then retry",
                    stored.value.failure().unwrap_or("unknown")
                ),
                state => format!("the tracker is {state} and needs nothing more from the client"),
            };
            return Err(Refusal::NotAwaitingClient(why).into());
        }
        let Some(chat) = client.reachable_chat() else {
            return Err(Refusal::NotAwaitingClient("the client's group is not linked or removed the bot".into()).into());
        };
        let mut tracker = stored.value.clone();
        self.send_reminder(&loaded, &client, &mut tracker, chat).await?;
        tracker.apply(TrackerEvent::Reminded { at: self.clock.now() })?;
        let saved = match self.store.transition_tracker(&tracker, stored.value.state(), stored.version).await {
            Ok(saved) => saved,
            Err(StoreError::Conflict { .. }) => self.store.get_tracker(process_id, client_id).await?,
            Err(e) => return Err(e.into()),
        };
        self.schedule_chase(&loaded.process, &saved.value, &client).await
    }

    async fn send_reminder(
        &self,
        loaded: &Loaded,
        client: &Client,
        tracker: &mut Tracker,
        chat: ChatId,
    ) -> Result<(), AppError> {
        let unacknowledged = tracker.state() == TrackerState::Sent;
        let subject = loaded.subject(tracker.advice());
        let out = Outgoing {
            chat,
            html: if unacknowledged {
                templates::reminder_unacknowledged(&subject)
            } else {
                templates::reminder_unanswered(&subject, tracker.phase())
            },
            markup: unacknowledged.then(|| ack_button(&loaded.process.id)),
            reply_to: tracker.message_ids().first().copied(),
            client: Some(client.id.clone()),
            process: Some(loaded.process.id.clone()),
        };
        for sent in self.deliver(&out).await? {
            tracker.note_message(sent.message_id);
        }
        Ok(())
    }

    /// The bot is back in a client's group: chase its open trackers again.
    pub(crate) async fn resume_chasing(&self, client: &Client) -> Result<(), AppError> {
        let trackers = all_pages(|page| async move { self.store.trackers_of_client(&client.id, &page).await }).await?;
        for t in trackers.iter().filter(|t| t.value.awaits_client()) {
            let process = self.store.get_process(&t.value.process_id).await?.value;
            if process.state() == ProcessState::Running {
                self.schedule_chase(&process, &t.value, client).await?;
            }
        }
        Ok(())
    }
}
