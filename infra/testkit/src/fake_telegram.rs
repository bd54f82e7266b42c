//! A fake Telegram Bot API server for tests.
//!
//! Why a fake server rather than a mock of our own client: the failures that matter happen at
//! the boundary with Telegram — markup it refuses, a burst that earns a 429, a group that became
//! a supergroup, a bot removed from a chat, a webhook handler whose failure blocks that chat's
//! later updates. The fake speaks HTTP on 127.0.0.1 exactly where `api.telegram.org` would be
//! (`{api_base}/bot{token}/{method}`), answers in Telegram's envelope, and enforces those rules,
//! so the bot's real HTTP client and handlers are what a test exercises.
//!
//! What a test can do:
//! - point the bot at [`FakeTelegram::api_base`] and inspect what it sent ([`FakeTelegram::sent`],
//!   [`FakeTelegram::edits`], [`FakeTelegram::calls`]);
//! - check it stays inside the flood limits ([`FakeTelegram::violations`] is 0 for a well-behaved
//!   sender);
//! - inject the faults production will show ([`FakeTelegram::kick`], [`FakeTelegram::migrate`],
//!   [`FakeTelegram::fail_next`], [`FakeTelegram::retry_after_storm`]);
//! - feed updates ([`FakeTelegram::push_update`]) that the bot fetches with `getUpdates` or, once it
//!   called `setWebhook`, receives by POST with Telegram's per-chat ordering and retries.
//!
//! Deliberate differences from Telegram: webhooks may be plain `http://` on any port (tests have
//! no certificates); HTML is checked against Telegram's documented rules, which are stricter than
//! what its parser tolerates (see [`html`]; [`FakeConfig::strict_html`] turns that off); Markdown
//! parse modes are accepted without validation; files sent by URL are not fetched.

mod api;
pub mod html;
mod limits;
mod params;
mod updates;

pub use limits::{LimitKind, RateLimits};

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The header in which Telegram sends the webhook's secret token.
pub const SECRET_TOKEN_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// How the fake behaves. `FakeConfig::default()` is Telegram as documented.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The bot token; the number before `:` is the bot's user id, as with real tokens.
    pub token: String,
    pub bot_first_name: String,
    pub bot_username: String,
    /// Flood limits; `None` switches them off (for tests about something else that send fast).
    pub limits: Option<RateLimits>,
    pub webhook: WebhookRetry,
    /// Bots may download files up to 20 MB; `getFile` refuses bigger ones.
    pub max_download_bytes: u64,
    /// Uploads above this get 413, as Telegram's 50 MB cap.
    pub max_upload_bytes: usize,
    /// Refuse stray `<`, `>`, `&` and unknown named entities (Telegram's documented rules) rather
    /// than tolerate them as Telegram's parser does. See [`html`].
    pub strict_html: bool,
    /// Refuse replies to messages the fake never saw (sent by the bot or pushed in an update),
    /// as Telegram does unless `allow_sending_without_reply` is set. Switch off for tests that
    /// feed updates to the bot without [`FakeTelegram::push_update`].
    pub check_reply_targets: bool,
    /// Longest `getUpdates` long poll honoured, whatever `timeout` the bot asks for.
    pub max_long_poll: Duration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            token: "123456:TEST-token".to_owned(),
            bot_first_name: "Test Bot".to_owned(),
            bot_username: "test_bot".to_owned(),
            limits: Some(RateLimits::default()),
            webhook: WebhookRetry::default(),
            max_download_bytes: 20 * 1024 * 1024,
            max_upload_bytes: 50 * 1024 * 1024,
            strict_html: true,
            check_reply_targets: true,
            max_long_poll: Duration::from_secs(50),
        }
    }
}

impl FakeConfig {
    /// The same configuration with the flood limits switched off.
    pub fn without_limits(mut self) -> Self {
        self.limits = None;
        self
    }

