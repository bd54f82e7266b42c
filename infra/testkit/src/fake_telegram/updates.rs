//! Incoming updates: one queue that `getUpdates` reads and the webhook dispatcher drains.
//!
//! Telegram keeps an update until the bot confirms it (polling: a later `offset`; webhook: a 2xx
//! answer). With a webhook it sends one update at a time per chat, in order, and retries a
//! failing one before moving on, so a handler that keeps failing blocks that chat while other
//! chats go on. The fake reproduces exactly that, because it decides whether a bot's handler
//! must be idempotent and fast.

use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

use super::params::Params;
use super::{ApiError, Delivery, SECRET_TOKEN_HEADER, Shared, State, StoredMessage, unix_now};

/// Update types Telegram sends only when the bot names them in `allowed_updates`.
const NOT_SENT_BY_DEFAULT: &[&str] = &["chat_member", "message_reaction", "message_reaction_count"];

/// Update types whose payload is a message the fake should remember.
const MESSAGE_KINDS: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
];

/// Which sequential delivery queue an update belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum QueueKey {
    Chat(i64),
    NoChat,
}

impl QueueKey {
    fn chat_id(self) -> Option<i64> {
        match self {
            QueueKey::Chat(id) => Some(id),
            QueueKey::NoChat => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Pending {
    update_id: i64,
    value: Value,
    key: QueueKey,
}

#[derive(Debug, Clone)]
struct Webhook {
    url: String,
    secret: Option<String>,
    max_connections: usize,
}

pub(super) struct Updates {
    next_update_id: i64,
    next_seq: u64,
    /// By arrival (a redelivery arrives again), not by update_id.
    pending: BTreeMap<u64, Pending>,
    history: HashMap<i64, (Value, QueueKey)>,
    allowed: Option<Vec<String>>,
    webhook: Option<Webhook>,
    in_flight: HashSet<QueueKey>,
    pub(super) deliveries: Vec<Delivery>,
    last_error: Option<(i64, String)>,
    pub(super) poll_generation: u64,
}

impl Default for Updates {
    fn default() -> Self {
        Self {
            next_update_id: 1,
            next_seq: 0,
            pending: BTreeMap::new(),
            history: HashMap::new(),
            allowed: None,
            webhook: None,
            in_flight: HashSet::new(),
            deliveries: Vec::new(),
            last_error: None,
            poll_generation: 0,
        }
    }
}

impl Updates {
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub(super) fn pending_count(&self) -> usize {
        self.pending.len()
    }

    pub(super) fn webhook_url(&self) -> Option<String> {
        self.webhook.as_ref().map(|w| w.url.clone())
    }

    /// Whether a copy of the update still waits for confirmation or delivery.
    pub(super) fn is_queued(&self, update_id: i64) -> bool {
        self.pending.values().any(|p| p.update_id == update_id)
    }

    fn allows(&self, kind: &str) -> bool {
        match &self.allowed {
            Some(list) if !list.is_empty() => list.iter().any(|k| k == kind),
            _ => !NOT_SENT_BY_DEFAULT.contains(&kind),
        }
    }

    fn enqueue(&mut self, update_id: i64, value: Value, key: QueueKey) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.insert(seq, Pending { update_id, value, key });
    }

    /// `allowed_updates` as sent by the bot; absent leaves the previous setting, as Telegram does.
    fn set_allowed(&mut self, p: &Params) -> Result<(), ApiError> {
        let Some(parsed) = p.json("allowed_updates") else {
            return Ok(());
        };
        let list = parsed
            .ok()
            .and_then(|v| {
                v.as_array().map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect::<Vec<_>>())
            })
            .ok_or_else(|| ApiError::bad_request("can't parse allowed updates"))?;
        self.allowed = Some(list);
        Ok(())
    }
}

fn update_kind(update: &Value) -> &str {
    update.as_object().and_then(|o| o.keys().find(|k| k.as_str() != "update_id")).map(String::as_str).unwrap_or("")
}

/// The chat an update belongs to, wherever its type keeps it.
fn queue_key(update: &Value) -> QueueKey {
    let payload = &update[update_kind(update)];
    payload["chat"]["id"]
        .as_i64()
        .or_else(|| payload["message"]["chat"]["id"].as_i64())
        .map_or(QueueKey::NoChat, QueueKey::Chat)
}

/// Remembers chats, messages and callback queries an update shows the bot, so later calls about
/// them behave as with Telegram.
fn learn(st: &mut State, bot_id: i64, update: &Value) {
    let kind = update_kind(update);
    let payload = &update[kind];
    for chat in [&payload["chat"], &payload["message"]["chat"]] {
        if let Some(id) = chat["id"].as_i64() {
            st.chats.insert(id, chat.clone());
        }
    }
    let mut remember = |message: &Value, from_bot: bool, replace: bool| {
        let (Some(chat_id), Some(message_id)) = (message["chat"]["id"].as_i64(), message["message_id"].as_i64()) else {
            return;
        };
        let next = st.next_message_id.entry(chat_id).or_insert(1);
        *next = (*next).max(message_id + 1);
        if replace || !st.messages.contains_key(&(chat_id, message_id)) {
            st.messages
                .insert((chat_id, message_id), StoredMessage { from_bot, json: message.clone(), deleted: false });
        }
    };
    if MESSAGE_KINDS.contains(&kind) {
        remember(payload, payload["from"]["id"].as_i64() == Some(bot_id), true);
    }
    if kind == "callback_query" {
        // The message under an inline keyboard is the bot's own.
        remember(&payload["message"], true, false);
        if let Some(id) = payload["id"].as_str()
            && !st.presses_expire
        {
            st.open_callback_queries.insert(id.to_owned());
        }
    }
}

pub(super) fn push(st: &mut State, bot_id: i64, mut update: Value) -> i64 {
    if !update.is_object() {
        panic!("push_update needs a JSON object, got {update}");
    }
    let id = match update["update_id"].as_i64() {
        Some(id) => id,
        None => {
            let id = st.updates.next_update_id;
            update["update_id"] = json!(id);
            id
        }
    };
    st.updates.next_update_id = st.updates.next_update_id.max(id + 1);
    learn(st, bot_id, &update);
    if !st.updates.allows(update_kind(&update)) {
        return id;
    }
    let key = queue_key(&update);
    st.updates.history.insert(id, (update.clone(), key));
    st.updates.enqueue(id, update, key);
    id
}

pub(super) fn redeliver(st: &mut State, update_id: i64) -> bool {
    let Some((value, key)) = st.updates.history.get(&update_id).cloned() else {
        return false;
    };
    st.updates.enqueue(update_id, value, key);
    true
}

// ---- the Bot API methods about updates ----

pub(super) async fn get_updates(shared: &Shared, p: &Params) -> Result<Value, ApiError> {
    let limit = p.int("limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout =
        Duration::from_secs(p.int("timeout").unwrap_or(0).max(0).unsigned_abs()).min(shared.config.max_long_poll);
    let mut changes = shared.changes.subscribe();
    let mut stop = shared.shutdown.subscribe();

    let generation = {
        let mut st = shared.lock();
        let u = &mut st.updates;
        if u.webhook.is_some() {
            return Err(ApiError::new(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            ));
        }
        u.set_allowed(p)?;
        if let Some(offset) = p.int("offset") {
            if offset > 0 {
                u.pending.retain(|_, pending| pending.update_id >= offset);
            } else if offset < 0 {
                let keep = usize::try_from(offset.unsigned_abs()).unwrap_or(usize::MAX);
                while u.pending.len() > keep {
                    u.pending.pop_first();
                }
            }
        }
        u.poll_generation += 1;
        let batch = batch(u, limit);
        if !batch.is_empty() || timeout.is_zero() {
            return Ok(Value::Array(batch));
        }
        u.poll_generation
    };
    // Wake an earlier long poll so it notices it was superseded.
    shared.bump();

    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return Ok(json!([]));
                }
            }
            () = tokio::time::sleep_until(deadline) => return Ok(json!([])),
            _ = stop.wait_for(|s| *s) => return Ok(json!([])),
        }
        let st = shared.lock();
        if st.updates.poll_generation != generation {
            return Err(ApiError::new(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            ));
        }
        if st.updates.webhook.is_some() {
            return Ok(json!([]));
        }
        let batch = batch(&st.updates, limit);
        if !batch.is_empty() {
            return Ok(Value::Array(batch));
        }
    }
}

