//! The webhook's use case: one Telegram update, applied once however often it is delivered. The
//! update is taken (an in-progress record with a deadline, and the inbound message logged, in one
//! write), handled, and completed; when handling fails the record is given back and Telegram is
//! answered with a 5xx, so Telegram delivers it again and the next attempt carries on where this one
//! stopped (the trackers note which input they acted on and whether it was answered). An update
//! that fails every attempt is set aside (recorded, told to staff) and answered 2xx, so the chat's
//! next messages are not held behind it.

use super::{App, Outgoing};
use crate::domain::client::{ChatBinding, Client};
use crate::domain::ids::{ChatId, ClientId, ProcessId, TelegramUserId};
use crate::domain::link_code::LinkCode;
use crate::domain::message_log::{Direction, FileRef, MessageLogEntry};
use crate::domain::templates;
use crate::domain::text::clean;
use crate::ports::store::{IdempotencyRequest, StoreError, UpdateClaim, Versioned};
use crate::telegram::types::{CallbackQuery, ChatMemberUpdated, Message, Update, UpdateKind};
use tracing::Instrument;

/// How long past its handling budget a dead attempt still holds an update.
const HOLD_MARGIN: std::time::Duration = std::time::Duration::from_secs(10);

/// What the webhook answers Telegram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    Processed,
    /// Seen before: nothing done again.
    Duplicate,
    /// Not an update we act on (unparseable, unknown kind, reused id): acknowledged so Telegram does
    /// not retry it.
    Ignored(String),
    /// Not durably accepted (the store failed, or another attempt holds it): Telegram should retry.
    RetryLater(String),
}