    pub fn with_limits(mut self, limits: RateLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    pub fn with_webhook_retry(mut self, retry: WebhookRetry) -> Self {
        self.webhook = retry;
        self
    }
}

/// How webhook deliveries are retried. Telegram retries for a long time with growing pauses;
/// the defaults keep that shape but bounded so a test run ends.
#[derive(Debug, Clone)]
pub struct WebhookRetry {
    pub initial_backoff: Duration,
    /// Backoff doubles per failed attempt up to this.
    pub max_backoff: Duration,
    /// Attempts per update before it is dropped and the chat's next update goes.
    pub max_attempts: u32,
    /// How long one POST may take before it counts as failed.
    pub request_timeout: Duration,
}

impl Default for WebhookRetry {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            max_attempts: 10,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A file sent with `sendDocument`/`sendPhoto`.
#[derive(Debug, Clone, PartialEq)]
pub struct SentFile {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    pub file_size: u64,
    /// True for a multipart upload, false for a `file_id` or URL reference.
    pub uploaded: bool,
    /// The uploaded content (absent for references).
    pub bytes: Option<Bytes>,
    /// The URL when the file was sent by URL.
    pub url: Option<String>,
}

/// A send Telegram accepted, as the bot made it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub message_id: i64,
    pub chat_id: i64,
    /// Canonical method name: `sendMessage`, `sendDocument`, `sendPhoto`.
    pub method: String,
    /// `text` exactly as sent (markup included).
    pub text: Option<String>,
    /// `caption` exactly as sent.
    pub caption: Option<String>,
    pub parse_mode: Option<String>,
    /// What the recipient sees: text or caption after entity parsing.
    pub plain_text: String,
    /// Entities Telegram derived from the markup (Bot API JSON).
    pub entities: Vec<Value>,
    pub reply_markup: Option<Value>,
    pub reply_to_message_id: Option<i64>,
    pub link_preview_options: Option<Value>,
    pub disable_notification: bool,
    pub document: Option<SentFile>,
    pub photo: Option<SentFile>,
    /// Every parameter of the call, for anything not broken out above.
    pub params: Value,
    /// When the fake accepted it: what the flood limits were measured on.
    pub at: Instant,
}

/// An accepted `editMessageText`/`editMessageCaption`/`editMessageReplyMarkup`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub method: String,
    pub chat_id: Option<i64>,
    pub message_id: Option<i64>,
    pub inline_message_id: Option<String>,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    pub at: Instant,
}

/// Any request to the bot API, whatever its outcome: for tests about retries and call order.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    pub method: String,
    pub params: Value,
    pub status: u16,
    pub at: Instant,
}

/// An accepted `answerCallbackQuery`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackAnswer {
    pub callback_query_id: String,
    pub text: Option<String>,
    pub show_alert: bool,
    pub url: Option<String>,
    pub cache_time: Option<i64>,
    pub at: Instant,
}

/// A send refused because it broke a flood limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub kind: LimitKind,
    pub chat_id: i64,
    pub retry_after: u64,
    pub at: Instant,
}

/// One attempt to deliver an update to the webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub update_id: i64,
    /// The chat whose queue the update was in; `None` for updates without a chat.
    pub chat_id: Option<i64>,
    /// The HTTP status the webhook answered, `None` when the connection failed or timed out.
    pub status: Option<u16>,
    /// 1 for the first attempt of this delivery; a redelivery starts at 1 again.
    pub attempt: u32,
    pub error: Option<String>,
    pub at: Instant,
}

impl Delivery {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// An error as the Bot API reports it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    code: u16,
    description: String,
    parameters: Option<Value>,
}

impl ApiError {
    fn new(code: u16, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), parameters: None }
    }

    fn bad_request(reason: impl std::fmt::Display) -> Self {
        Self::new(400, format!("Bad Request: {reason}"))
    }

    fn forbidden(reason: impl std::fmt::Display) -> Self {
        Self::new(403, format!("Forbidden: {reason}"))
    }

    fn too_many_requests(retry_after: u64) -> Self {
        Self {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            parameters: Some(json!({ "retry_after": retry_after })),
        }
    }

    fn body(&self) -> Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.code,
            "description": self.description,
        });
        if let Some(p) = &self.parameters {
            body["parameters"] = p.clone();
        }
        body
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChatFault {
    Kicked,
    Left,
    Migrated(i64),
}