fn batch(u: &Updates, limit: usize) -> Vec<Value> {
    u.pending.values().take(limit).map(|p| p.value.clone()).collect()
}

/// Telegram's rule for secret tokens: 1–256 characters of `A-Z a-z 0-9 _ -`.
fn valid_secret(secret: &str) -> bool {
    !secret.is_empty()
        && secret.len() <= 256
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `(result, description)` as Telegram answers `setWebhook`.
pub(super) fn set_webhook(st: &mut State, p: &Params) -> Result<&'static str, ApiError> {
    let url = p.str("url").unwrap_or_default();
    if url.is_empty() {
        return Ok(delete_webhook(st, p));
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(ApiError::bad_request("bad webhook: An HTTPS URL must be provided for webhook"));
    }
    let secret = p.non_empty("secret_token");
    if let Some(secret) = &secret
        && !valid_secret(secret)
    {
        return Err(ApiError::bad_request("secret token contains unallowed characters"));
    }
    let max_connections = p.int("max_connections").unwrap_or(40).clamp(1, 100) as usize;
    st.updates.set_allowed(p)?;
    if p.bool("drop_pending_updates") {
        st.updates.pending.clear();
    }
    let webhook = Webhook { url, secret, max_connections };
    let same = st.updates.webhook.as_ref().is_some_and(|w| {
        w.url == webhook.url && w.secret == webhook.secret && w.max_connections == webhook.max_connections
    });
    st.updates.webhook = Some(webhook);
    Ok(if same { "Webhook is already set" } else { "Webhook was set" })
}

