//! What clients do in their group: press ✅ or ✏️ 수정, reply with an answer, send a screenshot.
//!
//! Only an explicit act acknowledges: the ✅ button or a reply to the message itself. Service
//! messages, commands and chat that holds no answer are left alone (no error reply to a
//! "감사합니다"). An answer never replaces one already submitted: the client presses 수정 first.
//! The client's own next message (its prompt, its receipt) goes out before anything for staff.

use super::{Loaded, edit_button, mark_delivered};
use crate::app::delivery::outbound_entries;
use crate::app::{App, AppError, Outgoing, all_pages};
use crate::domain::client::Client;
use crate::domain::ids::{ChatId, ProcessId, TelegramUserId};
use crate::domain::phase::{Asks, Severity};
use crate::domain::process::ProcessState;
use crate::domain::templates::{self, staff};
use crate::domain::time::Timestamp;
use crate::domain::tracker::{
    ChatActor, Evidence, EvidenceKind, InputId, InputProgress, MAX_EVIDENCE, Tracker, TrackerError, TrackerEvent,
    TrackerState,
};
use crate::ports::store::{StoreError, Versioned};
use crate::telegram::types::{CallbackQuery, Message, ReplyMarkup};
use std::sync::atomic::{AtomicBool, Ordering};

impl Route {
    fn known(&self) -> Versioned<Tracker> {
        Versioned { value: self.tracker.clone(), version: self.version }
    }
}

/// A client's message matched to the tracker it answers.
struct Route {
    loaded: Loaded,
    tracker: Tracker,
    /// The tracker's version as read: the first write tries it without reading again.
    version: u64,
    /// It replies to one of the bot's messages about this tracker.
    replied: bool,
}