#[derive(Debug, Clone)]
enum FileContent {
    Bytes(Bytes),
    /// Only a size: lets tests have 20 MB+ files without allocating them.
    Zeros(u64),
}

#[derive(Debug, Clone)]
struct FileEntry {
    file_id: String,
    file_unique_id: String,
    file_path: String,
    content: FileContent,
}

impl FileEntry {
    fn size(&self) -> u64 {
        match &self.content {
            FileContent::Bytes(b) => b.len() as u64,
            FileContent::Zeros(n) => *n,
        }
    }
}

/// A message as Telegram holds it now: sent by the bot or seen in a pushed update.
#[derive(Debug, Clone)]
struct StoredMessage {
    from_bot: bool,
    json: Value,
    deleted: bool,
}

/// All mutable state, behind one mutex: every request is short and never awaits while holding
/// it, and one lock keeps limit checks and recording atomic.
#[derive(Default)]
struct State {
    limits: Option<RateLimits>,
    limiter: limits::Limiter,
    messages: HashMap<(i64, i64), StoredMessage>,
    next_message_id: HashMap<i64, i64>,
    sent: Vec<SentMessage>,
    edits: Vec<Edit>,
    calls: Vec<ApiCall>,
    callback_answers: Vec<CallbackAnswer>,
    open_callback_queries: HashSet<String>,
    presses_expire: bool,
    violations: Vec<Violation>,
    injected_429s: u64,
    chat_faults: HashMap<i64, ChatFault>,
    chats: HashMap<i64, Value>,
    fail_next: VecDeque<u16>,
    /// Methods whose next call is held without an answer.
    stall: Vec<String>,
    /// Calls held so far.
    stalled: usize,
    storm: VecDeque<u64>,
    files: HashMap<String, FileEntry>,
    file_paths: HashMap<String, String>,
    next_file: u64,
    updates: updates::Updates,
}

struct Shared {
    config: FakeConfig,
    bot_id: i64,
    state: Mutex<State>,
    /// Bumped on every change, so waiters (long polls, the webhook dispatcher, tests) wake.
    changes: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
    http: reqwest::Client,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere (a failed assertion in a test thread) must not hide what was recorded.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn bot_user(&self) -> Value {
        json!({
            "id": self.bot_id,
            "is_bot": true,
            "first_name": self.config.bot_first_name,
            "username": self.config.bot_username,
        })
    }
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A running fake. Dropping it stops the server and the webhook deliveries.
pub struct FakeTelegram {
    shared: Arc<Shared>,
    base: String,
    server: Option<JoinHandle<()>>,
    dispatcher: Option<JoinHandle<()>>,
}

impl FakeTelegram {
    /// Starts the fake on 127.0.0.1 with a port of the system's choosing. Needs a Tokio runtime;
    /// panics when it cannot bind, which only a broken test machine causes.
    pub async fn start(config: FakeConfig) -> FakeTelegram {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0)).await {
            Ok(l) => l,
            Err(e) => panic!("fake Telegram: binding 127.0.0.1:0: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("fake Telegram: local address: {e}"),
        };
        let http = match reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.webhook.request_timeout)
            .build()
        {
            Ok(c) => c,
            Err(e) => panic!("fake Telegram: building the webhook client: {e}"),
        };
        let bot_id = config.token.split(':').next().and_then(|id| id.parse().ok()).unwrap_or(123_456);
        let state = State { limits: config.limits.clone(), updates: updates::Updates::new(), ..State::default() };
        let upload_limit = config.max_upload_bytes;
        let shared = Arc::new(Shared {
            config,
            bot_id,
            state: Mutex::new(state),
            changes: watch::channel(0).0,
            shutdown: watch::channel(false).0,
            http,
        });

