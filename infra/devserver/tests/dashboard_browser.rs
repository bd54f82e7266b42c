//! The dashboard in a real headless Chromium, driven over WebDriver ([`testkit::webdriver`]) against
//! the devserver binary with `--demo` and its built-in fake Telegram: what a client does happens on
//! `/dev/telegram`, in the same browser, and what the bot sent is read back there. Each page is
//! screenshotted into `$CARGO_TARGET_TMPDIR/dashboard-screens/` (printed).
//!
//! Skipped (said on stderr) without Chromium and ChromeDriver under a plain `cargo test`; a failure
//! under `cargo xtask test`, which installs them.

use std::path::{Path, PathBuf};
use std::time::Duration;
use testkit::webdriver::{ChromeDriver, Session, SessionOptions, browser};

/// The demo's (가상)누리자산운용 group on the fake Telegram.
const NURI: i64 = -1_001_500_000_002;
/// How long a page or a fragment may take to show, on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(30);

mod support;

use support::{ADMIN_TOKEN, Devserver};

impl Devserver {
    fn start(data: &Path) -> Devserver {
        let server = Devserver::start_with(data, true, &[]);
        server.banner();
        server
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

/// Whatever writes, anywhere on the page (the header's emergency stop too): what a viewer never sees.
const WRITES: &str = "[hx-post], [hx-put], [hx-patch], [hx-delete], form[method=post], form[method=POST]";

/// The demo process, kicked off on start.
const PROCESS: &str = "demo-hanbit-first-day";

/// The fake Telegram group of a demo client (the devserver's `DEMO_CHATS`, in `shared::demo::clients()` order).
fn demo_chat(client: &str) -> i64 {
    let at = shared::demo::clients().iter().position(|c| c.id.as_str() == client);
    -1_001_500_000_001 - at.expect("a demo client") as i64
}

/// `fetch` from the page with its own token, as a person could from the console: the status.
async fn post_as_page(session: &Session, path: &str) -> u64 {
    let script = "const done = arguments[arguments.length - 1];
        fetch(arguments[0], { method: 'POST', headers: { Authorization: 'Bearer ' + window.ipoAuth.token() } })
            .then(r => done(r.status), e => done('failed: ' + e))";
    let status = session.execute_async(script, vec![path.into()]).await.expect("a fetch from the page");
    status.as_u64().unwrap_or_else(|| panic!("POST {path}: {status}"))
}

/// Signs in on `/login` with the role's button, and waits for Today's fragment.
async fn sign_in(session: &Session, devserver: &Devserver, role: &str) {
    session.goto(&devserver.url("/login")).await.expect("the login page");
    session.wait_for(&format!("#login-{role}"), WAIT).await.expect("the role's button").click().await.expect("a click");
    session
        .wait_for(&format!("[data-testid=me][data-role={role}]"), WAIT)
        .await
        .unwrap_or_else(|e| panic!("signed in as {role}: {e}"));
    assert!(session.current_url().await.expect("a URL").ends_with("/today"), "Today comes first");
}

/// Opens a page of the dashboard by its shell URL and waits for `ready` in its fragment.
async fn open(session: &Session, devserver: &Devserver, path: &str, ready: &str) {
    session.goto(&devserver.url(path)).await.expect("the shell");
    session.wait_for(ready, WAIT).await.unwrap_or_else(|e| panic!("{path}: {e}"));
}

async fn count(session: &Session, css: &str) -> usize {
    session.find_all(css).await.expect("a query").len()
}

/// The screenshot's name for a shell path: `/processes/{id}` → `processes-id`.
fn page_name(shell: &str) -> String {
    shell.trim_matches('/').replace(['{', '}'], "").replace('/', "-")
}

/// Opens every page of the dashboard (`shared::web::pages::SHELLS`), waits for its fragment and
/// screenshots it as `page-…`; a page with an id in its path is reached by the first link to one
/// on its list page. Returns the pages the role may not see (their fragment answered 403), and
/// fails on any other error.
async fn tour(session: &Session, devserver: &Devserver, role: &str, only: Option<&[String]>) -> Vec<String> {
    let mut refused = Vec::new();
    for shell in shared::web::pages::SHELLS {
        if only.is_some_and(|only| !only.iter().any(|s| s == shell)) {
            continue;
        }
        let path = match shell.strip_suffix("/{id}") {
            None => shell.to_string(),
            Some(list) => {
                open(session, devserver, list, "#main h1, [data-testid=flash-error]").await;
                let links = session.find_all(&format!("#main a[href^='{list}/']")).await.expect("the list's links");
                let first = links.first().unwrap_or_else(|| panic!("{list} as {role}: no link to open {shell} with"));
                first.attribute("href").await.expect("an attribute").expect("its href")
            }
        };
        open(session, devserver, &path, "#main h1, [data-testid=flash-error]").await;
        if let Ok(error) = session.find("[data-testid=flash-error]").await {
            let said = error.text().await.expect("its text");
            assert!(said.starts_with("권한이 없습니다"), "{path} as {role}: {said}");
            refused.push(shell.to_string());
            continue;
        }
        // What loads after the fragment (charts, screenshots) has a moment to come.
        tokio::time::sleep(Duration::from_millis(300)).await;
        shoot(session, &format!("page-{}", page_name(shell))).await;
    }
    refused
}

/// The file the browser downloaded into `dir` with this extension, once complete.
async fn downloaded(session: &Session, dir: &Path, extension: &str) -> PathBuf {
    session
        .wait_until(&format!("a .{extension} download"), WAIT, async |_| {
            let found = std::fs::read_dir(dir).ok().and_then(|entries| {
                entries.filter_map(Result::ok).map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == extension))
            });
            Ok(found)
        })
        .await
        .expect("the export downloaded")
}

