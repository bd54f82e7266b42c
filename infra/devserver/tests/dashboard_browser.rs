//! The dashboard in a real headless Chromium, driven over WebDriver ([`testkit::webdriver`]) against
//! the devserver binary with `--demo` and its built-in fake Telegram: what a client does happens on
//! `/dev/telegram`, in the same browser, and what the bot sent is read back there. Each page is
//! screenshotted into `$CARGO_TARGET_TMPDIR/dashboard-screens/` (printed).
//!
//! Skipped (said on stderr) without Chromium and ChromeDriver under a plain `cargo test`; a failure
//! under `cargo xtask test`, which installs them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::webdriver::{ChromeDriver, Session, SessionOptions, browser};

/// The demo's (가상)누리자산운용 group on the fake Telegram.
const NURI: i64 = -1_001_500_000_002;
/// How long a page or a fragment may take to show, on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(30);

/// The devserver binary, stopped by its process id when dropped.
struct Devserver {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Devserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Devserver {
    fn start(data: &Path) -> Devserver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_devserver"));
        command
            .args(["--port", &port.to_string(), "--demo", "--admin-token", "browser-admin", "--data-dir"])
            .arg(data);
        for name in ["TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_STAFF_CHAT_ID"] {
            command.env_remove(name);
        }
        command.env("RUST_LOG", "warn,dynoxide=error");
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the devserver starts");
        let stdout = child.stdout.take().expect("its stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("the lines").push(line);
            }
        });
        let server = Devserver { child, base: format!("http://127.0.0.1:{port}"), lines };
        server.banner();
        server
    }

    /// The startup banner, once printed.
    fn banner(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let lines = self.lines.lock().expect("the lines").clone();
            if lines.iter().any(|l| l.contains("Ctrl-C stops")) {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no banner within 60 s: {:?}", self.lines.lock().expect("the lines"));
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Where the screenshots go: printed, and kept after the test.
fn screens() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screens")
}

async fn shoot(session: &Session, name: &str) {
    let path = screens().join(format!("{name}.png"));
    session.save_screenshot(&path).await.expect("a screenshot");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("screenshot: {}\n", path.display()).as_bytes());
}

/// The page's visible text.
async fn body_text(session: &Session) -> String {
    let text = session.execute("return document.body.innerText", vec![]).await.expect("the page's text");
    text.as_str().unwrap_or_default().to_owned()
}

/// Opens the chat's page on `/dev/telegram` again until it shows `text` (the page does not refresh
/// itself).
async fn wait_in_chat(session: &Session, devserver: &Devserver, chat: i64, text: &str) {
    let url = devserver.url(&format!("/dev/telegram?chat={chat}"));
    session
        .wait_until(&format!("{text:?} in chat {chat}"), WAIT, async |s| {
            s.goto(&url).await?;
            Ok(body_text(s).await.contains(text).then_some(()))
        })
        .await
        .expect("the chat shows it");
}

/// As the client on `/dev/telegram`: press the button labelled `label` under the bot's latest
/// message that has it.
async fn press(session: &Session, devserver: &Devserver, chat: i64, label: &str) {
    session.goto(&devserver.url(&format!("/dev/telegram?chat={chat}"))).await.expect("the chat page");
    let buttons = session.find_all(".m.bot .buttons button").await.expect("the buttons");
    let mut pressed = false;
    for button in buttons.into_iter().rev() {
        if button.text().await.expect("a label").contains(label) {
            button.click().await.expect("a press");
            pressed = true;
            break;
        }
    }
    assert!(pressed, "no {label:?} button in chat {chat}: {}", body_text(session).await);
}

/// As the client on `/dev/telegram`: send `text` (as a screenshot's caption when `photo`) in reply
/// to the bot's latest message.
async fn send(session: &Session, devserver: &Devserver, chat: i64, text: &str, photo: bool) {
    session.goto(&devserver.url(&format!("/dev/telegram?chat={chat}"))).await.expect("the chat page");
    session.find("form.write textarea").await.expect("the text box").send_keys(text).await.expect("typing");
    if photo {
        session.find("form.write input[name=photo]").await.expect("the screenshot box").click().await.expect("ticked");
    }
    session.find("form.write button").await.expect("the send button").click().await.expect("sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_use_the_dashboard_in_a_real_browser() {
    let Some(browser) = browser() else { return };
    let data = std::env::temp_dir().join(format!("devserver-test-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let downloads = data.join("downloads");
    let devserver = Devserver::start(&data);
    let driver = ChromeDriver::start(&browser).await.expect("ChromeDriver starts");
    let session = driver
        .session(&SessionOptions { download_dir: Some(downloads.clone()), ..SessionOptions::default() })
        .await
        .expect("a headless Chromium session");
    eprintln!("screenshots: {}", screens().display());

    // The demo's advice reached 누리's group; 누리 presses ✅ and answers with a screenshot, on the
    // fake Telegram's page in this same browser.
    wait_in_chat(&session, &devserver, NURI, "공모 코벤").await;
    press(&session, &devserver, NURI, "확인").await;
    wait_in_chat(&session, &devserver, NURI, "실제 참여 내역").await;
    send(&session, &devserver, NURI, "청약 화면입니다", true).await;
    wait_in_chat(&session, &devserver, NURI, "🖼 photo").await;
    shoot(&session, "dev-telegram").await;
    let text = body_text(&session).await;
    let (prompt_at, photo_at) = (text.find("실제 참여 내역"), text.rfind("🖼 photo"));
    assert!(prompt_at < photo_at, "the screenshot follows the prompt: {text}");

    session.close().await.expect("the session ends");
    drop(driver);
    drop(devserver);
    let _ = std::fs::remove_dir_all(&data);
}
