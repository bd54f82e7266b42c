//! The devserver binary, as a user starts it: a client created through the API is linked to its
//! group through the built-in fake Telegram, the demo process runs, and Ctrl-C stops it cleanly.

#![allow(clippy::unwrap_used)] // a test driving a child process

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Devserver {
    child: Child,
    base: String,
}

impl Drop for Devserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(data: &std::path::Path) -> Devserver {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_devserver"))
        .args(["--port", &port.to_string(), "--data-dir"])
        .arg(data)
        .args(["--demo", "--admin-token", "test-admin"])
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Devserver { child, base: format!("http://127.0.0.1:{port}") }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_devserver_runs_the_system_end_to_end() {
    let data = std::env::temp_dir().join(format!("devserver-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut server = start(&data);
    let http = reqwest::Client::new();
    let base = server.base.clone();
    eventually("the server answering", async || http.get(format!("{base}/healthz")).send().await.is_ok()).await;

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

    // The client sends it in its group, through the fake Telegram's page.
    let form = [("chat", "-1009999999999"), ("text", command.as_str())];
    http.post(format!("{base}/dev/telegram/send")).form(&form).send().await.unwrap();
    eventually("the group linked", async || {
        let client = get(&http, &base, "/api/v1/clients/test-client").await;
        client["value"]["chat"]["chat_id"] == json!(-1_009_999_999_999i64)
    })
    .await;

    // The demo process kicked off by itself; its progress reads through the API.
    eventually("the demo advice sent", async || {
        let process = get(&http, &base, "/api/v1/processes/demo-hanbit-first-day").await;
        process["progress"]["by_state"]["sent"] == json!(5)
    })
    .await;
    let page = http.get(format!("{base}/dev/telegram?chat=-1001500000002")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("공모 코벤"), "the advice shows in the group's page");

    // 누리 presses ✅ and replies to the prompt on the page, as a person would.
    let press = [("chat", "-1001500000002"), ("message", "1"), ("data", "ack:demo-hanbit-first-day")];
    http.post(format!("{base}/dev/telegram/press")).form(&press).send().await.unwrap();
    let chat_page = async || {
        http.get(format!("{base}/dev/telegram?chat=-1001500000002")).send().await.unwrap().text().await.unwrap()
    };
    eventually("the prompt", async || chat_page().await.contains("실제 참여 내역")).await;
    let page = chat_page().await;
    let prompt = page.split("<option value=\"").filter_map(|o| o.split_once("\" selected")).map(|(id, _)| id).next();
    let prompt = prompt.expect("the latest message is the one replied to by default").to_owned();
    let answer = [("chat", "-1001500000002"), ("text", "17,500 / 500,000 / 3개월"), ("reply_to", prompt.as_str())];
    http.post(format!("{base}/dev/telegram/send")).form(&answer).send().await.unwrap();
    eventually("the receipt", async || chat_page().await.contains("참여 내역을 접수했습니다")).await;
    let page = chat_page().await;
    let (prompt_at, answer_at) =
        (page.find("실제 참여 내역").unwrap(), page.find("🙋 17,500 / 500,000 / 3개월").unwrap());
    assert!(prompt_at < answer_at, "the conversation reads in order");
    let unauthorized = http.get(format!("{base}/api/v1/clients")).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);

    // Ctrl-C stops it cleanly.
    let pid = server.child.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let stdout = server.child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout).lines().map_while(Result::ok).collect();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(lines.last().map(String::as_str), Some("stopped"), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("Authorization: Bearer test-admin")), "it says how to log in");
    let _ = std::fs::remove_dir_all(&data);
}
