//! `/dev/telegram`: the built-in fake Telegram's groups as a page. Read what the bot sent, answer as
//! the client (text, a screenshot, a button press); every action becomes a real-shaped update the
//! fake delivers to the webhook, as Telegram would, with the next update id of a sequence that
//! continues across restarts. Each chat shows its messages in time order under its title, as the
//! chat shows them now (edits applied, buttons the bot removed gone, deleted messages gone), and
//! the history is kept next to the store ([`crate::history`]). The forms carry a CSRF token: a
//! POST without the page's token is refused.

use crate::demo::{DEMO_CHATS, group_title};
use crate::history::{ChatLog, Entry, EntryKind, Kept, now_ms};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shared::app::App;
use shared::domain::ids::ChatId;
use shared::telegram::html::escape;
use std::sync::Arc;
use std::time::Duration;
use testkit::fake_telegram::FakeTelegram;
use tokio::sync::watch;

/// What every photo sent on `/dev/telegram` shows: a made-up broker screen of a bid.
const SCREENSHOT: &[u8] = include_bytes!("fake-screenshot.png");

/// The Telegram account that writes in the staff group on this page (the demo registers it on a
/// staff record).
pub const STAFF_USER: i64 = 7_100_000_001;
const STAFF_TITLE: &str = "(가상)자문사 운영팀";

/// The titles chats get before anyone names them: the staff group's, the demo groups'.
#[derive(Clone)]
pub struct Titles {
    staff: i64,
    demo: Vec<(i64, String)>,
}

impl Titles {
    pub fn new(staff: ChatId) -> Titles {
        let demo = shared::demo::clients()
            .into_iter()
            .zip(DEMO_CHATS)
            .map(|(client, chat)| (chat, group_title(client.name.as_str())))
            .collect();
        Titles { staff: staff.0, demo }
    }

    pub fn default_title(&self, chat: i64) -> String {
        if chat == self.staff {
            return STAFF_TITLE.to_owned();
        }
        match self.demo.iter().find(|(id, _)| *id == chat) {
            Some((_, title)) => title.clone(),
            None => format!("group {chat}"),
        }
    }

    /// Every chat the page lists before any message: the staff group, then the demo groups.
    fn known(&self) -> impl Iterator<Item = i64> + '_ {
        std::iter::once(self.staff).chain(self.demo.iter().map(|(id, _)| *id))
    }
}

/// The Bot API `Chat` of a chat on this page.
pub fn chat_json(chat: i64, title: &str) -> Value {
    if chat > 0 {
        json!({ "id": chat, "first_name": title, "type": "private" })
    } else {
        json!({ "id": chat, "title": title, "type": "supergroup" })
    }
}

#[derive(Clone)]
struct Chats {
    fake: Arc<FakeTelegram>,
    app: Arc<App>,
    titles: Titles,
    kept: Arc<Kept>,
    /// Every form carries it and every POST must: another site cannot read the page to learn it.
    csrf: Arc<str>,
    /// What `--demo` did, shown on the page.
    notice: Option<Arc<str>>,
}

/// Restores the kept history into the fresh fake (chats, messages, ids) and serves the page.
pub fn routes(
    fake: Arc<FakeTelegram>,
    app: Arc<App>,
    titles: Titles,
    kept: Arc<Kept>,
    notice: Option<String>,
) -> Result<Router, String> {
    let state = Chats { fake, app, titles, kept, csrf: crate::random_token()?.into(), notice: notice.map(Into::into) };
    Ok(Router::new()
        .route("/dev/telegram", get(page))
        .route("/dev/telegram/send", post(send))
        .route("/dev/telegram/press", post(press))
        .with_state(state))
}

/// Tells the fresh fake the chats and messages of the kept history and the titles of the known
/// chats: the bot's messages then carry those chats, and replies and presses on old messages work.
pub fn restore(fake: &FakeTelegram, titles: &Titles, kept: &Kept) {
    for chat in titles.known() {
        fake.remember_chat(chat_json(chat, &titles.default_title(chat)));
    }
    kept.restore(fake, &chat_json);
}