pub(super) fn delete_webhook(st: &mut State, p: &Params) -> &'static str {
    if p.bool("drop_pending_updates") {
        st.updates.pending.clear();
    }
    if st.updates.webhook.take().is_some() { "Webhook was deleted" } else { "Webhook is already deleted" }
}

pub(super) fn webhook_info(st: &State) -> Value {
    let u = &st.updates;
    let mut info = json!({
        "url": u.webhook.as_ref().map_or("", |w| w.url.as_str()),
        "has_custom_certificate": false,
        "pending_update_count": u.pending.len(),
    });
    if let Some(w) = &u.webhook {
        info["max_connections"] = json!(w.max_connections);
        if let Some(allowed) = &u.allowed
            && !allowed.is_empty()
        {
            info["allowed_updates"] = json!(allowed);
        }
        if let Some((date, message)) = &u.last_error {
            info["last_error_date"] = json!(date);
            info["last_error_message"] = json!(message);
        }
    }
    info
}

// ---- webhook delivery ----

struct Job {
    seq: u64,
    update_id: i64,
    value: Value,
    key: QueueKey,
}

/// Starts a delivery for the head of every chat queue that has none running, within the
/// webhook's `max_connections`.
fn take_jobs(u: &mut Updates) -> Vec<Job> {
    let Some(webhook) = &u.webhook else {
        return Vec::new();
    };
    let max = webhook.max_connections;
    let mut busy = u.in_flight.clone();
    let mut jobs = Vec::new();
    for (seq, p) in &u.pending {
        if busy.len() >= max {
            break;
        }
        if busy.insert(p.key) {
            jobs.push(Job { seq: *seq, update_id: p.update_id, value: p.value.clone(), key: p.key });
        }
    }
    for job in &jobs {
        u.in_flight.insert(job.key);
    }
    jobs
}

/// Runs for the fake's lifetime; deliveries run as tasks it owns, so aborting it stops them.
pub(super) async fn dispatch(shared: Arc<Shared>) {
    let mut changes = shared.changes.subscribe();
    let mut stop = shared.shutdown.subscribe();
    let mut tasks = JoinSet::new();
    loop {
        let jobs = take_jobs(&mut shared.lock().updates);
        for job in jobs {
            tasks.spawn(deliver(shared.clone(), job));
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn deliver(shared: Arc<Shared>, job: Job) {
    let retry = shared.config.webhook.clone();
    let mut backoff = retry.initial_backoff;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let target = {
            let mut st = shared.lock();
            let u = &mut st.updates;
            match &u.webhook {
                Some(w) if u.pending.contains_key(&job.seq) => Some(w.clone()),
                _ => {
                    // Dropped meanwhile, or the webhook is gone and getUpdates takes over.
                    u.in_flight.remove(&job.key);
                    None
                }
            }
        };
        let Some(webhook) = target else {
            shared.bump();
            return;
        };

        let mut request = shared.http.post(&webhook.url).json(&job.value);
        if let Some(secret) = &webhook.secret {
            request = request.header(SECRET_TOKEN_HEADER, secret);
        }
        let (status, error) = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let error = (!status.is_success()).then(|| {
                    format!(
                        "Wrong response from the webhook: {} {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    )
                });
                (Some(status.as_u16()), error)
            }
            Err(e) if e.is_timeout() => (None, Some("Read timeout expired".to_owned())),
            Err(e) if e.is_connect() => (None, Some("Connection refused".to_owned())),
            Err(e) => (None, Some(e.to_string())),
        };

        let finished = {
            let mut st = shared.lock();
            let u = &mut st.updates;
            u.deliveries.push(Delivery {
                update_id: job.update_id,
                chat_id: job.key.chat_id(),
                status,
                attempt,
                error: error.clone(),
                at: Instant::now(),
            });
            if let Some(message) = error {
                u.last_error = Some((unix_now(), message));
            }
            let ok = status.is_some_and(|s| (200..300).contains(&s));
            // Telegram gives up on an update eventually; the chat's next one goes then.
            let finished = ok || attempt >= retry.max_attempts;
            if finished {
                u.pending.remove(&job.seq);
                u.in_flight.remove(&job.key);
            }
            finished
        };
        shared.bump();
        if finished {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(retry.max_backoff);
    }
}
