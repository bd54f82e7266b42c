//! `/dev/telegram`: the built-in fake Telegram's groups as a page. Read what the bot sent, answer as
//! the client (text, a screenshot, a button press); every action becomes a real-shaped update the
//! fake delivers to the webhook, as Telegram would.

use crate::demo::DEMO_CHATS;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::app::App;
use shared::domain::ids::ChatId;
use shared::telegram::html::escape;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use testkit::fake_telegram::FakeTelegram;

#[derive(Clone)]
struct Chats {
    fake: Arc<FakeTelegram>,
    app: Arc<App>,
    staff: ChatId,
    /// What the people in the chats wrote, oldest first: the chat, the text, and how many of the
    /// bot's messages the chat had then (where it goes in the conversation).
    written: Arc<Mutex<Vec<Written>>>,
    next_message: Arc<AtomicI64>,
}

struct Written {
    chat: i64,
    text: String,
    after: usize,
}

pub fn routes(fake: Arc<FakeTelegram>, app: Arc<App>, staff: ChatId) -> Router {
    let state = Chats { fake, app, staff, written: Arc::default(), next_message: Arc::new(AtomicI64::new(100_000)) };
    Router::new()
        .route("/dev/telegram", get(page))
        .route("/dev/telegram/send", post(send))
        .route("/dev/telegram/press", post(press))
        .with_state(state)
}

#[derive(Deserialize)]
struct Selected {
    chat: Option<i64>,
}

impl Chats {
    /// The staff group, or the linked client's name, or the chat id.
    async fn name(&self, chat: i64) -> String {
        if chat == self.staff.0 {
            return "운영팀 (staff)".to_owned();
        }
        match self.app.store.client_by_chat(ChatId(chat)).await {
            Ok(Some(client)) => client.value.name.to_string(),
            _ => format!("group {chat}"),
        }
    }

    fn note(&self, chat: i64, text: String) {
        let after = self.fake.sent(chat).len();
        if let Ok(mut written) = self.written.lock() {
            written.push(Written { chat, text, after });
        }
    }
}

async fn page(State(chats): State<Chats>, Query(selected): Query<Selected>) -> Html<String> {
    let mut ids: Vec<i64> = vec![chats.staff.0];
    ids.extend(DEMO_CHATS);
    for message in chats.fake.all_sent() {
        if !ids.contains(&message.chat_id) {
            ids.push(message.chat_id);
        }
    }
    let chat = selected.chat.unwrap_or(chats.staff.0);
    let mut out = String::from(
        "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width\"><title>ipo-advisory · fake Telegram</title>\
         <style>body{font-family:sans-serif;display:flex;margin:0}nav{width:16em;padding:1em;background:#eee}\
         main{flex:1;padding:1em;max-width:48em}.bot{background:#eef5ff}.me{background:#efe;margin-left:4em}\
         .m{margin:.4em 0;padding:.5em;white-space:pre-wrap;border-radius:6px}.meta{color:#777;font-size:.8em}\
         form.inline{display:inline}.on{font-weight:bold}</style><nav><h3>Chats</h3>",
    );
    for id in &ids {
        let class = if *id == chat { " class=on" } else { "" };
        let name = chats.name(*id).await;
        out.push_str(&format!("<div><a{class} href=\"/dev/telegram?chat={id}\">{}</a></div>", escape(&name)));
    }
    let title = chats.name(chat).await;
    out.push_str(&format!(
        "<p><small>any chat: <a href=\"/dev/telegram?chat=-1009999999999\">-1009999999999</a></small></p></nav>\
         <main><h2>{} <small class=meta>{chat}</small></h2>",
        escape(&title)
    ));
    let sent = chats.fake.sent(chat);
    let written: Vec<(String, usize)> = chats
        .written
        .lock()
        .map(|w| w.iter().filter(|w| w.chat == chat).map(|w| (w.text.clone(), w.after)).collect())
        .unwrap_or_default();
    let people = |out: &mut String, upto: usize| {
        for (text, _) in written.iter().filter(|(_, after)| *after == upto) {
            out.push_str(&format!("<div class=\"m me\">🙋 {}</div>", escape(text)));
        }
    };
    for (i, message) in sent.iter().enumerate() {
        people(&mut out, i);
        // As the chat shows it now: edits applied, pressed buttons gone.
        let current = chats.fake.message(chat, message.message_id);
        let text = current.as_ref().and_then(|m| m["text"].as_str()).unwrap_or(&message.plain_text).to_owned();
        let edited = current.as_ref().is_some_and(|m| m.get("edit_date").is_some());
        out.push_str(&format!(
            "<div class=\"m bot\"><span class=meta>🤖 #{}{}</span>\n{}",
            message.message_id,
            if edited { " · 수정됨" } else { "" },
            escape(&text)
        ));
        let markup = current.as_ref().and_then(|m| m.get("reply_markup").cloned());
        if let Some(rows) = markup.as_ref().and_then(|m| m["inline_keyboard"].as_array()) {
            for button in rows.iter().filter_map(Value::as_array).flatten() {
                let (text, data) =
                    (button["text"].as_str().unwrap_or(""), button["callback_data"].as_str().unwrap_or(""));
                out.push_str(&format!(
                    "<form class=inline method=post action=\"/dev/telegram/press\"><input type=hidden name=chat value=\"{chat}\">\
                     <input type=hidden name=message value=\"{}\"><input type=hidden name=data value=\"{}\"> <button>{}</button></form>",
                    message.message_id,
                    escape(data),
                    escape(text)
                ));
            }
        }
        out.push_str("</div>");
    }
    people(&mut out, sent.len());
    let mut options = String::from("<option value=\"\">no reply (a plain message)</option>");
    for (i, message) in sent.iter().enumerate() {
        let first: String = message.plain_text.lines().next().unwrap_or_default().chars().take(40).collect();
        let selected = if i + 1 == sent.len() { " selected" } else { "" };
        options.push_str(&format!(
            "<option value=\"{}\"{selected}>#{} {}</option>",
            message.message_id,
            message.message_id,
            escape(&first)
        ));
    }
    let who = if chat == chats.staff.0 { "staff" } else { "the client" };
    out.push_str(&format!(
        "<form method=post action=\"/dev/telegram/send\"><input type=hidden name=chat value=\"{chat}\">\
         <textarea name=text rows=3 cols=60 placeholder=\"17,500 / 300,000 / 1개월\"></textarea><br>\
         <label>reply to <select name=reply_to>{options}</select></label> \
         <label><input type=checkbox name=photo> as a screenshot</label> <button>send as {who}</button></form></main>"
    ));
    Html(out)
}