        let app =
            Router::new().fallback(api::handle).layer(DefaultBodyLimit::max(upload_limit)).with_state(shared.clone());
        let mut stop = shared.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            let _ = axum::serve(listener, app).with_graceful_shutdown(stopped).await;
        });
        let dispatcher = tokio::spawn(updates::dispatch(shared.clone()));

        FakeTelegram { shared, base: format!("http://{addr}"), server: Some(server), dispatcher: Some(dispatcher) }
    }

    /// Stops serving, waiting briefly for requests in progress (long polls return at once).
    pub async fn shutdown(mut self) {
        self.shared.shutdown.send_replace(true);
        if let Some(dispatcher) = self.dispatcher.take() {
            dispatcher.abort();
        }
        if let Some(server) = self.server.take() {
            // Connections still open after the grace period are simply abandoned.
            let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        }
    }

    /// Where the bot should send requests instead of `https://api.telegram.org`.
    pub fn api_base(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// `{api_base}/bot{token}/{method}`.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base, self.shared.config.token)
    }

    /// `{api_base}/file/bot{token}/{file_path}`.
    pub fn file_url(&self, file_path: &str) -> String {
        format!("{}/file/bot{}/{file_path}", self.base, self.shared.config.token)
    }

    /// The bot's user id (the number before `:` in the token).
    pub fn bot_id(&self) -> i64 {
        self.shared.bot_id
    }

    // ---- what the bot did ----

    /// Successful sends to `chat_id`, oldest first.
    pub fn sent(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared.lock().sent.iter().filter(|m| m.chat_id == chat_id).cloned().collect()
    }

    /// How many sends the fake accepted so far.
    pub fn sent_count(&self) -> usize {
        self.shared.lock().sent.len()
    }

    /// The sends accepted after the first `seen`, in order: for watchers that keep up as they go.
    pub fn sent_since(&self, seen: usize) -> Vec<SentMessage> {
        self.shared.lock().sent.get(seen..).map(<[SentMessage]>::to_vec).unwrap_or_default()
    }

    /// Every successful send, in the order accepted.
    pub fn all_sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// The message as Telegram shows it now (edits applied), as Bot API `Message` JSON; `None`
    /// when unknown or deleted.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        let st = self.shared.lock();
        st.messages.get(&(chat_id, message_id)).filter(|m| !m.deleted).map(|m| m.json.clone())
    }

    pub fn edits(&self) -> Vec<Edit> {
        self.shared.lock().edits.clone()
    }

    /// Every bot API request in arrival order, failed ones included.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.shared.lock().calls.clone()
    }

    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.shared.lock().callback_answers.clone()
    }

    /// `(chat_id, message_id)` of messages deleted with `deleteMessage`.
    pub fn deleted_messages(&self) -> Vec<(i64, i64)> {
        let st = self.shared.lock();
        let mut deleted: Vec<(i64, i64)> = st.messages.iter().filter(|(_, m)| m.deleted).map(|(k, _)| *k).collect();
        deleted.sort_unstable();
        deleted
    }

    // ---- flood limits ----

    /// Sends refused for breaking a flood limit. A sender that keeps the limits sees 0; injected
    /// 429s ([`FakeTelegram::retry_after_storm`]) are not counted here.
    pub fn violations(&self) -> usize {
        self.shared.lock().violations.len()
    }

    pub fn violation_log(&self) -> Vec<Violation> {
        self.shared.lock().violations.clone()
    }

    /// 429s answered because of [`FakeTelegram::retry_after_storm`].
    pub fn injected_429s(&self) -> u64 {
        self.shared.lock().injected_429s
    }

    /// Replaces the limits from now on (`None` switches them off). Past sends stay counted.
    pub fn set_limits(&self, limits: Option<RateLimits>) {
        self.shared.lock().limits = limits;
    }

    // ---- fault injection ----

    /// The bot was removed from `chat_id` (or, for a private chat, blocked by the user): sends and
    /// other calls to it get 403 with Telegram's wording for the chat's kind, e.g.
    /// `Forbidden: bot was kicked from the group chat`.
    pub fn kick(&self, chat_id: i64) {
        self.shared.lock().chat_faults.insert(chat_id, ChatFault::Kicked);
    }

    /// Undoes [`FakeTelegram::kick`] or a `leaveChat`: the bot was added back.
    pub fn readmit(&self, chat_id: i64) {
        self.shared.lock().chat_faults.remove(&chat_id);
    }

    /// The basic group `chat_id` became the supergroup `new_chat_id`: calls to the old id get 400
    /// `Bad Request: group chat was upgraded to a supergroup chat` with
    /// `parameters.migrate_to_chat_id`; the new id works.
    pub fn migrate(&self, chat_id: i64, new_chat_id: i64) {
        let mut st = self.shared.lock();
        st.chat_faults.insert(chat_id, ChatFault::Migrated(new_chat_id));
        st.chat_faults.remove(&new_chat_id);
        let title = st
            .chats
            .get(&chat_id)
            .and_then(|c| c.get("title"))
            .cloned()
            .unwrap_or_else(|| json!(format!("Group {chat_id}")));
        st.chats.insert(new_chat_id, json!({ "id": new_chat_id, "type": "supergroup", "title": title }));
    }

    /// The next `n` bot API calls (any method) fail with HTTP `status` (500, 502, …) before doing
    /// anything, as when Telegram has an outage.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut st = self.shared.lock();
        st.fail_next.extend(std::iter::repeat_n(status, n));
    }

    /// The next call of `method` (`sendMessage` …) is held: never done and never answered, as when
    /// the caller is killed while its request is on the way. It is dropped when the caller goes.
    pub fn stall_next(&self, method: &str) {
        self.shared.lock().stall.push(method.to_owned());
    }

    /// `getUpdates` calls that began so far.
    pub fn polls_started(&self) -> u64 {
        self.shared.lock().updates.poll_generation
    }

    /// Calls held by [`FakeTelegram::stall_next`] so far.
    pub fn stalled(&self) -> usize {
        self.shared.lock().stalled
    }

    /// The next `n` send calls get 429 with `retry_after = seconds`, whatever the bot's pace: how
    /// a flood wait looks when Telegram imposes one. Counted in
    /// [`FakeTelegram::injected_429s`], not in violations.
    pub fn retry_after_storm(&self, n: usize, seconds: u64) {
        let mut st = self.shared.lock();
        st.storm.extend(std::iter::repeat_n(seconds, n));
    }

    /// Every button press pushed from now on is already too old when the bot answers it, as when
    /// a cold start took longer than Telegram waits: `answerCallbackQuery` gets 400.
    pub fn let_button_presses_expire(&self) {
        self.shared.lock().presses_expire = true;
    }

    // ---- files ----

    /// A file the bot can `getFile` and download.
    pub fn add_file(&self, file_id: &str, file_path: &str, bytes: impl Into<Bytes>) {
        self.insert_file(file_id, file_path, FileContent::Bytes(bytes.into()));
    }

    /// A file of `size` bytes (zeros) without allocating it: for the 20 MB download limit.
    pub fn add_file_of_size(&self, file_id: &str, file_path: &str, size: u64) {
        self.insert_file(file_id, file_path, FileContent::Zeros(size));
    }

    fn insert_file(&self, file_id: &str, file_path: &str, content: FileContent) {
        let mut st = self.shared.lock();
        st.file_paths.insert(file_path.to_owned(), file_id.to_owned());
        st.files.insert(
            file_id.to_owned(),
            FileEntry {
                file_id: file_id.to_owned(),
                file_unique_id: format!("U{file_id}"),
                file_path: file_path.to_owned(),
                content,
            },
        );
    }

    // ---- restoring what an earlier run saw ----

    /// Makes a chat known with its Bot API `Chat` JSON (its title, its type): the bot's messages
    /// to it carry that chat, as Telegram's do.
    pub fn remember_chat(&self, chat: Value) {
        if let Some(id) = chat["id"].as_i64() {
            self.shared.lock().chats.insert(id, chat);
        }
    }

    /// Makes a message known as if this fake had sent it (`from_bot`) or seen it in an update,
    /// edits applied: replies to it, edits of it and presses under it then work as with Telegram,
    /// and the chat's next messages get higher ids. For a process that keeps its chats across
    /// restarts (the devserver). A message without `chat.id` and `message_id` is ignored.
    pub fn remember_message(&self, message: &Value, from_bot: bool) {
        let (Some(chat_id), Some(message_id)) = (message["chat"]["id"].as_i64(), message["message_id"].as_i64()) else {
            return;
        };
        let mut st = self.shared.lock();
        st.chats.entry(chat_id).or_insert_with(|| message["chat"].clone());
        let next = st.next_message_id.entry(chat_id).or_insert(1);
        *next = (*next).max(message_id + 1);
        st.messages.insert((chat_id, message_id), StoredMessage { from_bot, json: message.clone(), deleted: false });
    }

    /// Takes the next message id of `chat_id` for a message a person writes there: Telegram numbers
    /// a group's messages in one sequence, whoever sends them.
    pub fn take_message_id(&self, chat_id: i64) -> i64 {
        let mut st = self.shared.lock();
        let next = st.next_message_id.entry(chat_id).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    /// A receiver that sees a new value whenever the fake's state changes (a call, a delivery, a
    /// pushed update): for watchers that keep a copy of what the chats show.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.changes.subscribe()
    }

    // ---- updates ----

    /// Queues an update for the bot and returns its `update_id` (assigned, increasing, when the
    /// value has none). Chats, messages and callback queries in it become known to the fake, so
    /// replies to them, edits of them and answers to them work as with Telegram.
    ///
    /// Like Telegram, updates of a type the bot did not ask for in `allowed_updates` are dropped;
    /// by default that is `chat_member`, `message_reaction` and `message_reaction_count`.
    ///
    /// Panics unless `update` is a JSON object.
    pub fn push_update(&self, update: Value) -> i64 {
        let id = {
            let mut st = self.shared.lock();
            updates::push(&mut st, self.shared.bot_id, update)
        };
        self.shared.bump();
        id
    }

    /// Queues the update `update_id` again, as Telegram does when it is unsure the bot got it: the
    /// bot must tolerate duplicates. False when the fake never queued that update.
    pub fn redeliver(&self, update_id: i64) -> bool {
        let queued = updates::redeliver(&mut self.shared.lock(), update_id);
        self.shared.bump();
        queued
    }

    /// Updates not yet confirmed (polling) or delivered (webhook).
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.pending_count()
    }

    /// The webhook URL the bot set, if any.
    pub fn webhook_url(&self) -> Option<String> {
        self.shared.lock().updates.webhook_url()
    }

    /// Every webhook delivery attempt, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().updates.deliveries.clone()
    }

    /// Waits until `update_id` was delivered: no copy of it is queued or being retried any more
    /// and its latest attempt got a 2xx answer. Waiting for the queue to drain, not just for any
    /// success, makes this right after [`FakeTelegram::redeliver`] or when a fixture reuses an
    /// update id. False on timeout (or when the last copy was given up on).
    pub async fn wait_delivered(&self, update_id: i64, timeout: Duration) -> bool {
        self.wait_for(timeout, |fake| {
            let st = fake.shared.lock();
            !st.updates.is_queued(update_id)
                && st
                    .updates
                    .deliveries
                    .iter()
                    .rev()
                    .find(|d| d.update_id == update_id)
                    .is_some_and(Delivery::succeeded)
        })
        .await
    }

    /// Waits until `done` holds, re-checking whenever the fake's state changes (a call, a
    /// delivery, a pushed update). False on timeout. For bots that react asynchronously.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&FakeTelegram) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.shared.changes.subscribe();
        loop {
            if done(self) {
                return true;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return done(self),
                Err(_) => return done(self),
            }
        }
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        if let Some(dispatcher) = self.dispatcher.take() {
            dispatcher.abort();
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
