//! A devserver killed (SIGKILL) in the middle of handling a client's answer, and started again:
//! Telegram (a fake Bot API the devserver long-polls, as it would Telegram) delivers the update
//! again, the answer is taken once and the client gets one receipt.

#![allow(clippy::unwrap_used)] // a test driving a child process

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use testkit::fake_telegram::{FakeConfig, FakeTelegram};

const GROUP: i64 = -1_001_700_000_001;
const STAFF: &str = "-1001876543210";
const PROCESS: &str = "killed";
/// 누리's advice in the demo: one fund, 17,500원 × 500,000주, 3개월.
const ANSWER: &str = "17,500 / 500,000 / 3개월";

struct Devserver(Child);

impl Drop for Devserver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data: &std::path::Path, port: u16, fake: &FakeTelegram) -> Devserver {
    let child = Command::new(env!("CARGO_BIN_EXE_devserver"))
        .args(["--port", &port.to_string(), "--demo", "--admin-token", "test-admin", "--data-dir"])
        .arg(data)
        .env("TELEGRAM_BOT_TOKEN", fake.token())
        .env("TELEGRAM_API_BASE", fake.api_base())
        .env("TELEGRAM_STAFF_CHAT_ID", STAFF)
        .env_remove("TELEGRAM_WEBHOOK_SECRET")
        .env("RUST_LOG", "warn,dynoxide=error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Devserver(child)
}

fn message(id: i64, text: &str, reply_to: Option<Value>) -> Value {
    let mut message = json!({
        "message_id": id,
        "from": { "id": 6_200_000_002i64, "is_bot": false, "first_name": "민준" },
        "chat": { "id": GROUP, "title": "누리 x 자문", "type": "supergroup" },
        "date": 1_790_000_000,
        "text": text,
    });
    if text.starts_with('/') {
        message["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": 5 }]);
    }
    if let Some(reply_to) = reply_to {
        message["reply_to_message"] = reply_to;
    }
    json!({ "message": message })
}

fn bot_message(fake: &FakeTelegram, index: usize) -> Value {
    let sent = &fake.sent(GROUP)[index];
    json!({
        "message_id": sent.message_id,
        "from": { "id": fake.bot_id(), "is_bot": true, "first_name": "Test Bot" },
        "chat": { "id": GROUP, "title": "누리 x 자문", "type": "supergroup" },
        "date": 1_790_000_000,
        "text": sent.plain_text,
    })
}

async fn texts_after(fake: &FakeTelegram, count: usize, what: &str) -> Vec<String> {
    let arrived = fake.wait_for(Duration::from_secs(60), |f| f.sent(GROUP).len() >= count).await;
    let texts: Vec<String> = fake.sent(GROUP).into_iter().filter_map(|m| m.text).collect();
    assert!(arrived, "{what}: the group has {texts:#?}");
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devserver_killed_mid_answer_takes_it_once_when_started_again() {
    let fake = FakeTelegram::start(FakeConfig::default().without_limits()).await;
    let data = std::env::temp_dir().join(format!("devserver-killed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = start(&data, port, &fake);

    // 누리 links its group, then a first-day process of the demo stock advises it.
    let mut code = None;
    for _ in 0..300 {
        let issued = http.post(format!("{base}/api/v1/clients/nuri/link-code")).bearer_auth("test-admin").send().await;
        if let Ok(response) = issued
            && response.status().is_success()
        {
            code = response.json::<Value>().await.unwrap()["code"].as_str().map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let code = code.expect("the devserver came up and issued a link code");
    fake.push_update(message(1, &format!("/link {code}"), None));
    texts_after(&fake, 1, "linked").await;
    let admin = |path: &str, body: Value| {
        http.post(format!("{base}/api/v1{path}")).bearer_auth("test-admin").json(&body).send()
    };
    let process =
        json!({ "id": PROCESS, "stock_id": "hanbit", "kind": { "kind": "participation", "round": "first_day" } });
    assert!(admin("/processes", process).await.unwrap().status().is_success());
    let rows = json!([{ "client": "(가상)누리자산운용", "price": "17,500", "quantity": "500000", "lockup": "3개월" }]);
    assert!(admin(&format!("/processes/{PROCESS}/advice"), rows).await.unwrap().status().is_success());
    assert!(admin(&format!("/processes/{PROCESS}/start"), json!({})).await.unwrap().status().is_success());
    texts_after(&fake, 2, "the advice").await;
    let advice = 1;
    fake.push_update(json!({ "callback_query": {
        "id": "press-1",
        "from": { "id": 6_200_000_002i64, "is_bot": false, "first_name": "민준" },
        "chat_instance": "-7",
        "message": bot_message(&fake, advice),
        "data": format!("ack:{PROCESS}"),
    }}));
    texts_after(&fake, advice + 2, "the prompt").await;
    let prompt = advice + 1;

    // The answer: the devserver dies while Telegram has the receipt on the way.
    fake.stall_next("sendMessage");
    fake.push_update(message(2, ANSWER, Some(bot_message(&fake, prompt))));
    assert!(fake.wait_for(Duration::from_secs(30), |f| f.stalled() == 1).await, "the receipt was sent");
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    assert_eq!(fake.sent(GROUP).len(), prompt + 1, "no receipt went out");

    // Started again, it is given the update again (it was never confirmed) and finishes it once the
    // dead attempt's hold on it has run out.
    server = start(&data, port, &fake);
    let texts = texts_after(&fake, prompt + 2, "the receipt after the restart").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let texts_later: Vec<String> = fake.sent(GROUP).into_iter().filter_map(|m| m.text).collect();
    assert_eq!(texts_later, texts, "one receipt, no second");
    assert!(texts[prompt + 1].contains("500,000주"), "the receipt: {}", texts[prompt + 1]);
    let trackers: Value = http
        .get(format!("{base}/api/v1/processes/{PROCESS}/trackers?state=submitted"))
        .bearer_auth("test-admin")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let submitted: Vec<&str> =
        trackers["items"].as_array().unwrap().iter().filter_map(|t| t["value"]["client_id"].as_str()).collect();
    assert_eq!(submitted, ["nuri"], "{trackers}");
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}