#[derive(Deserialize)]
struct SendForm {
    chat: i64,
    text: String,
    /// The bot's message this one replies to; empty for none.
    reply_to: Option<String>,
    photo: Option<String>,
}

async fn send(State(chats): State<Chats>, Form(form): Form<SendForm>) -> impl IntoResponse {
    let id = chats.next_message.fetch_add(1, Ordering::Relaxed);
    let mut message = json!({
        "message_id": id,
        "from": person(&chats, form.chat),
        "chat": chat_json(&chats, form.chat),
        "date": now(),
    });
    if form.photo.is_some() {
        message["photo"] = json!([{ "file_id": format!("AgACAgUAAxk-devserver-{id}"), "file_unique_id": format!("dev{id}"), "width": 1280, "height": 960, "file_size": 120_000 }]);
        message["caption"] = json!(form.text);
    } else {
        message["text"] = json!(form.text);
    }
    if let Some(original) = form
        .reply_to
        .as_deref()
        .and_then(|r| r.parse::<i64>().ok())
        .and_then(|replied| chats.fake.message(form.chat, replied))
    {
        message["reply_to_message"] = original;
    }
    chats.note(form.chat, if form.photo.is_some() { format!("📷 {}", form.text) } else { form.text.clone() });
    chats.fake.push_update(json!({ "message": message }));
    Redirect::to(&format!("/dev/telegram?chat={}", form.chat))
}

#[derive(Deserialize)]
struct PressForm {
    chat: i64,
    message: i64,
    data: String,
}

async fn press(State(chats): State<Chats>, Form(form): Form<PressForm>) -> impl IntoResponse {
    let id = chats.next_message.fetch_add(1, Ordering::Relaxed);
    let message = chats
        .fake
        .message(form.chat, form.message)
        .unwrap_or_else(|| json!({ "message_id": form.message, "chat": chat_json(&chats, form.chat), "date": now() }));
    chats.fake.push_update(json!({ "callback_query": {
        "id": format!("dev-{id}"),
        "from": person(&chats, form.chat),
        "chat_instance": "0",
        "message": message,
        "data": form.data,
    }}));
    chats.note(form.chat, format!("[pressed {}]", form.data));
    Redirect::to(&format!("/dev/telegram?chat={}", form.chat))
}

/// The Telegram account that writes in the staff group on this page (the demo registers it on a
/// staff record).
pub const STAFF_USER: i64 = 7_100_000_001;

fn person(chats: &Chats, chat: i64) -> Value {
    if chat == chats.staff.0 {
        json!({ "id": STAFF_USER, "is_bot": false, "first_name": "운영", "last_name": "김" })
    } else {
        json!({ "id": 6_100_000_000i64 + chat.rem_euclid(1_000), "is_bot": false, "first_name": "매니저", "last_name": format!("{}", chat.rem_euclid(1_000)) })
    }
}

fn chat_json(chats: &Chats, chat: i64) -> Value {
    let title = if chat == chats.staff.0 { "(가상)자문사 운영팀".to_owned() } else { format!("group {chat}") };
    json!({ "id": chat, "title": title, "type": if chat < 0 { "supergroup" } else { "private" } })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}