impl App {
    pub async fn handle_webhook(&self, body: &[u8]) -> WebhookOutcome {
        let value: serde_json::Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, bytes = body.len(), "webhook body is not JSON");
                return WebhookOutcome::Ignored("not JSON".into());
            }
        };
        let update: Update = match serde_json::from_value(value.clone()) {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %e, "webhook body is not a Telegram update");
                return WebhookOutcome::Ignored("not an update".into());
            }
        };
        let chat = update.chat().map(|c| c.id);
        let span = tracing::info_span!("update", update_id = update.update_id, chat_id = chat, kind = ?update.kind());
        self.handle_update(update, &value).instrument(span).await
    }

    async fn handle_update(&self, update: Update, raw: &serde_json::Value) -> WebhookOutcome {
        let now = self.clock.now();
        let key = format!("telegram-update:{}", update.update_id);
        let (client, logged) = match self.inbound(&update).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "could not find the update's client");
                return WebhookOutcome::RetryLater(e.to_string());
            }
        };
        let request = IdempotencyRequest {
            key: key.clone(),
            // serde_json's map is ordered, so the same update hashes the same however it was spaced.
            payload_hash: Some(fnv1a(raw.to_string().as_bytes())),
            now,
            // An attempt that dies (a crash, the function's timeout) holds the update this long.
            in_progress_until: now + self.config.handling_budget + HOLD_MARGIN,
            expires_at: now + self.config.update_memory,
        };
        let (token, attempt) = match self.store.begin_update(&request, logged.as_slice()).await {
            Ok(UpdateClaim::Taken { token, attempt }) => (token, attempt),
            Ok(UpdateClaim::Done) => {
                tracing::info!("duplicate update ignored");
                return WebhookOutcome::Duplicate;
            }
            Ok(UpdateClaim::InProgress { .. }) => {
                return WebhookOutcome::RetryLater("in progress elsewhere".into());
            }
            Ok(UpdateClaim::PayloadMismatch) => {
                tracing::error!("update id reused with different content");
                return WebhookOutcome::Ignored("update id reused".into());
            }
            Err(e) => {
                tracing::error!(error = %e, "could not take the update");
                return WebhookOutcome::RetryLater(e.to_string());
            }
        };
        let who = client.as_ref().map(|c| c.value.name.to_string());
        if attempt > self.config.update_attempts {
            // Every attempt died without failing (a crash, the function's timeout): no error came
            // back to count, so the count of attempts taken decides.
            self.set_aside(&update, who.as_deref(), attempt - 1, "every attempt stopped without an answer").await;
            if let Err(e) = self.store.complete(&key, &token, Some("set aside"), request.expires_at).await {
                tracing::warn!(error = %e, "the set-aside update could not be marked done");
            }
            return WebhookOutcome::Processed;
        }
        if attempt > 1 {
            tracing::warn!(attempt, "update delivered again after a failed attempt; carrying on");
        }
        let handled = tokio::time::timeout(self.config.handling_budget, self.process(&update, client, logged)).await;
        let failure = match handled {
            Ok(Ok(())) => None,
            // A reply the emergency stop held: what the update brought is stored; retrying would
            // only be held again.
            Ok(Err(e)) if e.is_held() => {
                tracing::info!("update handled; the bot's reply is held by the emergency stop");
                None
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!("handling ran out of time ({:?})", self.config.handling_budget)),
        };
        let Some(reason) = failure else {
            if let Err(e) = self.store.complete(&key, &token, Some("handled"), request.expires_at).await {
                // Applied, but a redelivery may run it again: the trackers' marks keep that harmless.
                tracing::warn!(error = %e, "update handled but not marked done");
            }
            return WebhookOutcome::Processed;
        };
        tracing::error!(error = %reason, attempt, "handling the update failed");
        self.record_error("webhook", &key, &format!("attempt {attempt}: {reason}")).await;
        if attempt < self.config.update_attempts {
            if let Err(e) = self.store.fail_update(&key, &token, &reason).await {
                tracing::warn!(error = %e, "the failed update could not be given back; it is retried after its deadline");
            }
            return WebhookOutcome::RetryLater(reason);
        }
        self.set_aside(&update, who.as_deref(), attempt, &reason).await;
        if let Err(e) = self.store.complete(&key, &token, Some("set aside"), request.expires_at).await {
            tracing::warn!(error = %e, "the set-aside update could not be marked done");
        }
        WebhookOutcome::Processed
    }

    /// An update that failed every attempt: recorded and told to staff with who sent what.
    async fn set_aside(&self, update: &Update, who: Option<&str>, attempts: u32, reason: &str) {
        let chat = update.chat();
        let who = who.map(str::to_owned).or_else(|| chat.and_then(|c| c.title.clone())).unwrap_or_else(|| "?".into());
        let text = update
            .message
            .as_ref()
            .or(update.edited_message.as_ref())
            .and_then(|m| m.text_or_caption().map(str::to_owned))
            .or_else(|| update.callback_query.as_ref().map(|q| format!("[버튼] {}", q.data.as_deref().unwrap_or(""))))
            .unwrap_or_default();
        tracing::error!(attempts, "update set aside after failing every attempt");
        self.record_error(
            "webhook",
            &format!("telegram-update:{}", update.update_id),
            &format!("set aside after {attempts} attempts ({}): {reason}", clean(&who, false)),
        )
        .await;
        let html =
            templates::staff_update_set_aside(&clean(&who, false), chat.map_or(0, |c| c.id), &text, attempts, reason);
        self.notify_staff(html).await;
    }

    /// The chat's client, if linked, and the log entry of an incoming message or button press.
    async fn inbound(
        &self,
        update: &Update,
    ) -> Result<(Option<Versioned<Client>>, Option<MessageLogEntry>), StoreError> {
        let message = update.message.as_ref().or(update.edited_message.as_ref());
        let Some(chat) = update.chat() else {
            return Ok((None, None));
        };
        let client = self.store.client_by_chat(ChatId(chat.id)).await?;
        let client_id = client.as_ref().map(|c| c.value.id.clone());
        if let Some(query) = &update.callback_query {
            let entry = MessageLogEntry {
                id: format!("in-{}", update.update_id),
                client_id,
                chat_id: ChatId(chat.id),
                direction: Direction::Inbound,
                text: Some(format!("[버튼] {} ({})", query.data.as_deref().unwrap_or(""), query.from.display_name())),
                file: None,
                process_id: query.data.as_deref().and_then(|d| d.split_once(':')).and_then(|(_, p)| p.parse().ok()),
                telegram_message_id: query.message.as_ref().map(|m| m.message_id),
                at: self.clock.now(),
            };
            return Ok((client, Some(entry)));
        } else if let Some(message) = message {
            let file = message
                .document
                .as_ref()
                .map(|d| FileRef { file_id: d.file_id.clone(), file_name: d.file_name.clone(), size: d.file_size })
                .or_else(|| {
                    message
                        .photo
                        .as_ref()
                        .and_then(|sizes| sizes.iter().max_by_key(|p| u64::from(p.width) * u64::from(p.height)))
                        .map(|p| FileRef { file_id: p.file_id.clone(), file_name: None, size: p.file_size })
                });
            let entry = MessageLogEntry {
                id: format!("in-{}", update.update_id),
                client_id,
                chat_id: ChatId(chat.id),
                direction: Direction::Inbound,
                text: message.text_or_caption().map(str::to_owned),
                file,
                process_id: None,
                telegram_message_id: Some(message.message_id),
                at: self.clock.now(),
            };
            return Ok((client, Some(entry)));
        }
        Ok((client, None))
    }

    /// Acts on an update; returns the process a client's message answered.
    async fn process(
        &self,
        update: &Update,
        client: Option<Versioned<Client>>,
        logged: Option<MessageLogEntry>,
    ) -> Result<(), super::AppError> {
        match update.kind() {
            UpdateKind::Message => match &update.message {
                Some(message) => {
                    let answered = self.on_message(message, client).await?;
                    // The inbound entry names the process the message answered.
                    if let (Some(process), Some(entry)) = (answered, logged)
                        && let Err(e) = self.store.note_answered_process(&entry, &process).await
                    {
                        tracing::warn!(error = %e, "the message log does not name the process answered");
                    }
                    Ok(())
                }
                None => Ok(()),
            },
            UpdateKind::CallbackQuery => match &update.callback_query {
                Some(query) => self.on_callback(query, client).await,
                None => Ok(()),
            },
            UpdateKind::MyChatMember => match &update.my_chat_member {
                Some(change) => self.on_membership(change, client).await,
                None => Ok(()),
            },
            // Edits are logged; one that changes an answer is told how to change it.
            UpdateKind::EditedMessage => match (&update.edited_message, &client) {
                (Some(message), Some(client)) if Some(ChatId(message.chat.id)) != self.config.staff_chat => {
                    self.on_client_edit(message, client).await
                }
                _ => Ok(()),
            },
            UpdateKind::Other => Ok(()),
        }
    }

    async fn on_message(
        &self,
        message: &Message,
        client: Option<Versioned<Client>>,
    ) -> Result<Option<ProcessId>, super::AppError> {
        let chat = ChatId(message.chat.id);
        if let Some(new) = message.migrate_to_chat_id {
            self.follow_migration(chat, ChatId(new)).await?;
            return Ok(None);
        }
        if let Some(old) = message.migrate_from_chat_id {
            self.follow_migration(ChatId(old), chat).await?;
            return Ok(None);
        }
        if Some(chat) == self.config.staff_chat {
            return self.on_staff_message(message).await.map(|()| None);
        }
        let command = message.command();
        if !message.chat.is_group() {
            if command.is_some() {
                self.reply(message, templates::private_chat()).await?;
            }
            return Ok(None);
        }
        if let Some((name, args)) = &command
            && name == "/link"
        {
            return self.link_group(message, args).await.map(|()| None);
        }
        let replies_to_bot = message.reply_to_message.as_ref().and_then(|m| m.from.as_ref()).is_some_and(|u| u.is_bot);
        let Some(client) = client else {
            if command.is_some() || replies_to_bot {
                self.reply(message, templates::unknown_group()).await?;
            }
            return Ok(None);
        };
        if let Some(from) = &message.from
            && self.is_staff_user(from.id).await?
        {
            tracing::info!(client = %client.value.id, "staff wrote in a client group; not an answer");
            return Ok(None);
        }
        self.on_client_message(message, &client).await
    }

    async fn on_callback(
        &self,
        query: &CallbackQuery,
        client: Option<Versioned<Client>>,
    ) -> Result<(), super::AppError> {
        match client {
            Some(client) => self.on_tracker_callback(query, &client).await,
            None => {
                if let Err(e) = self.messenger.answer_callback(&query.id, None).await {
                    tracing::warn!(error = %e, "a press in an unlinked group could not be answered");
                }
                Ok(())
            }
        }
    }

    async fn on_membership(
        &self,
        change: &ChatMemberUpdated,
        client: Option<Versioned<Client>>,
    ) -> Result<(), super::AppError> {
        let chat = ChatId(change.chat.id);
        let title = clean(change.chat.title.as_deref().unwrap_or_default(), false);
        if Some(chat) == self.config.staff_chat || !change.chat.is_group() {
            return Ok(());
        }
        if !change.new_chat_member.is_present() {
            return self.chat_lost(chat).await;
        }
        if change.old_chat_member.is_present() {
            return Ok(()); // a promotion or demotion: still in the group
        }
        match client {
            Some(client) => {
                let binding =
                    client.value.chat.clone().unwrap_or(ChatBinding { chat_id: chat, title: None, active: false });
                if binding.active {
                    // Reactivated by an earlier attempt at this update that failed after it: the
                    // chasing it resumes is planned by name, so planning it again is harmless.
                    self.resume_chasing(&client.value).await?;
                } else {
                    let active = ChatBinding { active: true, title: Some(title), ..binding };
                    let linked = self.store.link_chat(&client.value.id, &active, client.version).await?;
                    self.notify_staff(templates::staff_bot_returned(client.value.name.as_str())).await;
                    self.resume_chasing(&linked.value).await?;
                }
            }
            None => {
                self.notify_staff(templates::staff_bot_added_unknown(&title, chat.0)).await;
                if let Err(e) = self.deliver(&Outgoing::text(chat, templates::unknown_group())).await
                    && !e.is_held()
                {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// `/link CODE` in a group: binds the group to the code's client. A code that links nothing
    /// (the group belongs to another client, the store failed) is given back.
    async fn link_group(&self, message: &Message, args: &str) -> Result<(), super::AppError> {
        if args.is_empty() {
            return self.reply(message, templates::link_usage()).await;
        }
        let Ok(code) = args.parse::<LinkCode>() else {
            return self.reply(message, templates::link_refused()).await;
        };
        let Some((client_id, expires_at)) = self.store.redeem_link_code(&code, self.clock.now()).await? else {
            return self.reply(message, templates::link_refused()).await;
        };
        let linked = self.link_redeemed(message, &client_id).await;
        if !matches!(linked, Ok(true))
            && let Err(e) = self.store.create_link_code(&code, &client_id, expires_at).await
        {
            tracing::warn!(error = %e, "could not restore an unused link code");
        }
        linked.map(|_| ())
    }

    /// Links the message's group to `client_id`; `Ok(false)` when the group belongs to another client.
    async fn link_redeemed(&self, message: &Message, client_id: &ClientId) -> Result<bool, super::AppError> {
        let chat = ChatId(message.chat.id);
        let title = clean(message.chat.title.as_deref().unwrap_or_default(), false);
        let binding = ChatBinding { chat_id: chat, title: Some(title.clone()), active: true };
        let mut attempt = 0;
        let (linked, previous) = loop {
            attempt += 1;
            let client = self.store.get_client(client_id).await?;
            let previous = client.value.chat.clone().filter(|p| p.active && p.chat_id != chat);
            match self.store.link_chat(client_id, &binding, client.version).await {
                Ok(linked) => break (linked, previous),
                Err(StoreError::Conflict { .. }) if attempt < 3 => continue,
                Err(StoreError::ChatTaken { client_id: owner, .. }) => {
                    let owner_name = self.store.get_client(&owner).await.map(|c| c.value.name.to_string());
                    self.reply(message, templates::chat_taken()).await?;
                    let owner_name = owner_name.unwrap_or_else(|_| owner.to_string());
                    self.notify_staff(templates::staff_chat_taken(&title, chat.0, &owner_name)).await;
                    return Ok(false);
                }
                Err(e) => return Err(e.into()),
            }
        };
        let name = linked.value.name.to_string();
        tracing::info!(client = %client_id, %chat, "group linked");
        self.notify_staff(templates::staff_group_linked(&name, &title, chat.0)).await;
        if let Some(old) = previous {
            // Someone with the code moved the client's advice elsewhere: the old group and staff
            // hear of it, so a move nobody meant is caught.
            let old_title = old.title.unwrap_or_default();
            self.notify_staff(templates::staff_group_moved(&name, &old_title, old.chat_id.0)).await;
            if let Err(e) = self.deliver(&Outgoing::text(old.chat_id, templates::group_moved(&name))).await {
                tracing::warn!(error = %e, "the former group was not told of the move");
            }
        }
        let confirmation =
            Outgoing { client: Some(client_id.clone()), ..Outgoing::text(chat, templates::link_confirmed(&name)) };
        if let Err(e) = self.deliver(&confirmation).await {
            tracing::warn!(error = %e, "linked, but the confirmation was not delivered");
        }
        Ok(true)
    }

    pub(super) async fn reply(&self, message: &Message, html: String) -> Result<(), super::AppError> {
        let out = Outgoing { reply_to: Some(message.message_id), ..Outgoing::text(ChatId(message.chat.id), html) };
        match self.deliver(&out).await {
            // Held by the emergency stop: the rest of the handling goes on.
            Err(e) if e.is_held() => Ok(()),
            sent => sent.map(|_| ()),
        }
    }

    /// Whether a Telegram user is one of the firm's active staff (as the staff list read within the
    /// last minute says).
    pub(super) async fn is_staff_user(&self, user_id: i64) -> Result<bool, StoreError> {
        Ok(self.staff_member(user_id).await?.is_some())
    }

    /// The active staff record a Telegram user is registered on, if any.
    pub(super) async fn staff_member(&self, user_id: i64) -> Result<Option<super::StaffMember>, StoreError> {
        Ok(self.active_staff().await?.by_telegram.get(&TelegramUserId(user_id)).cloned())
    }

    /// The firm's active staff, as read within the last minute.
    pub async fn active_staff(&self) -> Result<super::memo::Staffers, StoreError> {
        if let Some(staff) = self.memo.staff() {
            return Ok(staff);
        }
        let staff = super::all_pages(|page| async move { self.store.list_staff(&page).await }).await?;
        let mut active = super::memo::Staffers::default();
        for s in staff.into_iter().map(|s| s.value).filter(|s| s.active) {
            let member = super::StaffMember { name: s.name.to_string(), role: s.role };
            if let Some(user) = s.telegram_user_id {
                active.by_telegram.insert(user, member.clone());
            }
            active.by_id.insert(s.id, member);
        }
        self.memo.remember_staff(active.clone());
        Ok(active)
    }
}

/// FNV-1a, 64 bits: enough to tell a reused update id from a redelivery.
fn fnv1a(bytes: &[u8]) -> String {
    let hash =
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3));
    format!("{hash:016x}")
}