/// Keeps the history in step with the fake until told to stop (a burst of changes is written
/// once, a tenth of a second after it began), then writes it a last time.
pub async fn keep(fake: Arc<FakeTelegram>, titles: Titles, kept: Arc<Kept>, mut stopped: watch::Receiver<bool>) {
    let mut changes = fake.changes();
    let title = |chat: i64| titles.default_title(chat);
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            changed = changes.changed() => if changed.is_err() { break },
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        changes.borrow_and_update();
        kept.sync_and_save(&fake, &title);
    }
    kept.sync_and_save(&fake, &title);
}

impl Chats {
    fn title(&self, chat: i64) -> String {
        self.kept.chat(chat).map_or_else(|| self.titles.default_title(chat), |c| c.title)
    }

    fn sync(&self) {
        self.kept.sync_and_save(&self.fake, &|chat| self.titles.default_title(chat));
    }

    /// What the chat is to the system: the staff group, a client's group, or nothing yet.
    async fn role(&self, chat: i64) -> String {
        if chat == self.titles.staff {
            return "staff group".to_owned();
        }
        match self.app.store.client_by_chat(ChatId(chat)).await {
            Ok(Some(client)) => format!("{}'s group", client.value.name),
            Ok(None) => "not linked to a client".to_owned(),
            Err(e) => format!("(store: {e})"),
        }
    }

    /// The form's fields, once its CSRF token is the page's; 403 otherwise, 400 for a bad form.
    fn checked<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, (StatusCode, String)> {
        #[derive(Deserialize)]
        struct Token {
            csrf: Option<String>,
        }
        let token = serde_urlencoded::from_bytes::<Token>(body).ok().and_then(|t| t.csrf);
        if !token.is_some_and(|t| same(t.as_bytes(), self.csrf.as_bytes())) {
            tracing::warn!("a /dev/telegram form without the page's CSRF token refused");
            return Err((
                StatusCode::FORBIDDEN,
                "This form did not carry the page's CSRF token, so it was refused. The forms on \
                 /dev/telegram carry one, new each time the devserver starts: reload the page and try again."
                    .to_owned(),
            ));
        }
        serde_urlencoded::from_bytes(body).map_err(|e| (StatusCode::BAD_REQUEST, format!("A bad form: {e}.")))
    }

    /// Records an entry and writes the history before the update leaves, so its id is never reused.
    fn record(&self, chat: i64, title: Option<&str>, entry: Entry) {
        let title = title.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        self.kept.add(chat, || title.unwrap_or_else(|| self.titles.default_title(chat)), entry);
        if let Err(e) = self.kept.save() {
            tracing::error!(error = %e, "keeping the fake Telegram's history");
        }
    }
}

/// Compares without stopping at the first difference.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refusal(status: StatusCode, text: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>{status}</title><h1>{status}</h1><p>{}</p>\
         <p><a href=\"/dev/telegram\">back to /dev/telegram</a></p>",
        escape(text)
    );
    (status, Html(body)).into_response()
}

#[derive(Deserialize)]
struct Selected {
    chat: Option<i64>,
    /// A title for a chat not seen before (the "open a group" form).
    title: Option<String>,
}

const STYLE: &str = "body{font-family:'NanumGothic','Noto Sans KR',sans-serif;display:flex;margin:0;background:#dfe7ef}\
nav{width:17em;padding:1em;background:#f4f4f4;min-height:100vh;box-sizing:border-box}\
nav a{display:block;padding:.35em .5em;border-radius:6px;color:#222;text-decoration:none}\
nav a.on{background:#3a7bd5;color:#fff}nav a small{display:block;color:#777;font-size:.75em}nav a.on small{color:#dde}\
main{flex:1;padding:1em 1.5em;max-width:52em}h2{margin:.2em 0}.sub{color:#666;font-size:.85em;margin-bottom:1em}\
.m{margin:.45em 0;padding:.5em .7em;white-space:pre-wrap;border-radius:10px;max-width:38em;box-shadow:0 1px 1px #0002}\
.bot{background:#fff}.me{background:#e3fbd0;margin-left:auto}.row{display:flex}\
.meta{color:#888;font-size:.78em;display:block;margin-bottom:.2em}.reply{border-left:3px solid #3a7bd5;padding-left:.4em;color:#555;font-size:.85em;display:block;margin-bottom:.3em}\
.buttons{display:flex;flex-wrap:wrap;gap:.3em;margin-top:.4em}.buttons form{flex:1}.buttons button{width:100%;padding:.4em;border:0;border-radius:6px;background:#e8eef6;cursor:pointer}\
.press{text-align:center;color:#667;font-size:.8em;margin:.3em 0}.banner{background:#fff6d5;padding:.5em .7em;border-radius:6px;font-size:.85em;margin-bottom:1em}\
form.write{margin-top:1em;background:#f7f7f7;padding:.7em;border-radius:8px}form.write textarea{width:100%;box-sizing:border-box}\
.empty{color:#777;font-style:italic}";

