//! The devserver binary, as a user starts it: a client created through the API is linked to its
//! group through the built-in fake Telegram, the demo process runs, and Ctrl-C stops it cleanly; it
//! stands in for the Lambda webhook (its secret, the payloads of `events/telegram`), talks to the
//! Bot API `TELEGRAM_API_BASE` names, and keeps the fake Telegram's chats, update ids and message
//! ids across a restart; the page's forms need their CSRF token.

#![allow(clippy::unwrap_used)] // a test driving a child process

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::Devserver;

impl Devserver {
    /// Ctrl-C, then everything it printed; it must exit cleanly.
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
        // The reader thread sees the pipe close once the process is gone.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && self.lines.lock().unwrap().last().map(String::as_str) != Some("stopped") {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.lines.lock().unwrap().clone()
    }
}

fn start(data: &std::path::Path) -> Devserver {
    Devserver::start_with(data, true, &[])
}

fn scratch(name: &str) -> std::path::PathBuf {
    let data = std::env::temp_dir().join(format!("devserver-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    data
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen within 30 s");
}

/// An authenticated GET of the staff API, as JSON.
async fn get(http: &reqwest::Client, base: &str, path: &str) -> Value {
    http.get(format!("{base}{path}")).bearer_auth("test-admin").send().await.unwrap().json().await.unwrap()
}

/// The `/dev/telegram` page of a chat.
async fn chat_page(http: &reqwest::Client, base: &str, chat: i64) -> String {
    http.get(format!("{base}/dev/telegram?chat={chat}")).send().await.unwrap().text().await.unwrap()
}

/// The conversation part of a chat's page (not the reply-to list of the form under it).
fn conversation(page: &str) -> &str {
    page.split("<form class=write").next().unwrap_or(page)
}

/// The CSRF token the page's forms carry.
fn csrf(page: &str) -> String {
    let (_, rest) = page.split_once("name=csrf value=\"").expect("the page's forms carry a CSRF token");
    rest.split('"').next().unwrap().to_owned()
}

/// The update ids the page shows for what people did in the chat.
fn update_ids(page: &str) -> Vec<i64> {
    page.split("update ")
        .skip(1)
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect()
}

/// Whether the page offers the button with `data` under message `message`.
fn has_button(page: &str, message: i64, data: &str) -> bool {
    page.contains(&format!("name=message value=\"{message}\"><input type=hidden name=data value=\"{data}\">"))
}

const NURI: i64 = -1_001_500_000_002;
const STAFF: i64 = -1_001_876_543_210;
const ACK: &str = "ack:demo-hanbit-first-day";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devserver_runs_the_system_end_to_end() {
    let data = scratch("e2e");
    let server = start(&data);
    let banner = server.banner();
    assert!(banner.iter().any(|l| l.contains("Authorization: Bearer test-admin")), "it says how to log in");
    assert!(banner.iter().any(|l| l.contains("demo      loaded now")), "{banner:?}");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let base = server.base.clone();

    // A client created through the staff API, and its link code.
    let client = json!({ "id": "test-client", "name": "(가상)테스트자산운용", "representative": "admin",
        "funds": [{ "id": "f", "name": "공모주", "kind": "ipo_fund", "aum": 10_000_000_000u64 }] });
    let response =
        http.post(format!("{base}/api/v1/clients")).bearer_auth("test-admin").json(&client).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let code: Value = http
        .post(format!("{base}/api/v1/clients/test-client/link-code"))
        .bearer_auth("test-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let command = code["send_in_group"].as_str().unwrap().to_owned();

    // The client sends it in its new group, titled on the page, through the fake Telegram.
    let page = http.get(format!("{base}/dev/telegram?chat=-1009999999999&title=테스트 IPO방")).send().await.unwrap();
    let token = csrf(&page.text().await.unwrap());
    let form = [("csrf", token.as_str()), ("chat", "-1009999999999"), ("title", "테스트 IPO방"), ("text", &command)];
    let sent = http.post(format!("{base}/dev/telegram/send")).form(&form).send().await.unwrap();
    assert_eq!(sent.status(), 303);
    eventually("the group linked", async || {
        let client = get(&http, &base, "/api/v1/clients/test-client").await;
        client["value"]["chat"]["chat_id"] == json!(-1_009_999_999_999i64)
            && client["value"]["chat"]["title"] == json!("테스트 IPO방")
    })
    .await;
    assert!(chat_page(&http, &base, -1_009_999_999_999).await.contains("<h2>테스트 IPO방</h2>"), "the chat's title");

    // The demo process kicked off by itself; its progress reads through the API.
    eventually("the demo advice sent", async || {
        let process = get(&http, &base, "/api/v1/processes/demo-hanbit-first-day").await;
        process["progress"]["by_state"]["sent"] == json!(5)
    })
    .await;
    let page = chat_page(&http, &base, NURI).await;
    assert!(page.contains("공모 코벤"), "the advice shows in the group's page");
    assert!(page.contains("<h2>(가상)누리자산운용 x 자문</h2>"), "under the group's title");

    // A form posted without the page's token (another site's, say) changes nothing.
    let press = [("chat", "-1001500000002"), ("message", "1"), ("data", ACK)];
    let refused = http.post(format!("{base}/dev/telegram/press")).form(&press).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("CSRF token"), "it says why");
    let wrong =
        [("csrf", "0123456789abcdef0123456789abcdef"), ("chat", "-1001500000002"), ("message", "1"), ("data", ACK)];
    let refused = http.post(format!("{base}/dev/telegram/press")).form(&wrong).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let refused = http.post(format!("{base}/dev/telegram/send")).body("").send().await.unwrap();
    assert_eq!(refused.status(), 403, "an empty POST too");
    assert!(has_button(&chat_page(&http, &base, NURI).await, 1, ACK), "the button is still there");

    // 누리 presses ✅ and replies to the prompt on the page, as a person would; the button goes.
    let token = csrf(&page);
    let press = [("csrf", token.as_str()), ("chat", "-1001500000002"), ("message", "1"), ("data", ACK)];
    let pressed = http.post(format!("{base}/dev/telegram/press")).form(&press).send().await.unwrap();
    assert_eq!(pressed.status(), 303);
    eventually("the prompt", async || conversation(&chat_page(&http, &base, NURI).await).contains("실제 참여 내역"))
        .await;
    eventually("the ✅ button removed", async || !has_button(&chat_page(&http, &base, NURI).await, 1, ACK)).await;
    let again = http.post(format!("{base}/dev/telegram/press")).form(&press).send().await.unwrap();
    assert_eq!(again.status(), 409, "a removed button cannot be pressed");
    let page = chat_page(&http, &base, NURI).await;
    let prompt = page.split("<option value=\"").filter_map(|o| o.split_once("\" selected")).map(|(id, _)| id).next();
    let prompt = prompt.expect("the latest message is the one replied to by default").to_owned();
    let answer = [
        ("csrf", token.as_str()),
        ("chat", "-1001500000002"),
        ("text", "17,500 / 500,000 / 3개월"),
        ("reply_to", prompt.as_str()),
    ];
    http.post(format!("{base}/dev/telegram/send")).form(&answer).send().await.unwrap();
    eventually("the receipt", async || chat_page(&http, &base, NURI).await.contains("참여 내역을 접수했습니다")).await;
    let page = chat_page(&http, &base, NURI).await;
    let (advice_at, pressed_at, prompt_at, answer_at, receipt_at) = (
        page.find("공모 코벤").unwrap(),
        page.find("pressed “✅ 확인”").unwrap(),
        page.find("실제 참여 내역").unwrap(),
        page.find("17,500 / 500,000 / 3개월").unwrap(),
        page.find("참여 내역을 접수했습니다").unwrap(),
    );
    assert!(advice_at < pressed_at && pressed_at < prompt_at, "the conversation reads in order");
    assert!(prompt_at < answer_at && answer_at < receipt_at, "the conversation reads in order");
    let unauthorized = http.get(format!("{base}/api/v1/clients")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);

    // Ctrl-C stops it cleanly.
    let lines = server.stop();
    assert_eq!(lines.last().map(String::as_str), Some("stopped"), "{lines:?}");
    let _ = std::fs::remove_dir_all(&data);
}

/// Every payload of `events/telegram`, posted as Telegram would with the secret the devserver was
/// given, answers 2xx; a wrong or missing secret answers 401 before the body is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_post_to_its_webhook_with_the_secret_it_was_given() {
    const SECRET: &str = "events-secret_0123456789";
    let data = scratch("events");
    let server = Devserver::start_with(&data, false, &[("TELEGRAM_WEBHOOK_SECRET", SECRET)]);
    let banner = server.banner();
    assert!(banner.iter().any(|l| l.contains(&format!("X-Telegram-Bot-Api-Secret-Token: {SECRET}"))), "{banner:?}");
    let http = reqwest::Client::new();
    let webhook = format!("{}/telegram/webhook", server.base);

    // Tests run in the package's folder.
    let mut files: Vec<_> = std::fs::read_dir("../../events/telegram")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the events are there: {files:?}");
    for file in &files {
        let body = std::fs::read(file).unwrap();
        let response = http
            .post(&webhook)
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}: {}", file.display(), response.status());
    }
    // They were handled, not only acknowledged: the bot spoke in the staff group (the /help, the
    // bot added to an unlinked group).
    let staff = chat_page(&http, &server.base, STAFF).await;
    assert!(conversation(&staff).matches("🤖 bot").count() >= 2, "{staff}");

    let body = std::fs::read("../../events/telegram/staff_help.json").unwrap();
    for header in [Some("wrong-secret"), Some(&SECRET[1..]), None] {
        let mut request = http.post(&webhook).body(body.clone());
        if let Some(header) = header {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", header);
        }
        assert_eq!(request.send().await.unwrap().status(), 401, "{header:?}");
    }

    // A stranger announcing a 100 MB body gets 401 at once, the body unsent and unread.
    let address = server.base.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = "POST /telegram/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Telegram-Bot-Api-Secret-Token: wrong\r\n\
                    Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"update_id\":";
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = [0u8; 64];
        let read = stream.read(&mut answer).unwrap_or(0);
        String::from_utf8_lossy(&answer[..read]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
}

/// With a bot token the devserver long-polls the Bot API at `TELEGRAM_API_BASE` (here a fake one,
/// as Telegram's own local server or a test server would be) and answers through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_token_talks_to_the_bot_api_telegram_api_base_names() {
    let fake = testkit::fake_telegram::FakeTelegram::start(Default::default()).await;
    let data = scratch("api-base");
    let staff = "-1001234567890";
    let server = Devserver::start_with(
        &data,
        false,
        &[
            ("TELEGRAM_BOT_TOKEN", fake.token()),
            ("TELEGRAM_API_BASE", fake.api_base()),
            ("TELEGRAM_STAFF_CHAT_ID", staff),
        ],
    );
    let banner = server.banner();
    assert!(banner.iter().any(|l| l.contains(&format!("bot API {}", fake.api_base()))), "{banner:?}");
    assert!(!banner.iter().any(|l| l.contains(fake.token())), "the bot token is never printed");
    fake.push_update(json!({ "message": {
        "message_id": 10, "date": 1_790_000_000,
        "from": { "id": 6_345_678_901i64, "is_bot": false, "first_name": "지훈" },
        "chat": { "id": -1_001_234_567_890i64, "title": "(가상)자문사 운영팀", "type": "supergroup" },
        "text": "/help", "entities": [{ "type": "bot_command", "offset": 0, "length": 5 }],
    }}));
    let answered = fake.wait_for(Duration::from_secs(30), |fake| !fake.sent(-1_001_234_567_890).is_empty()).await;
    assert!(answered, "the /help was fetched and answered through the fake; calls: {:?}", fake.calls().len());
    assert!(fake.calls().iter().any(|c| c.method == "getUpdates"), "by long polling");
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
}