impl App {
    /// Button presses on a process's messages: `ack:<process>` and `edit:<process>`.
    pub(crate) async fn on_tracker_callback(
        &self,
        query: &CallbackQuery,
        client: &Versioned<Client>,
    ) -> Result<(), AppError> {
        let data = query.data.as_deref().unwrap_or_default();
        let (action, process_id) = data.split_once(':').unwrap_or((data, ""));
        let Ok(process_id) = process_id.parse::<ProcessId>() else {
            self.answer_press(query, None).await;
            return Ok(());
        };
        if self.is_staff_user(query.from.id).await? {
            self.answer_press(query, Some(&templates::staff_cannot_answer())).await;
            return Ok(());
        }
        let (loaded, tracker) = match self.load_with_tracker(&process_id, Some(&client.value.id)).await {
            Ok((loaded, Some(tracker))) if loaded.process.state() == ProcessState::Running => (loaded, tracker),
            Ok(_) | Err(AppError::Store(StoreError::NotFound { .. })) => {
                self.answer_press(query, None).await;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let now = self.clock.now();
        let by = ChatActor { user_id: TelegramUserId(query.from.id), name: query.from.display_name() };
        let input = InputId::press(&query.id);
        let progress = tracker.value.progress(&input);
        if progress != InputProgress::New {
            // Delivered again after an attempt that saved the press: carry on from there.
            if progress == InputProgress::Applied {
                self.prompt(&loaded, &client.value, tracker, Some(&input)).await?;
            } else {
                self.schedule_chase(&loaded.process, &tracker.value, &client.value).await?;
            }
            self.tracker_moved(&process_id).await;
            return Ok(());
        }
        let saved = self
            .update_tracker_from(
                Some(tracker),
                &process_id,
                &client.value.id,
                |tracker| {
                    // A press proves the message arrived, even where its send was not recorded.
                    mark_delivered(tracker, now)?;
                    match (action, tracker.state(), tracker.advice().asks()) {
                        ("ack", TrackerState::Sent, Asks::Acknowledgement | Asks::Answer) => {
                            tracker.apply(TrackerEvent::Acknowledged { by: by.clone(), at: now })?
                        }
                        ("edit", TrackerState::Submitted, Asks::Answer) => {
                            tracker.apply(TrackerEvent::Reopened { at: now })?
                        }
                        _ => return Ok(false),
                    };
                    tracker.acted_on(&input);
                    Ok(true)
                },
                &[],
            )
            .await;
        let saved = match saved {
            Ok(Some(saved)) => saved,
            Ok(None) => {
                self.answer_press(query, Some(&templates::already_acknowledged())).await;
                return Ok(());
            }
            Err(AppError::Store(StoreError::NotFound { .. })) => {
                self.answer_press(query, None).await;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.answer_press(query, Some(&templates::acknowledged_toast())).await;
        if let Some(message) = &query.message
            && let Err(e) = self.messenger.remove_buttons(ChatId(message.chat.id), message.message_id).await
        {
            tracing::warn!(error = %e, "could not remove the pressed button");
        }
        self.prompt(&loaded, &client.value, saved, Some(&input)).await?;
        self.tracker_moved(&process_id).await;
        Ok(())
    }

    /// Stops the pressed button's spinner, best effort: Telegram refuses answers to presses older
    /// than a few seconds (a cold start can take that long), and the press has been acted on.
    async fn answer_press(&self, query: &CallbackQuery, text: Option<&str>) {
        if let Err(e) = self.messenger.answer_callback(&query.id, text).await {
            tracing::warn!(error = %e, callback = %query.id, "the button press could not be answered; going on");
        }
    }

    /// Asks for the phase's answer with a ForceReply prompt, remembered on the tracker (as the
    /// reply to `input`); nothing when the phase asks for none.
    async fn prompt(
        &self,
        loaded: &Loaded,
        client: &Client,
        stored: Versioned<Tracker>,
        input: Option<&InputId>,
    ) -> Result<(), AppError> {
        let Some(chat) = client.reachable_chat() else { return Ok(()) };
        let tracker = &stored.value;
        let Some((html, placeholder)) = templates::prompt(&loaded.subject(tracker.advice()), client, tracker.advice())
        else {
            return Ok(());
        };
        let out = Outgoing {
            chat,
            html,
            markup: Some(ReplyMarkup::force_reply(Some(placeholder.into()))),
            reply_to: tracker.message_ids().first().copied(),
            client: Some(client.id.clone()),
            process: Some(loaded.process.id.clone()),
        };
        self.send_remembered(loaded, client, Some(stored), &out, input).await
    }

    /// Sends a message about a tracker, then notes it on the tracker (so replies to it find it,
    /// and a redelivery of `input` knows it went) with its log entry in the same write, and plans
    /// the next chase. `known`: the tracker as last read, if it was.
    async fn send_remembered(
        &self,
        loaded: &Loaded,
        client: &Client,
        known: Option<Versioned<Tracker>>,
        out: &Outgoing,
        input: Option<&InputId>,
    ) -> Result<(), AppError> {
        let delivered = match self.deliver_unlogged(out, None).await {
            Ok(delivered) => delivered,
            // The emergency stop holds replies: the client's act is stored, and after the resume
            // its tracker is chased from the state it reached (a reminder asks again).
            Err(e) if e.is_held() => {
                tracing::info!(client = %client.id, "reply held: the bot is stopped");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let log = outbound_entries(out, &delivered, self.clock.now());
        let note = |tracker: &mut Tracker| {
            for d in &delivered {
                tracker.note_message(d.sent.message_id);
            }
            if let Some(input) = input {
                tracker.replied_to(input);
            }
            Ok(true)
        };
        // The message is out: a note that fails now would have the next attempt send it again,
        // so a passing store failure is retried here first.
        let mut tries = 0;
        let saved = loop {
            tries += 1;
            let known = if tries == 1 { known.clone() } else { None };
            match self.update_tracker_from(known, &loaded.process.id, &client.id, note, &log).await {
                Err(AppError::Store(StoreError::Unavailable(e))) if tries < NOTE_TRIES => {
                    tracing::warn!(error = %e, tries, "noting a sent message failed; trying again");
                    tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(tries))).await;
                }
                saved => break saved?,
            }
        };
        match saved {
            Some(saved) => self.schedule_chase(&loaded.process, &saved.value, client).await,
            None => Ok(()),
        }
    }

    /// A client edited one of its messages. An edit is not taken as an answer (the client may not
    /// mean it as one, and staff may have read the first), but one that changes an answer already
    /// in is told so, and how to change it.
    pub(crate) async fn on_client_edit(&self, message: &Message, client: &Versioned<Client>) -> Result<(), AppError> {
        let client = &client.value;
        let Some(text) = message.text.as_deref() else { return Ok(()) };
        let Some(route) = self.route(message, client, Some(text), false).await? else { return Ok(()) };
        if matches!(route.tracker.progress(&input_of(message)), InputProgress::Answered | InputProgress::Replied) {
            return Ok(());
        }
        let Ok(edited) = route.tracker.advice().parse_reply(text, client) else { return Ok(()) };
        match route.tracker.answer() {
            Some(answer) if *answer != edited => {
                self.reply_for(message, templates::edit_not_applied(), client, &route.loaded).await
            }
            _ => Ok(()),
        }
    }

    /// A message from the client in its group. Returns the process it answered, for the log.
    pub(crate) async fn on_client_message(
        &self,
        message: &Message,
        client: &Versioned<Client>,
    ) -> Result<Option<ProcessId>, AppError> {
        let client = &client.value;
        let now = self.clock.now();
        let evidence = evidence_of(message, now);
        let text = message.text_or_caption().map(str::trim).filter(|t| !t.is_empty());
        // Service messages (members joining, pins, new titles) and commands are not answers.
        if evidence.is_none() && (text.is_none() || message.command().is_some()) {
            return Ok(None);
        }
        let Some(route) = self.route(message, client, text, evidence.is_some()).await? else { return Ok(None) };
        let process_id = route.loaded.process.id.clone();
        if route.tracker.progress(&input_of(message)) == InputProgress::Replied {
            return Ok(Some(process_id)); // an earlier attempt did all there was to do
        }
        match evidence {
            Some(evidence) => self.take_evidence(message, client, route, evidence).await?,
            None => self.take_text(message, client, route, text.unwrap_or_default()).await?,
        }
        Ok(Some(process_id))
    }

    async fn take_evidence(
        &self,
        message: &Message,
        client: &Client,
        route: Route,
        evidence: Evidence,
    ) -> Result<(), AppError> {
        let known = route.known();
        let Route { loaded, tracker, .. } = route;
        let process = &loaded.process;
        if tracker.advice().asks() != Asks::Answer {
            return Ok(());
        }
        let now = self.clock.now();
        let input = input_of(message);
        let progress = tracker.progress(&input);
        if progress != InputProgress::New {
            // An earlier attempt kept the file, or told the client there is no room for it.
            let kept = tracker.evidence().iter().any(|e| e.file_id == evidence.file_id);
            if progress == InputProgress::Applied {
                let html = if kept { templates::evidence_received() } else { templates::evidence_full(MAX_EVIDENCE) };
                self.reply_for(message, html, client, &loaded).await?;
            }
            if kept {
                let subject = loaded.subject(tracker.advice());
                self.notify_staff_about(Some(&process.id), staff::evidence(&subject, client)).await;
                self.tracker_moved(&process.id).await;
            }
            return Ok(());
        }
        // Set when the tracker holds all the files it may and the client is to be told (not more
        // than once in a while: a full tracker told recently costs no write).
        let full = AtomicBool::new(false);
        let saved = self
            .update_tracker_from(
                Some(known),
                &process.id,
                &client.id,
                |tracker| {
                    mark_delivered(tracker, now)?;
                    if !matches!(
                        tracker.state(),
                        TrackerState::Sent | TrackerState::Acknowledged | TrackerState::Submitted
                    ) {
                        return Ok(false);
                    }
                    match tracker.apply(TrackerEvent::EvidenceReceived { evidence: evidence.clone(), at: now }) {
                        Err(TrackerError::EvidenceFull) => {
                            let tell = tracker.tell_full(now);
                            full.store(tell, Ordering::Relaxed);
                            if tell {
                                tracker.acted_on(&input);
                            }
                            Ok(tell)
                        }
                        applied => {
                            applied?;
                            tracker.acted_on(&input);
                            Ok(true)
                        }
                    }
                },
                &[],
            )
            .await?;
        if full.load(Ordering::Relaxed) {
            return self.reply_for(message, templates::evidence_full(MAX_EVIDENCE), client, &loaded).await;
        }
        if let Some(saved) = saved {
            self.reply_for(message, templates::evidence_received(), client, &loaded).await?;
            let subject = loaded.subject(tracker.advice());
            self.notify_staff_about(Some(&process.id), staff::evidence(&subject, client)).await;
            // A state change marked the card stale as it was saved; a file added to an answer
            // already in did not.
            if saved.value.state() == tracker.state() {
                self.card_changed(&process.id).await;
            } else {
                self.tracker_moved(&process.id).await;
            }
        }
        Ok(())
    }

    /// A text: an answer is taken (unless one is in already); a reply to the message itself that
    /// holds none acknowledges; a reply with a mistake is told what is wrong; anything else is
    /// the client's own chat and left alone.
    async fn take_text(&self, message: &Message, client: &Client, route: Route, text: &str) -> Result<(), AppError> {
        let known = route.known();
        let Route { loaded, tracker, replied, .. } = route;
        let process = &loaded.process;
        let now = self.clock.now();
        let input = input_of(message);
        let progress = tracker.progress(&input);
        match tracker.advice().parse_reply(text, client) {
            Ok(answer) if progress != InputProgress::New => {
                // Delivered again after an attempt that took the answer: finish what it left.
                self.after_answer(&loaded, client, known, &answer, message, progress).await
            }
            Ok(answer) => {
                if tracker.answer().is_some() {
                    return self
                        .reply_for(message, templates::already_submitted(tracker.phase()), client, &loaded)
                        .await;
                }
                let saved = self
                    .update_tracker_from(
                        Some(known),
                        &process.id,
                        &client.id,
                        |tracker| {
                            mark_delivered(tracker, now)?;
                            let takes = match tracker.state() {
                                TrackerState::Sent | TrackerState::Acknowledged => true,
                                // A file came first: the values typed after it are the answer.
                                TrackerState::Submitted => tracker.answer().is_none(),
                                TrackerState::Pending
                                | TrackerState::Confirmed
                                | TrackerState::Failed
                                | TrackerState::Skipped => false,
                            };
                            if !takes {
                                return Ok(false);
                            }
                            tracker.apply(TrackerEvent::Submitted { answer: answer.clone(), at: now })?;
                            tracker.acted_on(&input);
                            Ok(true)
                        },
                        &[],
                    )
                    .await?;
                let Some(saved) = saved else {
                    return self
                        .reply_for(message, templates::already_submitted(tracker.phase()), client, &loaded)
                        .await;
                };
                self.after_answer(&loaded, client, saved, &answer, message, InputProgress::Applied).await
            }
            Err(e) if e.holds_no_answer() => {
                // An earlier attempt took it as an acknowledgement: carry on from there.
                let acknowledges = progress != InputProgress::New
                    || replied
                        && tracker.advice().asks() != Asks::Nothing
                        && matches!(tracker.state(), TrackerState::Sent | TrackerState::Pending | TrackerState::Failed);
                if acknowledges {
                    return self.acknowledge_by_reply(message, client, &loaded, known).await;
                }
                Ok(())
            }
            // Values with a mistake, in a reply to the bot: the client is answering, so say what
            // is wrong. The same outside a reply may be the client's own chat ("3시에 통화").
            Err(e) if replied => {
                let reason = templates::reply_error(&e, client, tracker.phase());
                self.reply_for(message, templates::unreadable(&reason, client, tracker.advice()), client, &loaded).await
            }
            Err(_) => Ok(()),
        }
    }

    /// What follows a taken answer: the receipt with its 수정 button (unless an earlier attempt
    /// sent it), the staff notice of what deviates, the progress card.
    async fn after_answer(
        &self,
        loaded: &Loaded,
        client: &Client,
        saved: Versioned<Tracker>,
        answer: &crate::domain::phase::Answer,
        message: &Message,
        progress: InputProgress,
    ) -> Result<(), AppError> {
        let process = &loaded.process;
        let subject = loaded.subject(saved.value.advice());
        if progress == InputProgress::Answered {
            self.schedule_chase(process, &saved.value, client).await?;
        } else {
            let receipt = Outgoing {
                reply_to: Some(message.message_id),
                markup: Some(edit_button(&process.id)),
                client: Some(client.id.clone()),
                process: Some(process.id.clone()),
                ..Outgoing::text(ChatId(message.chat.id), templates::received(&subject, client, answer))
            };
            let input = input_of(message);
            self.send_remembered(loaded, client, Some(saved.clone()), &receipt, Some(&input)).await?;
        }
        let findings = match saved.value.advice().check(answer, &self.context(client, loaded.stock.as_ref())) {
            Ok(findings) => findings,
            Err(e) => {
                // Never an all-clear that was not checked: the comparison alone, and why.
                tracing::error!(error = %e, "answer not fully checked");
                saved.value.advice().compare(answer)
            }
        };
        if findings.iter().any(|f| f.severity() >= Severity::Warning) {
            let html = staff::answer(&subject, client, saved.value.phase(), &findings);
            self.notify_staff_about(Some(&process.id), html).await;
        }
        self.tracker_moved(&process.id).await;
        Ok(())
    }

    /// A reply to the message itself that holds no answer ("확인했습니다") acknowledges it; the
    /// bot then asks for the answer, or, for a notice, says it is noted.
    async fn acknowledge_by_reply(
        &self,
        message: &Message,
        client: &Client,
        loaded: &Loaded,
        known: Versioned<Tracker>,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let by = message.from.as_ref().map_or_else(
            || ChatActor { user_id: TelegramUserId(0), name: "익명".into() },
            |u| ChatActor { user_id: TelegramUserId(u.id), name: u.display_name() },
        );
        let input = input_of(message);
        let saved = match known.value.progress(&input) {
            InputProgress::New => None,
            InputProgress::Applied => Some(known.clone()),
            InputProgress::Answered | InputProgress::Replied => {
                self.schedule_chase(&loaded.process, &known.value, client).await?;
                self.tracker_moved(&loaded.process.id).await;
                return Ok(());
            }
        };
        let saved = match saved {
            Some(saved) => Some(saved),
            None => {
                self.update_tracker_from(
                    Some(known),
                    &loaded.process.id,
                    &client.id,
                    |tracker| {
                        mark_delivered(tracker, now)?;
                        if tracker.state() != TrackerState::Sent {
                            return Ok(false);
                        }
                        tracker.apply(TrackerEvent::Acknowledged { by: by.clone(), at: now })?;
                        tracker.acted_on(&input);
                        Ok(true)
                    },
                    &[],
                )
                .await?
            }
        };
        let Some(saved) = saved else { return Ok(()) };
        if saved.value.advice().asks() == Asks::Acknowledgement {
            self.reply_for(message, templates::acknowledged_toast(), client, loaded).await?;
        } else {
            self.prompt(loaded, client, saved, Some(&input)).await?;
        }
        self.tracker_moved(&loaded.process.id).await;
        Ok(())
    }

    /// The tracker a message answers: the one whose message it replies to; when it replies to
    /// none of the bot's messages, the client's only tracker that takes this kind of message (a
    /// notice takes a ✅ or a reply, never a stray message). A reply to a message of a settled
    /// or closed request is never taken for another: the client is told it is closed. When it
    /// cannot tell and the message looks like an answer, the bot asks which IPO.
    async fn route(
        &self,
        message: &Message,
        client: &Client,
        text: Option<&str>,
        has_file: bool,
    ) -> Result<Option<Route>, AppError> {
        let replied_to = message.reply_to_message.as_ref().map(|m| m.message_id);
        let input = input_of(message);
        let trackers = all_pages(|page| async move { self.store.trackers_of_client(&client.id, &page).await }).await?;
        // Delivered again after an attempt that acted on it: the same tracker, whatever came since.
        if let Some(t) = trackers.iter().find(|t| t.value.progress(&input) != InputProgress::New) {
            let loaded = self.load_process(&t.value.process_id).await?;
            let replied = replied_to.is_some_and(|id| t.value.message_ids().contains(&id));
            return Ok(Some(Route { loaded, tracker: t.value.clone(), version: t.version, replied }));
        }
        let mut candidates: Vec<Route> = Vec::new();
        let mut target: Option<(Route, bool)> = None;
        for t in trackers {
            let (tracker, version) = (t.value, t.version);
            let is_target = replied_to.is_some_and(|id| tracker.message_ids().contains(&id));
            // A pending tracker counts only if its send began (it may have arrived).
            let awaits = tracker.advice().asks() != Asks::Nothing
                && match tracker.state() {
                    TrackerState::Sent
                    | TrackerState::Acknowledged
                    | TrackerState::Submitted
                    | TrackerState::Failed => tracker.is_open(),
                    TrackerState::Pending => tracker.send_started_at().is_some(),
                    TrackerState::Confirmed | TrackerState::Skipped => false,
                };
            let stray_ok = awaits && tracker.advice().asks() == Asks::Answer;
            // A client's closed trackers pile up over the years: read their processes only when
            // this message replies to one of them.
            if !is_target && !stray_ok {
                continue;
            }
            let loaded = self.load_process(&tracker.process_id).await?;
            let running = loaded.process.state() == ProcessState::Running;
            let route = Route { loaded, tracker, version, replied: is_target };
            if is_target {
                target = Some((route, awaits && running));
            } else if running {
                candidates.push(route);
            }
        }
        let looks_like_answer = |route: &Route| {
            has_file
                || match route.tracker.advice().parse_reply(text.unwrap_or_default(), client) {
                    Ok(_) => true,
                    Err(e) => !e.holds_no_answer(),
                }
        };
        match target {
            Some((route, true)) => return Ok(Some(route)),
            Some((route, false)) => {
                if looks_like_answer(&route) {
                    self.reply_for(message, templates::closed(), client, &route.loaded).await?;
                }
                return Ok(None);
            }
            None => {}
        }
        // Not a reply to the bot: only an answer that reads whole (or a file) is taken.
        let fits = |r: &Route| has_file || r.tracker.advice().parse_reply(text.unwrap_or_default(), client).is_ok();
        candidates.retain(fits);
        let open: Vec<usize> = (0..candidates.len()).filter(|i| candidates[*i].tracker.answer().is_none()).collect();
        match (candidates.len(), open.as_slice()) {
            (0, _) => Ok(None),
            (1, _) => Ok(candidates.pop()),
            (_, [only]) => Ok(Some(candidates.swap_remove(*only))),
            _ => {
                let out = Outgoing {
                    reply_to: Some(message.message_id),
                    client: Some(client.id.clone()),
                    ..Outgoing::text(ChatId(message.chat.id), templates::which_ipo())
                };
                match self.deliver(&out).await {
                    Err(e) if !e.is_held() => Err(e),
                    _ => Ok(None),
                }
            }
        }
    }

    /// Replies in the client's group about a tracker: logged as about its process, and
    /// remembered on the tracker so that a reply to the reply finds it.
    async fn reply_for(
        &self,
        message: &Message,
        html: String,
        client: &Client,
        loaded: &Loaded,
    ) -> Result<(), AppError> {
        let out = Outgoing {
            reply_to: Some(message.message_id),
            client: Some(client.id.clone()),
            process: Some(loaded.process.id.clone()),
            ..Outgoing::text(ChatId(message.chat.id), html)
        };
        self.send_remembered(loaded, client, None, &out, Some(&input_of(message))).await
    }
}

/// Tries at noting a sent message on its tracker before the attempt fails.
const NOTE_TRIES: u32 = 3;

/// The input a client's message is: an edit is an input of its own.
fn input_of(message: &Message) -> InputId {
    InputId::message(message.chat.id, message.message_id, message.edit_date)
}

/// The file a message carries (the largest size of a photo), as evidence.
fn evidence_of(message: &Message, now: Timestamp) -> Option<Evidence> {
    let (kind, file_id, file_name, size) = message
        .document
        .as_ref()
        .map(|d| (EvidenceKind::Document, d.file_id.clone(), d.file_name.clone(), d.file_size))
        .or_else(|| {
            message
                .photo
                .as_ref()
                .and_then(|sizes| sizes.iter().max_by_key(|p| u64::from(p.width) * u64::from(p.height)))
                .map(|p| (EvidenceKind::Photo, p.file_id.clone(), None, p.file_size))
        })?;
    Some(Evidence { kind, file_id, file_name, size, received_at: now })
}
