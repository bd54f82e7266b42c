//! The fake Telegram server, exercised over HTTP the way a bot would use it.

#![allow(clippy::unwrap_used)] // helpers and the webhook receiver fail the test by panicking

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::fake_telegram::{FakeConfig, FakeTelegram, LimitKind, RateLimits, SECRET_TOKEN_HEADER, WebhookRetry};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn parse(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body)
}

async fn call(fake: &FakeTelegram, method: &str, body: Value) -> (u16, Value) {
    parse(client().post(fake.method_url(method)).json(&body).send().await.unwrap()).await
}

async fn send(fake: &FakeTelegram, chat_id: i64, text: &str) -> (u16, Value) {
    call(fake, "sendMessage", json!({ "chat_id": chat_id, "text": text })).await
}

async fn send_html(fake: &FakeTelegram, text: &str) -> (u16, Value) {
    call(fake, "sendMessage", json!({ "chat_id": 1, "text": text, "parse_mode": "HTML" })).await
}

fn description(body: &Value) -> &str {
    body["description"].as_str().unwrap_or("")
}

async fn unlimited() -> FakeTelegram {
    FakeTelegram::start(FakeConfig::default().without_limits()).await
}

#[tokio::test]
async fn envelope_and_status_codes() {
    let fake = FakeTelegram::start(FakeConfig::default()).await;
    assert_eq!(fake.token(), "123456:TEST-token");
    assert!(fake.api_base().starts_with("http://127.0.0.1:"));

    let (status, body) = call(&fake, "getMe", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], true);
    assert_eq!(body["result"]["id"], 123456);
    assert_eq!(body["result"]["is_bot"], true);

    let wrong = format!("{}/bot999:wrong/getMe", fake.api_base());
    let (status, body) = parse(client().get(wrong).send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body, json!({"ok": false, "error_code": 401, "description": "Unauthorized"}));

    let (status, body) = call(&fake, "sendTelepathy", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"}));

    let (status, body) = call(&fake, "sendMessage", json!({ "text": "hi" })).await;
    assert_eq!(status, 400);
    assert_eq!(body["ok"], false);
    assert_eq!(body["error_code"], 400);
    assert_eq!(description(&body), "Bad Request: chat_id is empty");

    let (status, body) = send(&fake, 1, "").await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: message text is empty");

    let (status, body) = send(&fake, 1, "hello").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["text"], "hello");
    assert_eq!(body["result"]["chat"]["type"], "private");
    assert_eq!(fake.calls().len(), 5, "the 401 is not a call of this bot");
    fake.shutdown().await;
}