/// A restart keeps the fake Telegram's chats (titles, messages in order, the buttons the bot
/// removed gone, those it did not still pressable), continues update and message ids (a reused
/// update id would be ignored as a duplicate), and says the demo data was kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_telegram_keeps_its_chats_and_ids_across_a_restart() {
    let data = scratch("restart");
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let staff_help = async |base: &str| {
        let token = csrf(&chat_page(&http, base, STAFF).await);
        let form = [("csrf", token.as_str()), ("chat", &STAFF.to_string()), ("text", "/help"), ("reply_to", "")];
        let sent = http.post(format!("{base}/dev/telegram/send")).form(&form).send().await.unwrap();
        assert_eq!(sent.status(), 303);
        token
    };
    let helps = async |base: &str| conversation(&chat_page(&http, base, STAFF).await).matches("운영팀 명령어").count();

    let server = start(&data);
    server.banner();
    let base = server.base.clone();
    eventually("the advice", async || has_button(&chat_page(&http, &base, NURI).await, 1, ACK)).await;
    let old_token = staff_help(&base).await;
    eventually("the help", async || helps(&base).await == 1).await;
    let before = update_ids(&chat_page(&http, &base, STAFF).await);
    assert_eq!(before.len(), 1, "one update so far");
    server.stop();

    let server = start(&data);
    let banner = server.banner();
    assert!(banner.iter().any(|l| l.contains("demo      existing data kept")), "{banner:?}");
    let base = server.base.clone();
    let page = chat_page(&http, &base, NURI).await;
    assert!(page.contains("<h2>(가상)누리자산운용 x 자문</h2>") && page.contains("공모 코벤"), "the history is kept");
    assert!(has_button(&page, 1, ACK), "with the button the bot has not removed");
    assert!(page.contains("banner>demo: existing data kept"), "the page says the demo data was kept");
    let staff = chat_page(&http, &base, STAFF).await;
    assert!(conversation(&staff).contains("/help") && helps(&base).await == 1, "the staff group's history too");

    // Another /help after the restart is a new update, answered.
    let stale = [("csrf", old_token.as_str()), ("chat", "-1001876543210"), ("text", "/help")];
    let refused = http.post(format!("{base}/dev/telegram/send")).form(&stale).send().await.unwrap();
    assert_eq!(refused.status(), 403, "a page from before the restart must be reloaded");
    staff_help(&base).await;
    eventually("the second help", async || helps(&base).await == 2).await;
    let after = update_ids(&chat_page(&http, &base, STAFF).await);
    assert!(after.len() == 2 && after[1] > before[0], "update ids continue: {before:?} then {after:?}");

    // ✅ under the advice sent before the restart: the bot removes it and prompts, as message #2.
    let token = csrf(&page);
    let press = [("csrf", token.as_str()), ("chat", "-1001500000002"), ("message", "1"), ("data", ACK)];
    assert_eq!(http.post(format!("{base}/dev/telegram/press")).form(&press).send().await.unwrap().status(), 303);
    eventually("the prompt", async || conversation(&chat_page(&http, &base, NURI).await).contains("실제 참여 내역"))
        .await;
    eventually("the button removed", async || !has_button(&chat_page(&http, &base, NURI).await, 1, ACK)).await;
    let page = chat_page(&http, &base, NURI).await;
    assert!(page.contains("🤖 bot · #2 ·"), "the prompt got the chat's next message id");
    assert!(page.contains("#1 ·") && page.contains("수정됨"), "the advice shows as edited");
    server.stop();

    // And the removal is kept too.
    let server = start(&data);
    server.banner();
    let page = chat_page(&http, &server.base, NURI).await;
    assert!(!has_button(&page, 1, ACK) && conversation(&page).contains("실제 참여 내역"), "{page}");
    server.stop();
    let _ = std::fs::remove_dir_all(&data);
}
