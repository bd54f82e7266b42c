//! The lifecycle every phase shares, written once: kickoff (fan-out and the send claim), chasing
//! (reminders and escalation), answers (buttons, replies, files) and confirmation. What differs per
//! phase is the tracker's content and its texts, dispatched in `domain::phase` and
//! `domain::templates`.

mod answers;
mod chase;
mod confirm;
mod kickoff;

pub use kickoff::KickoffReport;

use super::{App, AppError, retry_on_conflict};
use crate::domain::calendar::KrxCalendar;
use crate::domain::client::Client;
use crate::domain::ids::{ClientId, ProcessId};
use crate::domain::message_log::MessageLogEntry;
use crate::domain::phase::{Advice, Context};
use crate::domain::process::Process;
use crate::domain::regulation::Regulation;
use crate::domain::stock::Stock;
use crate::domain::templates::{self, Subject};
use crate::domain::time::{Timestamp, kst_date};
use crate::domain::tracker::{Tracker, TrackerEvent, TrackerState};
use crate::ports::store::Versioned;
use crate::telegram::types::ReplyMarkup;

/// EventBridge Scheduler fires within the minute, possibly before the second it was given: a job
/// this close to its time counts as on time.
const FIRE_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// A process with what its messages and checks need: its stock, when it has one.
pub(crate) struct Loaded {
    pub process: Process,
    pub stock: Option<Stock>,
}

impl Loaded {
    pub fn subject<'a>(&'a self, advice: &'a Advice) -> Subject<'a> {
        Subject::new(self.stock.as_ref(), self.process.kind, Some(advice))
    }
}

impl App {
    pub(crate) async fn load_process(&self, process_id: &ProcessId) -> Result<Loaded, AppError> {
        Ok(self.load_with_tracker(process_id, None).await?.0)
    }

    /// A process, its stock and (when `client` is given) its tracker for the client: one read
    /// when this process has seen the process before (its stock never changes), two otherwise.
    pub(crate) async fn load_with_tracker(
        &self,
        process_id: &ProcessId,
        client: Option<&ClientId>,
    ) -> Result<(Loaded, Option<Versioned<Tracker>>), AppError> {
        let known = self.memo.stock_of(process_id);
        let bundle = self.store.process_bundle(process_id, known.as_ref().and_then(Option::as_ref), client).await?;
        let process = bundle.process.value;
        let stock = match (&known, &process.stock_id) {
            (Some(_), _) | (None, None) => bundle.stock.map(|s| s.value),
            (None, Some(id)) => Some(self.store.get_stock(id).await?.value),
        };
        self.memo.remember_stock(process_id, process.stock_id.clone());
        Ok((Loaded { process, stock }, bundle.tracker))
    }

    /// What an answer's checks consult: the client, the stock, today's rules.
    pub(crate) fn context<'a>(&self, client: &'a Client, stock: Option<&'a Stock>) -> Context<'a> {
        Context {
            client,
            stock,
            today: kst_date(self.clock.now()),
            regulation: Regulation::builtin(),
            calendar: KrxCalendar::builtin(),
        }
    }

    /// Reads a tracker, lets `change` apply events to it, and saves it conditionally; again from a
    /// fresh read when a chase or another answer got there first. `change` returns `false` when
    /// the tracker's state does not allow what was asked (nothing is saved then).
    pub(crate) async fn update_tracker(
        &self,
        process_id: &ProcessId,
        client_id: &ClientId,
        change: impl Fn(&mut Tracker) -> Result<bool, AppError>,
    ) -> Result<Option<Versioned<Tracker>>, AppError> {
        self.update_tracker_from(None, process_id, client_id, change, &[]).await
    }

    /// [`App::update_tracker`] starting from a tracker already read (`known`), with the log
    /// entries of the messages that went with the change, saved in the same write.
    pub(crate) async fn update_tracker_from(
        &self,
        known: Option<Versioned<Tracker>>,
        process_id: &ProcessId,
        client_id: &ClientId,
        change: impl Fn(&mut Tracker) -> Result<bool, AppError>,
        log: &[MessageLogEntry],
    ) -> Result<Option<Versioned<Tracker>>, AppError> {
        let known = std::sync::Mutex::new(known);
        retry_on_conflict(
            ("tracker", format!("{process_id}/{client_id}")),
            || {
                let first = known.lock().ok().and_then(|mut k| k.take());
                async move {
                    match first {
                        Some(first) => Ok(first),
                        None => self.store.get_tracker(process_id, client_id).await,
                    }
                }
            },
            change,
            |tracker: Tracker, stored: Versioned<Tracker>| async move {
                self.store.transition_tracker_logged(&tracker, stored.value.state(), stored.version, log).await
            },
        )
        .await
    }
}

fn ack_button(process: &ProcessId) -> ReplyMarkup {
    ReplyMarkup::buttons([(templates::ACK_BUTTON.to_owned(), format!("ack:{process}"))])
}

fn edit_button(process: &ProcessId) -> ReplyMarkup {
    ReplyMarkup::buttons([(templates::EDIT_BUTTON.to_owned(), format!("edit:{process}"))])
}

/// The client answered, so the message reached it: a tracker whose send was interrupted or failed
/// (its outcome unknown to us) is sent after all.
fn mark_delivered(tracker: &mut Tracker, at: Timestamp) -> Result<(), AppError> {
    let interrupted = tracker.state() == TrackerState::Pending && tracker.send_started_at().is_some();
    if interrupted || tracker.state() == TrackerState::Failed {
        tracker.apply(TrackerEvent::Sent { at })?;
    }
    Ok(())
}