#[tokio::test]
async fn methods_are_case_insensitive_and_every_encoding_works() {
    let fake = unlimited().await;
    let http = client();
    let keyboard = json!({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]});

    // JSON body.
    let (status, _) = call(
        &fake,
        "sendMessage",
        json!({"chat_id": 10, "text": "json", "reply_markup": keyboard, "disable_notification": true}),
    )
    .await;
    assert_eq!(status, 200);

    // Form body, reply_markup as a JSON string.
    let (status, _) = parse(
        http.post(fake.method_url("sendmessage"))
            .form(&[("chat_id", "10"), ("text", "form"), ("reply_markup", &keyboard.to_string())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    // Query string.
    let (status, _) = parse(
        http.get(fake.method_url("SENDMESSAGE")).query(&[("chat_id", "10"), ("text", "query")]).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200);

    // Multipart.
    let form = reqwest::multipart::Form::new()
        .text("chat_id", "10")
        .text("text", "multipart")
        .text("reply_markup", keyboard.to_string());
    let (status, body) = parse(http.post(fake.method_url("SendMessage")).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["reply_markup"], keyboard);

    let sent = fake.sent(10);
    let texts: Vec<_> = sent.iter().map(|m| m.text.clone().unwrap()).collect();
    assert_eq!(texts, ["json", "form", "query", "multipart"]);
    let ids: Vec<_> = sent.iter().map(|m| m.message_id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    assert!(sent.iter().all(|m| m.method == "sendMessage"));
    assert_eq!(sent[0].reply_markup.as_ref(), Some(&keyboard));
    assert_eq!(sent[1].reply_markup.as_ref(), Some(&keyboard));
    assert_eq!(sent[2].reply_markup, None);
    assert!(sent[0].disable_notification);
    assert!(!sent[1].disable_notification);
    assert_eq!(fake.all_sent().len(), 4);
    // Message ids count per chat.
    let (_, body) = send(&fake, 11, "other chat").await;
    assert_eq!(body["result"]["message_id"], 1);
}

#[tokio::test]
async fn a_chat_gets_429_on_its_fourth_message_in_a_second() {
    let fake = FakeTelegram::start(FakeConfig::default()).await;
    for i in 0..3 {
        let (status, _) = send(&fake, 5, &format!("burst {i}")).await;
        assert_eq!(status, 200);
    }
    let (status, body) = send(&fake, 5, "one too many").await;
    assert_eq!(status, 429);
    assert_eq!(description(&body), "Too Many Requests: retry after 1");
    assert_eq!(body["parameters"]["retry_after"], 1);
    assert_eq!(fake.violations(), 1);
    assert_eq!(fake.violation_log()[0].kind, LimitKind::Chat);
    assert_eq!(fake.sent(5).len(), 3, "refused sends are not recorded");
    // Other chats are not affected.
    assert_eq!(send(&fake, 6, "hi").await.0, 200);
}

#[tokio::test]
async fn the_bot_gets_429_beyond_30_messages_per_second() {
    // A one-minute window, so that a loaded machine sending 31 requests slowly still tests the count.
    let limits = RateLimits { bot_window: Duration::from_secs(60), ..RateLimits::default() };
    let fake = FakeTelegram::start(FakeConfig::default().with_limits(limits)).await;
    for chat in 1..=30 {
        assert_eq!(send(&fake, chat, "hi").await.0, 200);
    }
    let (status, body) = send(&fake, 31, "hi").await;
    assert_eq!(status, 429);
    assert!(body["parameters"]["retry_after"].as_u64().unwrap() >= 1);
    assert_eq!(fake.violations(), 1);
    assert_eq!(fake.violation_log()[0].kind, LimitKind::Bot);
}

#[tokio::test]
async fn a_paced_sender_sees_no_violation_and_groups_have_their_own_window() {
    // Telegram's shape at 50 times the speed.
    let limits = RateLimits {
        bot_max: 30,
        bot_window: Duration::from_millis(200),
        chat_burst: 3,
        chat_refill: Duration::from_millis(20),
        group_max: 5,
        group_window: Duration::from_secs(5),
    };
    let fake = FakeTelegram::start(FakeConfig::default().with_limits(limits)).await;
    for i in 0..10 {
        assert_eq!(send(&fake, 7, &format!("paced {i}")).await.0, 200);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(fake.violations(), 0);

    let group = -4242;
    for i in 0..5 {
        assert_eq!(send(&fake, group, &format!("g{i}")).await.0, 200);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (status, _) = send(&fake, group, "sixth").await;
    assert_eq!(status, 429);
    assert_eq!(fake.violation_log()[0].kind, LimitKind::Group);

    fake.set_limits(None);
    for i in 0..10 {
        assert_eq!(send(&fake, group, &format!("free {i}")).await.0, 200);
    }
    assert_eq!(fake.violations(), 1);
}

#[tokio::test]
async fn html_is_validated_like_telegram() {
    let fake = unlimited().await;
    let (status, body) = send_html(&fake, "<b>굵게</b> &lt;tag&gt; &amp; &quot;").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["text"], "굵게 <tag> & \"");
    assert_eq!(body["result"]["entities"], json!([{"type": "bold", "offset": 0, "length": 2}]));
    let sent = &fake.sent(1)[0];
    assert_eq!(sent.text.as_deref(), Some("<b>굵게</b> &lt;tag&gt; &amp; &quot;"));
    assert_eq!(sent.plain_text, "굵게 <tag> & \"");
    assert_eq!(sent.parse_mode.as_deref(), Some("HTML"));

    let good = concat!(
        "<i>i</i><a href=\"https://example.com/?a=1&b=2\">link</a> <code>x</code> ",
        "<pre><code class=\"language-rust\">fn main() {}</code></pre>",
        "<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler> &#123; &#x1F600;"
    );
    let (status, body) = send_html(&fake, good).await;
    assert_eq!(status, 200, "{body}");

    for (bad, reason) in [
        ("<b>unclosed", "Can't find end tag corresponding to start tag \"b\""),
        ("a < b", "Unsupported start tag \"\" at byte offset 2"),
        ("<script>alert(1)</script>", "Unsupported start tag \"script\" at byte offset 0"),
        ("&nbsp;", "Unsupported HTML entity \"&nbsp;\""),
        ("a > b", "Character '>'"),
        ("fish & chips", "Character '&'"),
        ("<b><i>x</b></i>", "Unmatched end tag at byte offset 7"),
    ] {
        let (status, body) = send_html(&fake, bad).await;
        assert_eq!(status, 400, "{bad}");
        let expected = format!("Bad Request: can't parse entities: {reason}");
        assert!(description(&body).starts_with(&expected), "{bad}: {}", description(&body));
    }
    // parse_mode is case-insensitive; without it markup is plain text.
    let lower = call(&fake, "sendMessage", json!({"chat_id": 1, "text": "<b>x</b>", "parse_mode": "html"})).await;
    assert_eq!(lower.1["result"]["text"], "x");
    assert_eq!(send(&fake, 1, "a < b & c").await.0, 200);
    let (status, body) = call(&fake, "sendMessage", json!({"chat_id": 1, "text": "x", "parse_mode": "BBCode"})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: unsupported parse_mode");
    assert_eq!(send_html(&fake, "<b> </b>").await.1["description"], "Bad Request: message text is empty");
    assert_eq!(fake.sent(1).len(), 4, "only accepted sends are recorded");
}

#[tokio::test]
async fn lengths_count_utf16_after_parsing() {
    let fake = unlimited().await;
    let too_long = "Bad Request: message is too long";
    assert_eq!(send(&fake, 1, &"a".repeat(4096)).await.0, 200);
    assert_eq!(description(&send(&fake, 1, &"a".repeat(4097)).await.1), too_long);
    // 2048 emoji are 4096 UTF-16 units though only 2048 characters.
    assert_eq!(send(&fake, 1, &"😀".repeat(2048)).await.0, 200);
    let over = format!("{}a", "😀".repeat(2048));
    assert_eq!(description(&send(&fake, 1, &over).await.1), too_long);
    // Tags do not count and an entity counts as one character.
    let tagged = format!("<b>{}</b>&amp;", "a".repeat(4095));
    assert_eq!(send_html(&fake, &tagged).await.0, 200);
    let tagged = format!("<b>{}</b>&amp;", "a".repeat(4096));
    assert_eq!(description(&send_html(&fake, &tagged).await.1), too_long);
    // Without parse_mode the raw text counts.
    assert_eq!(description(&send(&fake, 1, &format!("<b>{}</b>", "a".repeat(4090))).await.1), too_long);

    // Captions: 1024.
    fake.add_file("doc-1", "documents/a.pdf", b"%PDF".to_vec());
    let caption = |n: usize| json!({"chat_id": 1, "document": "doc-1", "caption": "c".repeat(n)});
    assert_eq!(call(&fake, "sendDocument", caption(1024)).await.0, 200);
    let (status, body) = call(&fake, "sendDocument", caption(1025)).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: message caption is too long");

    // callback_data: 64 bytes.
    let button = |data: String| json!({"chat_id": 1, "text": "pick", "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": data}]]}});
    assert_eq!(call(&fake, "sendMessage", button("d".repeat(64))).await.0, 200);
    let (status, body) = call(&fake, "sendMessage", button("d".repeat(65))).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: BUTTON_DATA_INVALID");
    // 22 three-byte characters are 66 bytes.
    let (status, _) = call(&fake, "sendMessage", button("가".repeat(22))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn kicked_and_migrated_chats() {
    let fake = FakeTelegram::start(FakeConfig::default()).await;
    fake.kick(-42);
    let (status, body) = send(&fake, -42, "hello?").await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was kicked from the group chat"})
    );
    fake.kick(77);
    assert_eq!(description(&send(&fake, 77, "hi").await.1), "Forbidden: bot was blocked by the user");
    fake.readmit(-42);
    assert_eq!(send(&fake, -42, "back").await.0, 200);

    fake.migrate(-43, -1_001_234_567_890);
    let (status, body) = send(&fake, -43, "old id").await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: group chat was upgraded to a supergroup chat");
    assert_eq!(body["parameters"]["migrate_to_chat_id"], -1_001_234_567_890_i64);
    let (status, body) = send(&fake, -1_001_234_567_890, "new id").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["chat"]["type"], "supergroup");
    assert_eq!(fake.sent(-1_001_234_567_890).len(), 1);
    assert!(fake.sent(-43).is_empty());

    // Leaving a group behaves like being removed from it.
    assert_eq!(call(&fake, "leaveChat", json!({"chat_id": -44})).await.0, 200);
    let (status, body) = send(&fake, -44, "hi").await;
    assert_eq!(status, 403);
    assert_eq!(description(&body), "Forbidden: bot is not a member of the group chat");
    let (status, body) = call(&fake, "getChat", json!({"chat_id": -45})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["type"], "group");
    assert_eq!(fake.violations(), 0);
}

#[tokio::test]
async fn injected_server_errors_and_flood_waits() {
    let fake = FakeTelegram::start(FakeConfig::default()).await;
    fake.fail_next(2, 500);
    fake.fail_next(1, 502);
    for expected in [(500, "Internal Server Error"), (500, "Internal Server Error"), (502, "Bad Gateway")] {
        let (status, body) = call(&fake, "getMe", json!({})).await;
        assert_eq!((status, description(&body)), expected);
        assert_eq!(body["error_code"], expected.0);
    }
    assert_eq!(call(&fake, "getMe", json!({})).await.0, 200);

    fake.retry_after_storm(2, 7);
    assert_eq!(call(&fake, "getMe", json!({})).await.0, 200, "storms hit sends only");
    for _ in 0..2 {
        let (status, body) = send(&fake, 1, "hi").await;
        assert_eq!(status, 429);
        assert_eq!(description(&body), "Too Many Requests: retry after 7");
        assert_eq!(body["parameters"]["retry_after"], 7);
    }
    assert_eq!(send(&fake, 1, "hi").await.0, 200);
    assert_eq!(fake.injected_429s(), 2);
    assert_eq!(fake.violations(), 0);
    assert_eq!(fake.sent(1).len(), 1);
}

#[tokio::test]
async fn files_get_file_and_download() {
    let fake = unlimited().await;
    let http = client();
    fake.add_file("small", "documents/report.txt", b"hello file".to_vec());
    let (status, body) = call(&fake, "getFile", json!({"file_id": "small"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["file_size"], 10);
    assert_eq!(body["result"]["file_id"], "small");
    assert!(body["result"]["file_unique_id"].is_string());
    let path = body["result"]["file_path"].as_str().unwrap().to_owned();
    let bytes = http.get(fake.file_url(&path)).send().await.unwrap();
    assert_eq!(bytes.status(), 200);
    assert_eq!(bytes.bytes().await.unwrap().as_ref(), b"hello file");

    fake.add_file_of_size("limit", "documents/limit.bin", 20 * 1024 * 1024);
    fake.add_file_of_size("huge", "documents/huge.bin", 20 * 1024 * 1024 + 1);
    assert_eq!(call(&fake, "getFile", json!({"file_id": "limit"})).await.0, 200);
    let (status, body) = call(&fake, "getFile", json!({"file_id": "huge"})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: file is too big");
    let (status, body) = call(&fake, "getFile", json!({"file_id": "nope"})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: invalid file_id");

    fake.add_file_of_size("sized", "documents/sized.bin", 300_000);
    let streamed = http.get(fake.file_url("documents/sized.bin")).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(streamed.len(), 300_000);
    assert!(streamed.iter().all(|b| *b == 0));
    let missing = http.get(fake.file_url("documents/none.bin")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // An uploaded document becomes a file the bot can fetch back.
    let part =
        reqwest::multipart::Part::bytes(b"a,b\n1,2\n".to_vec()).file_name("data.csv").mime_str("text/csv").unwrap();
    let form = reqwest::multipart::Form::new()
        .text("chat_id", "3")
        .text("caption", "<b>data</b>")
        .text("parse_mode", "HTML")
        .part("document", part);
    let (status, body) = parse(http.post(fake.method_url("sendDocument")).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["caption"], "data");
    assert_eq!(body["result"]["document"]["file_name"], "data.csv");
    let sent = &fake.sent(3)[0];
    let doc = sent.document.as_ref().unwrap();
    assert!(doc.uploaded);
    assert_eq!(doc.mime_type.as_deref(), Some("text/csv"));
    assert_eq!(doc.bytes.as_deref(), Some(&b"a,b\n1,2\n"[..]));
    let (_, file) = call(&fake, "getFile", json!({"file_id": doc.file_id})).await;
    let path = file["result"]["file_path"].as_str().unwrap();
    let back = http.get(fake.file_url(path)).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(back.as_ref(), b"a,b\n1,2\n");

    // Photos by file_id; unknown ids are refused.
    let (status, body) = call(&fake, "sendPhoto", json!({"chat_id": 3, "photo": "small"})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["photo"][0]["file_id"], "small");
    assert!(fake.sent(3)[1].photo.is_some());
    let (status, body) = call(&fake, "sendPhoto", json!({"chat_id": 3, "photo": "ghost"})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: wrong file identifier/HTTP URL specified");
    let (status, body) = call(&fake, "sendDocument", json!({"chat_id": 3})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: there is no document in the request");
}

fn text_update(chat_id: i64, message_id: i64, text: &str) -> Value {
    json!({
        "message": {
            "message_id": message_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "from": {"id": chat_id, "is_bot": false, "first_name": "Ann"},
            "text": text,
        }
    })
}

#[tokio::test]
async fn get_updates_offsets_limits_and_long_polling() {
    let fake = unlimited().await;
    let a = fake.push_update(text_update(9, 1, "one"));
    let b = fake.push_update(text_update(9, 2, "two"));
    let c = fake.push_update(text_update(9, 3, "three"));
    assert!(a < b && b < c);

    let (status, body) = call(&fake, "getUpdates", json!({})).await;
    assert_eq!(status, 200);
    let ids: Vec<i64> = body["result"].as_array().unwrap().iter().map(|u| u["update_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [a, b, c]);
    assert_eq!(body["result"][0]["message"]["text"], "one");

    // Unconfirmed updates come again; an offset confirms everything below it.
    let (_, body) = call(&fake, "getUpdates", json!({"offset": b, "limit": 1})).await;
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    assert_eq!(body["result"][0]["update_id"], b);
    assert_eq!(fake.pending_updates(), 2);
    let (_, body) = call(&fake, "getUpdates", json!({"offset": c + 1, "timeout": 0})).await;
    assert_eq!(body["result"], json!([]));
    assert_eq!(fake.pending_updates(), 0);

    // A long poll with nothing to return waits for its timeout…
    let started = Instant::now();
    let (_, body) = call(&fake, "getUpdates", json!({"offset": c + 1, "timeout": 1})).await;
    let waited = started.elapsed();
    assert_eq!(body["result"], json!([]));
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "it ends at its timeout, not at the 30 s cap: {waited:?}");

    // …and returns as soon as an update arrives.
    let poll = tokio::spawn({
        let url = fake.method_url("getUpdates");
        async move {
            let started = Instant::now();
            let body =
                parse(client().post(url).json(&json!({"offset": c + 1, "timeout": 30})).send().await.unwrap()).await.1;
            (body, started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let d = fake.push_update(text_update(9, 4, "four"));
    let (body, waited) = poll.await.unwrap();
    assert_eq!(body["result"][0]["update_id"], d);
    assert!(waited < Duration::from_secs(5));

    // chat_member updates come only when asked for.
    fake.push_update(json!({"chat_member": {"chat": {"id": -5, "type": "group", "title": "G"}}}));
    let (_, body) = call(&fake, "getUpdates", json!({"offset": d + 1})).await;
    assert_eq!(body["result"], json!([]));
    call(&fake, "getUpdates", json!({"offset": d + 1, "allowed_updates": ["message", "chat_member"]})).await;
    fake.push_update(json!({"chat_member": {"chat": {"id": -5, "type": "group", "title": "G"}}}));
    let (_, body) = call(&fake, "getUpdates", json!({"offset": d + 1})).await;
    assert_eq!(body["result"].as_array().unwrap().len(), 1);

    // No polling while a webhook is set.
    let (status, _) = call(&fake, "setWebhook", json!({"url": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(status, 200);
    let (status, body) = call(&fake, "getUpdates", json!({})).await;
    assert_eq!(status, 409);
    assert!(description(&body).starts_with("Conflict: can't use getUpdates method while webhook is active"));
}

/// `(update_id, chat_id, secret header)` of one POST the receiver got.
type Arrival = (i64, Option<i64>, Option<String>);

/// A webhook receiver for the tests: logs arrivals and answers from a script.
#[derive(Default)]
struct Receiver {
    arrivals: Mutex<Vec<Arrival>>,
    /// Failures to answer before succeeding, by message text (known before the update id is).
    failures_left: Mutex<HashMap<String, u32>>,
    busy: Mutex<HashMap<i64, u32>>,
    overlapped: AtomicBool,
}

async fn receive(State(rx): State<Arc<Receiver>>, headers: HeaderMap, Json(update): Json<Value>) -> StatusCode {
    let id = update["update_id"].as_i64().unwrap();
    let chat = update["message"]["chat"]["id"].as_i64();
    let secret = headers.get(SECRET_TOKEN_HEADER).map(|v| v.to_str().unwrap().to_owned());
    rx.arrivals.lock().unwrap().push((id, chat, secret));
    if let Some(chat) = chat {
        let mut busy = rx.busy.lock().unwrap();
        let n = busy.entry(chat).or_default();
        *n += 1;
        if *n > 1 {
            rx.overlapped.store(true, Ordering::SeqCst);
        }
    }
    // Slow enough that parallel deliveries to one chat would overlap.
    tokio::time::sleep(Duration::from_millis(15)).await;
    if let Some(chat) = chat {
        *rx.busy.lock().unwrap().get_mut(&chat).unwrap() -= 1;
    }
    let text = update["message"]["text"].as_str().unwrap_or("").to_owned();
    let mut failures = rx.failures_left.lock().unwrap();
    match failures.get_mut(&text) {
        Some(n) if *n > 0 => {
            *n -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::OK,
    }
}

async fn start_receiver(rx: Arc<Receiver>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(rx);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn fast_retry(max_attempts: u32) -> FakeConfig {
    FakeConfig::default().with_webhook_retry(WebhookRetry {
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        max_attempts,
        request_timeout: Duration::from_secs(5),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_delivers_in_order_per_chat_with_secret_retries_and_redelivery() {
    let fake = FakeTelegram::start(fast_retry(10)).await;
    let rx = Arc::new(Receiver::default());
    let url = start_receiver(rx.clone()).await;

    let (status, body) =
        call(&fake, "setWebhook", json!({"url": url, "secret_token": "s3cr3t_-X", "max_connections": 10})).await;
    assert_eq!(status, 200);
    assert_eq!(body["description"], "Webhook was set");
    assert_eq!(fake.webhook_url().as_deref(), Some(url.as_str()));
    let (status, _) = call(&fake, "setWebhook", json!({"url": url, "secret_token": "bad token!"})).await;
    assert_eq!(status, 400);

    rx.failures_left.lock().unwrap().insert("a1".into(), 2);
    let a1 = fake.push_update(text_update(100, 1, "a1"));
    let a2 = fake.push_update(text_update(100, 2, "a2"));
    let a3 = fake.push_update(text_update(100, 3, "a3"));
    let b1 = fake.push_update(text_update(200, 1, "b1"));

    for id in [a1, a2, a3, b1] {
        assert!(fake.wait_delivered(id, Duration::from_secs(5)).await, "{id}");
    }
    let arrivals = rx.arrivals.lock().unwrap().clone();
    let chat_a: Vec<i64> = arrivals.iter().filter(|(_, chat, _)| *chat == Some(100)).map(|(id, _, _)| *id).collect();
    assert_eq!(chat_a, [a1, a1, a1, a2, a3], "a failing update blocks its chat");
    assert!(!rx.overlapped.load(Ordering::SeqCst), "one at a time per chat");
    assert!(arrivals.iter().all(|(_, _, s)| s.as_deref() == Some("s3cr3t_-X")), "{arrivals:?}");
    // Chat 200 did not wait for chat 100's retries.
    let pos = |id: i64, nth: usize| arrivals.iter().enumerate().filter(|(_, (u, _, _))| *u == id).nth(nth).unwrap().0;
    assert!(pos(b1, 0) < pos(a1, 2));

    let a1_attempts: Vec<_> =
        fake.deliveries().into_iter().filter(|d| d.update_id == a1).map(|d| (d.attempt, d.status)).collect();
    assert_eq!(a1_attempts, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);

    let (_, info) = call(&fake, "getWebhookInfo", json!({})).await;
    assert_eq!(info["result"]["url"], url);
    assert_eq!(info["result"]["pending_update_count"], 0);
    assert_eq!(info["result"]["last_error_message"], "Wrong response from the webhook: 500 Internal Server Error");

    // A duplicate delivery; waiting for it waits for the copy, not for the earlier success.
    assert!(fake.redeliver(b1));
    assert!(fake.wait_delivered(b1, Duration::from_secs(5)).await);
    assert_eq!(fake.deliveries().iter().filter(|d| d.update_id == b1 && d.succeeded()).count(), 2);
    let b1_arrivals = rx.arrivals.lock().unwrap().iter().filter(|(id, _, _)| *id == b1).count();
    assert_eq!(b1_arrivals, 2);
    assert!(!fake.redeliver(9_999));

    // After deleteWebhook updates wait for getUpdates again.
    let (_, body) = call(&fake, "deleteWebhook", json!({})).await;
    assert_eq!(body["description"], "Webhook was deleted");
    let c1 = fake.push_update(text_update(300, 1, "c1"));
    let (status, body) = call(&fake, "getUpdates", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"][0]["update_id"], c1);
}

#[tokio::test]
async fn webhook_gives_up_after_max_attempts_and_the_chat_moves_on() {
    let fake = FakeTelegram::start(fast_retry(3)).await;
    let rx = Arc::new(Receiver::default());
    let url = start_receiver(rx.clone()).await;
    let poison = fake.push_update(text_update(100, 1, "poison"));
    let next = fake.push_update(text_update(100, 2, "next"));
    rx.failures_left.lock().unwrap().insert("poison".into(), 100);
    // Updates pushed before the webhook exists are delivered once it is set.
    assert_eq!(fake.pending_updates(), 2);
    assert_eq!(call(&fake, "setWebhook", json!({"url": url})).await.0, 200);
    assert!(fake.wait_delivered(next, Duration::from_secs(5)).await);
    let poison_attempts = fake.deliveries().iter().filter(|d| d.update_id == poison).count();
    assert_eq!(poison_attempts, 3);
    assert!(!fake.deliveries().iter().any(|d| d.update_id == poison && d.succeeded()));
    assert_eq!(rx.arrivals.lock().unwrap()[0].2, None, "no secret was set");
    assert_eq!(fake.pending_updates(), 0);

    // A webhook nobody listens on: connection errors are retried and recorded too.
    call(&fake, "setWebhook", json!({"url": "http://127.0.0.1:9/down"})).await;
    let lost = fake.push_update(text_update(5, 1, "lost"));
    assert!(
        fake.wait_for(Duration::from_secs(5), |f| f
            .deliveries()
            .iter()
            .filter(|d| d.update_id == lost && d.status.is_none())
            .count()
            == 3)
            .await
    );
}

#[tokio::test]
async fn edits_replies_and_callback_answers() {
    let fake = FakeTelegram::start(FakeConfig::default()).await;
    let keyboard = json!({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]});
    let (_, body) = call(&fake, "sendMessage", json!({"chat_id": 1, "text": "pick", "reply_markup": keyboard})).await;
    let id = body["result"]["message_id"].as_i64().unwrap();

    let edit_markup = |markup: Value| json!({"chat_id": 1, "message_id": id, "reply_markup": markup});
    let (status, body) = call(&fake, "editMessageReplyMarkup", edit_markup(keyboard.clone())).await;
    assert_eq!(status, 400);
    assert!(description(&body).starts_with("Bad Request: message is not modified: "));
    let other = json!({"inline_keyboard": [[{"text": "Stop", "callback_data": "stop"}]]});
    assert_eq!(call(&fake, "editMessageReplyMarkup", edit_markup(other.clone())).await.0, 200);
    assert_eq!(fake.message(1, id).unwrap()["reply_markup"], other);

    let edit_text = |text: &str, markup: Option<&Value>| {
        let mut body = json!({"chat_id": 1, "message_id": id, "text": text});
        if let Some(m) = markup {
            body["reply_markup"] = m.clone();
        }
        body
    };
    let (status, _) = call(&fake, "editMessageText", edit_text("pick", Some(&other))).await;
    assert_eq!(status, 400, "same text and keyboard");
    // Edits do not use up flood limits: the chat's burst of 3 is long spent after these.
    for i in 0..5 {
        let (status, body) = call(&fake, "editMessageText", edit_text(&format!("v{i}"), Some(&other))).await;
        assert_eq!(status, 200, "{body}");
    }
    // An edit without reply_markup drops the keyboard, as Telegram does.
    call(&fake, "editMessageText", edit_text("final", None)).await;
    let now = fake.message(1, id).unwrap();
    assert_eq!(now["text"], "final");
    assert!(now.get("reply_markup").is_none());
    assert!(now.get("edit_date").is_some());
    assert_eq!(fake.edits().len(), 7);
    assert_eq!(fake.sent(1)[0].text.as_deref(), Some("pick"), "sends stay as sent");
    let (status, body) = call(&fake, "editMessageText", json!({"chat_id": 1, "message_id": 99, "text": "x"})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: message to edit not found");
    assert_eq!(fake.violations(), 0);

    // Replies must point at a message Telegram knows.
    fake.push_update(text_update(2, 10, "question"));
    let reply = json!({"chat_id": 2, "text": "answer", "reply_parameters": {"message_id": 10}});
    let (status, body) = call(&fake, "sendMessage", reply).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["message_id"], 11, "ids continue after the user's message");
    assert_eq!(body["result"]["reply_to_message"]["text"], "question");
    assert_eq!(fake.sent(2)[0].reply_to_message_id, Some(10));
    let (status, body) =
        call(&fake, "sendMessage", json!({"chat_id": 2, "text": "x", "reply_to_message_id": 55})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: message to be replied not found");
    let lenient =
        json!({"chat_id": 2, "text": "x", "reply_parameters": {"message_id": 55, "allow_sending_without_reply": true}});
    assert_eq!(call(&fake, "sendMessage", lenient).await.0, 200);
    let (status, body) =
        call(&fake, "editMessageText", json!({"chat_id": 2, "message_id": 10, "text": "hacked"})).await;
    assert_eq!(status, 400);
    assert_eq!(description(&body), "Bad Request: message can't be edited");

    // Callback queries are answered once.
    fake.push_update(json!({"callback_query": {
        "id": "cbq-1",
        "from": {"id": 1, "is_bot": false, "first_name": "Ann"},
        "message": fake.message(1, id).unwrap(),
        "data": "go",
    }}));
    let answer = json!({"callback_query_id": "cbq-1", "text": "Done"});
    assert_eq!(call(&fake, "answerCallbackQuery", answer.clone()).await.0, 200);
    let (status, body) = call(&fake, "answerCallbackQuery", answer).await;
    assert_eq!(status, 400);
    assert!(description(&body).starts_with("Bad Request: query is too old"));
    assert_eq!(fake.callback_answers().len(), 1);
    assert_eq!(fake.callback_answers()[0].text.as_deref(), Some("Done"));

    assert_eq!(call(&fake, "deleteMessage", json!({"chat_id": 1, "message_id": id})).await.0, 200);
    assert!(fake.message(1, id).is_none());
    assert_eq!(fake.deleted_messages(), [(1, id)]);
}

#[tokio::test]
async fn shutdown_ends_long_polls_and_stops_serving() {
    let fake = unlimited().await;
    let url = fake.method_url("getUpdates");
    let poll = tokio::spawn({
        let url = url.clone();
        async move { client().post(url).json(&json!({"timeout": 30})).send().await.map(|r| r.status().as_u16()) }
    });
    // Shut down once the poll is waiting (a loaded machine may take a while to send it).
    assert!(fake.wait_for(Duration::from_secs(30), |f| f.polls_started() > 0).await);
    let started = Instant::now();
    fake.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(poll.await.unwrap().unwrap(), 200, "the long poll answered an empty list");
    assert!(client().post(url).send().await.is_err(), "nothing listens any more");
}