/// Every cell of the workbook's first sheet, as text.
fn xlsx_rows(path: &Path) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut workbook: Xlsx<_> = calamine::open_workbook(path).expect("an xlsx workbook");
    let sheet = workbook.sheet_names().first().cloned().expect("a sheet");
    let range = workbook.worksheet_range(&sheet).expect("the sheet's cells");
    range.rows().map(|row| row.iter().map(|cell| cell.to_string()).collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_use_the_dashboard_in_a_real_browser() {
    let Some(browser) = browser() else { return };
    let data = std::env::temp_dir().join(format!("devserver-test-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let downloads = data.join("downloads");
    let _ = std::fs::remove_dir_all(screens());
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

    // ── The operator signs in and sees the demo kickoff on Today.
    session.goto(&devserver.url("/today")).await.expect("the shell");
    session.wait_for("button.login-role", WAIT).await.expect("signed out, the shell sends to /login");
    shoot(&session, "login").await;
    sign_in(&session, &devserver, "operator").await;
    let card = format!("[data-testid=process-card][data-process={PROCESS}]");
    let card = session.wait_for(&card, WAIT).await.expect("the demo kickoff on Today");
    assert!(card.text().await.expect("its text").contains("한빛로보틱스"), "the card names the IPO");
    let silent = session.find_all(&format!("tr[data-testid=silent-row][data-process={PROCESS}]")).await.expect("rows");
    assert_eq!(silent.len(), 4, "four of the five demo clients have not answered");
    assert!(count(&session, WRITES).await >= 4, "the operator is offered writes (the selector finds them)");
    shoot(&session, "today").await;

    // ── Reminds a silent client from Today; its group gets the reminder.
    let row = &silent[0];
    let client = row.attribute("data-client").await.expect("an attribute").expect("the row's client");
    assert_ne!(client, "nuri", "누리 answered");
    let chat = demo_chat(&client);
    session.goto(&devserver.url(&format!("/dev/telegram?chat={chat}"))).await.expect("the chat page");
    assert!(!body_text(&session).await.contains("⏰"), "no reminder before the press");
    open(&session, &devserver, "/today", &format!("#remind-{client}")).await;
    session.find(&format!("#remind-{client}")).await.expect("the remind button").click().await.expect("a press");
    let flash = session.wait_for("[data-testid=flash]", WAIT).await.expect("a sentence about the reminder");
    eprintln!("remind: {}", flash.text().await.expect("its text"));
    shoot(&session, "today-reminded").await;
    wait_in_chat(&session, &devserver, chat, "⏰").await;
    let reminder = body_text(&session).await;
    assert!(reminder.contains("안내를 확인해 주세요"), "the unacknowledged reminder: {reminder}");

    // ── Opens 누리's screenshot answer on the process page and confirms it with values.
    open(&session, &devserver, &format!("/processes/{PROCESS}"), "tr[data-testid=tracker-row][data-client=nuri]").await;
    shoot(&session, "process").await;
    session.find("#confirm-nuri").await.expect("누리's confirm button").click().await.expect("a press");
    session.wait_for("[data-testid=confirm-panel]", WAIT).await.expect("the confirm panel");
    let image =
        session.wait_for("img[data-testid=evidence-image]", WAIT).await.expect("the screenshot beside the form");
    let loaded = session
        .wait_until("the screenshot fetched", WAIT, async |_| {
            let state = image.attribute("data-loaded").await?;
            Ok(state.filter(|s| s != "pending"))
        })
        .await
        .expect("the screenshot's fetch ended");
    let price = session.find("[data-testid=price-0]").await.expect("the first fund's price");
    price.clear().await.expect("cleared");
    price.send_keys("17,000").await.expect("typed");
    let quantity = session.find("[data-testid=quantity-0]").await.expect("the first fund's quantity");
    quantity.clear().await.expect("cleared");
    quantity.send_keys("450,000").await.expect("typed");
    shoot(&session, "confirm").await;
    assert_eq!(loaded, "yes", "the screenshot shows beside the form (fetched through getFile)");
    session.find("[data-testid=confirm-values]").await.expect("the confirm button").click().await.expect("a press");
    let confirmed = session
        .wait_for("tr[data-testid=tracker-row][data-client=nuri][data-state=confirmed]", WAIT)
        .await
        .expect("누리 confirmed");
    let row = confirmed.text().await.expect("the row's text");
    assert!(row.contains("17,000") && row.contains("450,000"), "the confirmed values: {row}");
    let deviations = confirmed.find("[data-testid=deviations]").await.expect("the row's deviations");
    let deviations = deviations.text().await.expect("their text");
    assert!(deviations.contains("17,500원 → 17,000원"), "the price below the advice, highlighted: {deviations}");
    shoot(&session, "process-confirmed").await;

    // ── Exports the process to xlsx and reads the file back.
    session.find("[data-testid=export-process-xlsx]").await.expect("the Excel button").click().await.expect("a press");
    let file = downloaded(&session, &downloads, "xlsx").await;
    let rows = xlsx_rows(&file);
    assert!(rows.len() >= 6, "a header and the five clients: {rows:?}");
    assert_eq!(rows[0].first().map(String::as_str), Some("고객사"), "the header: {:?}", rows[0]);
    let nuri: Vec<&Vec<String>> = rows.iter().filter(|r| r.iter().any(|c| c.contains("누리자산운용"))).collect();
    assert!(!nuri.is_empty(), "누리's rows: {rows:?}");
    assert!(nuri.iter().any(|r| r.iter().any(|c| c.contains("17,000"))), "누리's confirmed price: {nuri:?}");

    // ── Every page, as the operator (screenshots); a notice drafted for next year (through the
    // API, as an advisor would) gives the notice page one to show.
    let http = reqwest::Client::builder().no_proxy().build().expect("an HTTP client");
    let notice = serde_json::json!({ "id": "browser-notice", "kind": { "kind": "notice" }, "kickoff_at": "2036-01-02T00:00:00Z" });
    let created = http.post(devserver.url("/api/v1/processes")).bearer_auth(ADMIN_TOKEN).json(&notice).send().await;
    let created = created.expect("the API answers");
    let status = created.status();
    assert_eq!(status, 201, "a draft notice: {}", created.text().await.unwrap_or_default());
    let audience = serde_json::json!({ "audience": { "by": "all_linked" },
        "notice": { "title": "(가상)휴장 안내", "text": "1월 2일은 휴장입니다.", "acknowledge": true } });
    let url = devserver.url("/api/v1/processes/browser-notice/audience");
    let set = http.post(url).bearer_auth(ADMIN_TOKEN).json(&audience).send().await.expect("the API answers");
    assert_eq!(set.status(), 200, "its audience and text");
    let refused = tour(&session, &devserver, "operator", None).await;
    assert!(!refused.iter().any(|p| p.starts_with("/today") || p.starts_with("/processes")), "{refused:?}");

    // ── A viewer sees no write buttons, and a POST anyway is refused.
    session.find("[data-testid=logout]").await.expect("the logout button").click().await.expect("a press");
    session.wait_for("button.login-role", WAIT).await.expect("back on /login");
    sign_in(&session, &devserver, "viewer").await;
    session.wait_for(&format!("[data-testid=process-card][data-process={PROCESS}]"), WAIT).await.expect("Today");
    assert!(count(&session, "tr[data-testid=silent-row]").await >= 3, "the viewer reads the silent clients");
    assert_eq!(count(&session, WRITES).await, 0, "no write button or form on Today, nor in the header");
    shoot(&session, "today-viewer").await;
    open(&session, &devserver, &format!("/processes/{PROCESS}"), "tr[data-testid=tracker-row]").await;
    assert_eq!(count(&session, WRITES).await, 0, "no write button or form on the process");
    assert_eq!(count(&session, "[data-testid=export-process-xlsx]").await, 1, "exports are reading");
    shoot(&session, "process-viewer").await;
    let other = format!("/processes/{PROCESS}/trackers/{client}");
    for path in [format!("/ui{other}/remind"), format!("/ui{other}/skip"), format!("/api/v1{other}/remind")] {
        assert_eq!(post_as_page(&session, &path).await, 403, "POST {path} as a viewer");
    }
    let reminders = session
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.text()).then(t => done(t.split('<form class=write')[0].split('⏰').length - 1))",
            vec![devserver.url(&format!("/dev/telegram?chat={chat}")).into()],
        )
        .await
        .expect("the chat page");
    assert_eq!(reminders, 1, "the viewer's POST sent no second reminder");

    // ── What the operator may not open (the audit log), as the admin.
    if !refused.is_empty() {
        session.find("[data-testid=logout]").await.expect("the logout button").click().await.expect("a press");
        session.wait_for("button.login-role", WAIT).await.expect("back on /login");
        sign_in(&session, &devserver, "admin").await;
        let still = tour(&session, &devserver, "admin", Some(&refused)).await;
        assert_eq!(still, Vec::<String>::new(), "the admin opens every page");
    }

    session.close().await.expect("the session ends");
    drop(driver);
    drop(devserver);
    let _ = std::fs::remove_dir_all(&data);
}
