//! The WebDriver client against a page of its own, in the real headless Chromium: every command the
//! browser tests use, a download into the folder the session names, and ChromeDriver and its
//! browser gone once dropped.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use std::time::Duration;
use testkit::webdriver::{ChromeDriver, SessionOptions, browser};

const PAGE: &str = r#"<!doctype html><html lang=ko><head><meta charset=utf-8><title>시험 페이지</title></head>
<body><h1 id=title data-kind="heading">공모주 자문 17,000원</h1>
<input id=name name=name value="">
<button id=go onclick="document.getElementById('out').textContent = '안녕 ' + document.getElementById('name').value; setTimeout(() => { const p = document.createElement('p'); p.id = 'late'; p.textContent = '늦게'; document.body.append(p); }, 300)">보내기</button>
<p id=out></p>
<a id=download href="/report.csv" download="report.csv">CSV</a>
</body></html>"#;

async fn serve() -> String {
    let app = Router::new()
        .route("/", get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response() }))
        .route(
            "/report.csv",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/csv"), (header::CONTENT_DISPOSITION, "attachment")], "a,b\n1,2\n")
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("its address").port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        // A zombie (state Z) has exited.
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

/// Process ids of the Chromium processes started with this profile folder.
fn chromium_pids(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(marker) && running(*pid))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_drives_headless_chromium() {
    let Some(browser) = browser() else { return };
    let base = serve().await;
    let downloads = std::env::temp_dir().join(format!("webdriver-test-downloads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&downloads);
    let driver = ChromeDriver::start(&browser).await.expect("ChromeDriver starts");
    let driver_pid = driver.pid();
    let session = driver
        .session(&SessionOptions { download_dir: Some(downloads.clone()), ..SessionOptions::default() })
        .await
        .expect("a headless Chromium session");

    session.goto(&base).await.expect("the page loads");
    assert_eq!(session.title().await.expect("its title"), "시험 페이지");
    assert_eq!(session.current_url().await.expect("its URL"), format!("{base}/"));
    let heading = session.find("#title").await.expect("the heading");
    assert_eq!(heading.text().await.expect("its text"), "공모주 자문 17,000원");
    assert_eq!(heading.attribute("data-kind").await.expect("an attribute").as_deref(), Some("heading"));
    assert_eq!(heading.attribute("nothing").await.expect("no attribute"), None);
    assert!(session.find("#missing").await.is_err(), "an element that is not there is an error");
    assert_eq!(session.find_all("h1, p").await.expect("a list").len(), 2);

    // Typing, clicking, and what the page's script did, read back three ways.
    let name = session.find("#name").await.expect("the input");
    name.send_keys("누리").await.expect("typing");
    assert_eq!(name.property("value").await.expect("its value"), json!("누리"));
    session.find("#go").await.expect("the button").click().await.expect("a click");
    assert_eq!(session.find("#out").await.expect("the output").text().await.expect("its text"), "안녕 누리");
    let late = session.wait_for("#late", Duration::from_secs(10)).await.expect("what appears later");
    assert_eq!(late.text().await.expect("its text"), "늦게");
    session.wait_for_text("늦게", Duration::from_secs(5)).await.expect("the page's text");
    let waited = session.wait_for("#never", Duration::from_millis(500)).await;
    assert!(waited.expect_err("never shown").to_string().contains("\"#never\" shown: not within"));

    // Scripts: a value, an element argument, and an async fetch's answer.
    let sum = session.execute("return arguments[0] + arguments[1]", vec![json!(2), json!(3)]).await.expect("a script");
    assert_eq!(sum, json!(5));
    let tag = session.execute("return arguments[0].tagName", vec![heading.reference()]).await.expect("an element");
    assert_eq!(tag, json!("H1"));
    let fetched = session
        .execute_async(
            "const done = arguments[arguments.length - 1]; fetch('/report.csv').then(r => r.text()).then(done)",
            vec![],
        )
        .await
        .expect("an async script");
    assert_eq!(fetched, json!("a,b\n1,2\n"));

    // A download lands in the session's folder.
    session.find("#download").await.expect("the link").click().await.expect("a click");
    let file = downloads.join("report.csv");
    session
        .wait_until("the download", Duration::from_secs(20), async |_| Ok(std::fs::read(&file).ok()))
        .await
        .map(|bytes| assert_eq!(bytes, b"a,b\n1,2\n"))
        .expect("the file downloaded");

    // A screenshot is a PNG of the window's size.
    let png = session.screenshot().await.expect("a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (width, height) = (
        u32::from_be_bytes(png[16..20].try_into().expect("4 bytes")),
        u32::from_be_bytes(png[20..24].try_into().expect("4 bytes")),
    );
    assert!(width >= 1000 && height >= 600, "{width}x{height}");

    // The whole page, beyond the window: a page 3,000 pixels tall is shot whole.
    session.execute("document.body.style.height = '3000px'", vec![]).await.expect("a taller page");
    let png = session.screenshot_full_page().await.expect("a full-page screenshot");
    let height = u32::from_be_bytes(png[20..24].try_into().expect("4 bytes"));
    assert!(height >= 3000, "the whole page: {height} pixels tall");

    let profile_marker = driver.profiles().display().to_string();
    assert!(!chromium_pids(&profile_marker).is_empty(), "Chromium runs with its own profile folder");
    session.close().await.expect("the session ends");
    drop(driver);
    assert!(!running(driver_pid), "ChromeDriver stopped");
    // Chromium's processes go with the session and the driver (a moment for the last to exit).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !chromium_pids(&profile_marker).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(chromium_pids(&profile_marker), Vec::<u32>::new(), "no Chromium left running");
    let _ = std::fs::remove_dir_all(&downloads);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_driver_takes_its_browser_with_it() {
    let Some(browser) = browser() else { return };
    let driver = ChromeDriver::start(&browser).await.expect("ChromeDriver starts");
    let driver_pid = driver.pid();
    let _session = driver.session(&SessionOptions::default()).await.expect("a session");
    let marker = driver.profiles().display().to_string();
    let before: Vec<u32> = chromium_pids(&marker);
    assert!(!before.is_empty(), "Chromium runs");
    // Dropped with its session open, as when a test panics half way.
    drop(driver);
    assert!(!running(driver_pid), "ChromeDriver stopped");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while before.iter().any(|pid| running(*pid)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left: Vec<&u32> = before.iter().filter(|pid| running(**pid)).collect();
    assert!(left.is_empty(), "Chromium processes left running: {left:?}");
}