async fn page(State(chats): State<Chats>, Query(selected): Query<Selected>) -> Response {
    chats.sync();
    let mut ids: Vec<i64> = chats.titles.known().collect();
    for (id, _) in chats.kept.chats() {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let chat = selected.chat.unwrap_or(chats.titles.staff);
    let log = chats.kept.chat(chat);
    let mut out = format!(
        "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
         <title>ipo-advisory · fake Telegram</title><style>{STYLE}</style><nav><h3>Chats</h3>"
    );
    for id in &ids {
        let class = if *id == chat { " class=on" } else { "" };
        out.push_str(&format!(
            "<a{class} href=\"/dev/telegram?chat={id}\">{}<small>{}</small></a>",
            escape(&chats.title(*id)),
            escape(&chats.role(*id).await)
        ));
    }
    out.push_str(
        "<h4>Open another group</h4><form method=get action=\"/dev/telegram\">\
         <input name=chat size=15 value=\"-1009999999999\" aria-label=\"chat id\"><br>\
         <input name=title size=15 placeholder=\"its title\" aria-label=title> <button>open</button></form></nav><main>",
    );
    if let Some(notice) = &chats.notice {
        out.push_str(&format!("<div class=banner>demo: {}</div>", escape(notice)));
    }
    let new_title = selected.title.as_deref().map(str::trim).filter(|t| !t.is_empty() && log.is_none());
    let title = new_title.map_or_else(|| chats.title(chat), str::to_owned);
    out.push_str(&format!(
        "<h2>{}</h2><div class=sub>{chat} · {}</div>",
        escape(&title),
        escape(&chats.role(chat).await)
    ));
    let bot_messages = match &log {
        Some(log) => conversation(&mut out, log, &chats.csrf, chat),
        None => {
            out.push_str("<p class=empty>No messages yet.</p>");
            Vec::new()
        }
    };
    write_form(&mut out, &chats, chat, new_title, &bot_messages);
    out.push_str("</main>");
    let mut response = Html(out).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Nobody frames the page to make a person press its buttons.
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    response
}

/// The chat's entries in time order; returns the bot's messages still there (id, first line).
fn conversation(out: &mut String, log: &ChatLog, csrf: &str, chat: i64) -> Vec<(i64, String)> {
    let mut bot_messages = Vec::new();
    for entry in log.in_time_order() {
        match &entry.kind {
            EntryKind::Bot { deleted: true, .. } => {}
            EntryKind::Bot { message, deleted: false } => {
                let id = message["message_id"].as_i64().unwrap_or_default();
                let text = shown_text(message);
                bot_messages.push((id, text.lines().next().unwrap_or_default().chars().take(40).collect()));
                let edited = if message.get("edit_date").is_some() { " · 수정됨" } else { "" };
                out.push_str(&format!(
                    "<div class=row><div class=\"m bot\" id=\"m{id}\"><span class=meta>🤖 bot · #{id} · {}{edited}</span>",
                    time(entry.at_ms)
                ));
                reply_quote(out, message);
                out.push_str(&escape(&text));
                buttons(out, message, csrf, chat, id);
                out.push_str("</div></div>");
            }
            EntryKind::Person { message, update_id } => {
                let id = message["message_id"].as_i64().unwrap_or_default();
                out.push_str(&format!(
                    "<div class=row><div class=\"m me\" id=\"m{id}\"><span class=meta>🙋 {} · #{id} · {} · update {update_id}</span>",
                    escape(&sender(message)),
                    time(entry.at_ms)
                ));
                reply_quote(out, message);
                out.push_str(&escape(&shown_text(message)));
                out.push_str("</div></div>");
            }
            EntryKind::Press { message_id, button, who, update_id } => out.push_str(&format!(
                "<div class=press>{} pressed “{}” under #{message_id} · {} · update {update_id}</div>",
                escape(who),
                escape(button),
                time(entry.at_ms)
            )),
        }
    }
    bot_messages
}

/// The inline keyboard the message has now, each button a form that presses it.
fn buttons(out: &mut String, message: &Value, csrf: &str, chat: i64, id: i64) {
    let Some(rows) = message["reply_markup"]["inline_keyboard"].as_array() else { return };
    for row in rows.iter().filter_map(Value::as_array) {
        out.push_str("<div class=buttons>");
        for button in row {
            let (text, data) = (button["text"].as_str().unwrap_or(""), button["callback_data"].as_str().unwrap_or(""));
            out.push_str(&format!(
                "<form method=post action=\"/dev/telegram/press\"><input type=hidden name=csrf value=\"{csrf}\">\
                 <input type=hidden name=chat value=\"{chat}\"><input type=hidden name=message value=\"{id}\">\
                 <input type=hidden name=data value=\"{}\"><button>{}</button></form>",
                escape(data),
                escape(text)
            ));
        }
        out.push_str("</div>");
    }
}

fn reply_quote(out: &mut String, message: &Value) {
    let replied = &message["reply_to_message"];
    if let Some(id) = replied["message_id"].as_i64() {
        let first: String = shown_text(replied).lines().next().unwrap_or_default().chars().take(50).collect();
        out.push_str(&format!("<span class=reply>↩ #{id} {}</span>", escape(&first)));
    }
}

fn write_form(out: &mut String, chats: &Chats, chat: i64, new_title: Option<&str>, bot_messages: &[(i64, String)]) {
    let mut options = String::from("<option value=\"\">no reply (a plain message)</option>");
    for (i, (id, first)) in bot_messages.iter().enumerate() {
        let selected = if i + 1 == bot_messages.len() { " selected" } else { "" };
        options.push_str(&format!("<option value=\"{id}\"{selected}>#{id} {}</option>", escape(first)));
    }
    let title =
        new_title.map(|t| format!("<input type=hidden name=title value=\"{}\">", escape(t))).unwrap_or_default();
    let who = if chat == chats.titles.staff { "staff" } else { "the client" };
    out.push_str(&format!(
        "<form class=write method=post action=\"/dev/telegram/send\"><input type=hidden name=csrf value=\"{}\">\
         <input type=hidden name=chat value=\"{chat}\">{title}\
         <textarea name=text rows=3 placeholder=\"17,500 / 300,000 / 1개월\"></textarea><br>\
         <label>reply to <select name=reply_to>{options}</select></label> \
         <label><input type=checkbox name=photo> as a screenshot</label> <button>send as {who}</button></form>",
        chats.csrf
    ));
}

/// What a message shows: its text or caption, with a line for a file or photo.
fn shown_text(message: &Value) -> String {
    let mut text = String::new();
    if let Some(name) = message["document"]["file_name"].as_str() {
        text.push_str(&format!("📎 {name}\n"));
    } else if message.get("document").is_some() {
        text.push_str("📎 file\n");
    }
    if message.get("photo").is_some() {
        text.push_str("🖼 photo\n");
    }
    text.push_str(message["text"].as_str().or_else(|| message["caption"].as_str()).unwrap_or_default());
    text
}

fn sender(message: &Value) -> String {
    let from = &message["from"];
    [from["first_name"].as_str(), from["last_name"].as_str()].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// `03-16 09:00:05` in KST.
fn time(at_ms: i64) -> String {
    let kst = chrono::FixedOffset::east_opt(9 * 3600);
    match (chrono::DateTime::from_timestamp_millis(at_ms), kst) {
        (Some(at), Some(kst)) => at.with_timezone(&kst).format("%m-%d %H:%M:%S").to_string(),
        _ => String::new(),
    }
}

#[derive(Deserialize)]
struct SendForm {
    chat: i64,
    #[serde(default)]
    text: String,
    /// The bot's message this one replies to; empty for none.
    reply_to: Option<String>,
    photo: Option<String>,
    /// The chat's title, for a chat not seen before.
    title: Option<String>,
}

async fn send(State(chats): State<Chats>, body: Bytes) -> Response {
    let form: SendForm = match chats.checked(&body) {
        Ok(form) => form,
        Err((status, why)) => return refusal(status, &why),
    };
    let text = form.text.trim_end().to_owned();
    if text.trim().is_empty() && form.photo.is_none() {
        return refusal(StatusCode::BAD_REQUEST, "Telegram sends no empty message: write something first.");
    }
    let title = form.title.as_deref().filter(|_| chats.kept.chat(form.chat).is_none());
    let chat_title =
        title.map(str::trim).filter(|t| !t.is_empty()).map_or_else(|| chats.title(form.chat), str::to_owned);
    let id = chats.fake.take_message_id(form.chat);
    let update_id = chats.kept.take_update_id();
    let mut message = json!({
        "message_id": id,
        "from": person(&chats, form.chat),
        "chat": chat_json(form.chat, &chat_title),
        "date": now_ms() / 1000,
    });
    if form.photo.is_some() {
        // A screenshot the bot can getFile and the dashboard can show beside the answer.
        let file_id = format!("AgACAgUAAxk-devserver-{update_id}");
        chats.fake.add_file(&file_id, &format!("photos/devserver-{update_id}.png"), SCREENSHOT);
        message["photo"] = json!([{ "file_id": file_id, "file_unique_id": format!("dev{update_id}"), "width": 1280, "height": 960, "file_size": 120_000 }]);
        if !text.is_empty() {
            message["caption"] = json!(text);
        }
    } else {
        message["text"] = json!(text);
    }
    if let Some(original) = form
        .reply_to
        .as_deref()
        .and_then(|r| r.parse::<i64>().ok())
        .and_then(|replied| chats.fake.message(form.chat, replied))
    {
        message["reply_to_message"] = original;
    }
    let entry = Entry { at_ms: now_ms(), kind: EntryKind::Person { message: message.clone(), update_id } };
    chats.record(form.chat, Some(&chat_title), entry);
    chats.fake.push_update(json!({ "update_id": update_id, "message": message }));
    Redirect::to(&format!("/dev/telegram?chat={}", form.chat)).into_response()
}

#[derive(Deserialize)]
struct PressForm {
    chat: i64,
    message: i64,
    data: String,
}

async fn press(State(chats): State<Chats>, body: Bytes) -> Response {
    let form: PressForm = match chats.checked(&body) {
        Ok(form) => form,
        Err((status, why)) => return refusal(status, &why),
    };
    // Only a button the message still has can be pressed, as in Telegram.
    let Some(message) = chats.fake.message(form.chat, form.message) else {
        return refusal(StatusCode::CONFLICT, "That message is not in the chat (any more).");
    };
    let button = message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .find(|b| b["callback_data"].as_str() == Some(form.data.as_str()))
        .and_then(|b| b["text"].as_str())
        .map(str::to_owned);
    let Some(button) = button else {
        return refusal(StatusCode::CONFLICT, "That button is gone: the bot removed it. Reload the page.");
    };
    let update_id = chats.kept.take_update_id();
    let from = person(&chats, form.chat);
    let who = sender(&json!({ "from": from }));
    let entry = Entry { at_ms: now_ms(), kind: EntryKind::Press { message_id: form.message, button, who, update_id } };
    chats.record(form.chat, None, entry);
    chats.fake.push_update(json!({ "update_id": update_id, "callback_query": {
        "id": format!("dev-{update_id}"),
        "from": from,
        "chat_instance": format!("{}", form.chat.rem_euclid(1_000_000)),
        "message": message,
        "data": form.data,
    }}));
    Redirect::to(&format!("/dev/telegram?chat={}", form.chat)).into_response()
}

fn person(chats: &Chats, chat: i64) -> Value {
    if chat == chats.titles.staff {
        json!({ "id": STAFF_USER, "is_bot": false, "first_name": "운영", "last_name": "김" })
    } else {
        json!({ "id": 6_100_000_000i64 + chat.rem_euclid(1_000), "is_bot": false, "first_name": "매니저", "last_name": format!("{}", chat.rem_euclid(1_000)) })
    }
}
