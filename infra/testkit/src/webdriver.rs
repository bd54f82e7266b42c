//! A small W3C WebDriver client for the browser tests: ChromeDriver started on a free loopback port
//! and stopped by its process id, one headless Chromium session, and the dozen commands a test
//! needs (navigate, find by CSS, click, type, read text and attributes, run a script, wait, take a
//! screenshot). WebDriver is JSON over HTTP, so this is `reqwest` and `serde_json`, not a driver
//! crate (fantoccini or thirtyfour would add minutes to a 2-core build).
//!
//! Which Chromium: `cargo xtask test` installs Debian's `chromium` and `chromium-driver` on first
//! use and names them in [`CHROMIUM_ENV`] and [`CHROMEDRIVER_ENV`]; under a plain `cargo test` the
//! Debian paths are used when they are there, and the test is skipped (said on stderr) when they
//! are not, or fails under [`crate::REQUIRE_SERVERS_ENV`], as with the other servers
//! ([`browser`]).

use serde_json::{Value, json};
use std::fmt;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium binary `cargo xtask test` installed.
pub const CHROMIUM_ENV: &str = "IPO_CHROMIUM";
/// The ChromeDriver binary `cargo xtask test` installed.
pub const CHROMEDRIVER_ENV: &str = "IPO_CHROMEDRIVER";
/// Where Debian's packages put them.
pub const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";
pub const DEBIAN_CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The key under which WebDriver names an element (W3C, fixed).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long one WebDriver command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error(s)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// The browser and its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// The browser to test with: the environment's (`cargo xtask test` sets it), else Debian's when
/// both binaries are there. Without one, `None` after saying on stderr that the test is skipped; a
/// panic (the test fails) with [`crate::REQUIRE_SERVERS_ENV`] set.
pub fn browser() -> Option<Browser> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let require = std::env::var_os(crate::REQUIRE_SERVERS_ENV).is_some_and(|v| !v.is_empty());
    let browser = match (var(CHROMIUM_ENV), var(CHROMEDRIVER_ENV)) {
        (Some(chromium), Some(chromedriver)) => Browser { chromium, chromedriver },
        _ => Browser { chromium: DEBIAN_CHROMIUM.into(), chromedriver: DEBIAN_CHROMEDRIVER.into() },
    };
    match decide(&browser, browser.chromium.is_file() && browser.chromedriver.is_file(), require) {
        Ok(()) => Some(browser),
        Err(Some(why)) => panic!("{why}"),
        Err(None) => {
            let line = format!(
                "skipped: no Chromium with ChromeDriver ({} and {} are not both there; cargo xtask test installs them)",
                browser.chromium.display(),
                browser.chromedriver.display()
            );
            // Straight to stderr: libtest captures `eprintln!` of a passing test.
            let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
            None
        }
    }
}

/// Whether to use `browser` (`Ok`), skip (`Err(None)`) or fail saying why.
fn decide(browser: &Browser, there: bool, require: bool) -> std::result::Result<(), Option<String>> {
    match (there, require) {
        (true, _) => Ok(()),
        (false, false) => Err(None),
        (false, true) => Err(Some(format!(
            "Chromium and ChromeDriver are needed ({} and {} are not both there, {CHROMIUM_ENV} and \
             {CHROMEDRIVER_ENV} name others), while {} says the servers are up",
            browser.chromium.display(),
            browser.chromedriver.display(),
            crate::REQUIRE_SERVERS_ENV
        ))),
    }
}

/// How a session's Chromium starts.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Where downloads go (`download.default_directory`); `None` leaves Chrome's default.
    pub download_dir: Option<PathBuf>,
    pub width: u32,
    pub height: u32,
    /// The `Accept-Language` and UI language.
    pub lang: String,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { download_dir: None, width: 1280, height: 900, lang: "ko-KR".into() }
    }
}

/// A ChromeDriver this test started, on a free port of 127.0.0.1; stopped by its process id when
/// dropped (after asking it to quit its browsers), whatever happened.
pub struct ChromeDriver {
    child: Child,
    port: u16,
    chromium: PathBuf,
    http: reqwest::Client,
    /// A profile folder per driver, removed when dropped.
    profiles: PathBuf,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // `/shutdown` (ChromeDriver's own) quits every session's browser, then the driver exits;
        // killing the driver alone would leave Chromium running.
        let _ = raw_get(self.port, "/shutdown");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profiles);
    }
}

/// A GET by hand (Drop cannot await): the status line, or nothing.
fn raw_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().map(str::to_owned)
}

impl ChromeDriver {
    /// Starts `browser`'s ChromeDriver on a free loopback port and waits (30 s at most) until it
    /// says it is ready.
    pub async fn start(browser: &Browser) -> Result<ChromeDriver> {
        let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let child = Command::new(&browser.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", browser.chromedriver.display()))?;
        let profiles = std::env::temp_dir().join(format!("ipo-advisory-chromium-{}-{port}", std::process::id()));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .map_err(|e| format!("an HTTP client: {e}"))?;
        let mut driver = ChromeDriver { child, port, chromium: browser.chromium.clone(), http, profiles };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = driver.http.get(format!("{}/status", driver.base())).send().await
                && let Ok(status) = response.json::<Value>().await
                && status["value"]["ready"] == json!(true)
            {
                return Ok(driver);
            }
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(Error(format!("ChromeDriver exited ({status}) before it was ready")));
            }
            if Instant::now() > deadline {
                return Err(Error("ChromeDriver was not ready within 30 s".into()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The folder under which its sessions keep their Chromium profiles (removed when dropped): it
    /// appears in the command line of every Chromium process this driver started.
    pub fn profiles(&self) -> &Path {
        &self.profiles
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new headless Chromium session.
    pub async fn session(&self, options: &SessionOptions) -> Result<Session> {
        let profile = self.profiles.join(crate::unique_name("profile"));
        std::fs::create_dir_all(&profile).map_err(|e| format!("creating {}: {e}", profile.display()))?;
        let mut prefs = json!({ "intl.accept_languages": options.lang });
        if let Some(dir) = &options.download_dir {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            prefs["download.default_directory"] = json!(dir.display().to_string());
            prefs["download.prompt_for_download"] = json!(false);
            prefs["download.directory_upgrade"] = json!(true);
            prefs["safebrowsing.enabled"] = json!(false);
        }
        let args = vec![
            "--headless=new".to_owned(),
            // Run as root in CI and containers: Chromium's sandbox needs a user namespace.
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            // Every page a test opens is on 127.0.0.1: no proxy from the environment.
            "--no-proxy-server".to_owned(),
            "--no-first-run".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={},{}", options.width, options.height),
            format!("--lang={}", options.lang),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": { "binary": self.chromium.display().to_string(), "args": args, "prefs": prefs },
        }}});
        let answer =
            command(&self.http, reqwest::Method::POST, &format!("{}/session", self.base()), Some(capabilities))
                .await
                .map_err(|e| Error(format!("starting Chromium ({}): {e}", self.chromium.display())))?;
        let id = answer["sessionId"]
            .as_str()
            .ok_or_else(|| Error(format!("a new session without an id: {answer}")))?
            .to_owned();
        let session = Session { http: self.http.clone(), url: format!("{}/session/{id}", self.base()) };
        if let Some(dir) = &options.download_dir {
            // Headless Chromium follows the profile's download folder only when told through the
            // DevTools protocol as well.
            let _ = session
                .cdp(
                    "Browser.setDownloadBehavior",
                    json!({ "behavior": "allow", "downloadPath": dir.display().to_string() }),
                )
                .await;
        }
        Ok(session)
    }
}

/// One WebDriver call: the `value` of its answer, or the error WebDriver reported.
async fn command(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Result<Value> {
    let request = http.request(method.clone(), url);
    let request = match body {
        Some(body) => request.json(&body),
        // POSTs without parameters still send an (empty) JSON object, as the spec wants.
        None if method == reqwest::Method::POST => request.json(&json!({})),
        None => request,
    };
    let response = request.send().await.map_err(|e| Error(format!("{method} {url}: {e}")))?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|e| Error(format!("{method} {url}: {status}, not JSON: {e}")))?;
    let value = answer.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        let error = value["error"].as_str().unwrap_or("unknown error");
        let message = value["message"].as_str().unwrap_or_default();
        let message = message.lines().next().unwrap_or_default();
        Err(Error(format!("{method} {url}: {status} {error}: {message}")))
    }
}

/// A browser session; [`Session::close`] ends it (the driver's drop ends any left).
#[derive(Clone)]
pub struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    url: String,
}

/// An element of the current page.
#[derive(Clone)]
pub struct Element {
    session: Session,
    id: String,
    /// How it was found, for messages.
    pub selector: String,
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element({})", self.selector)
    }
}

impl Session {
    async fn get(&self, path: &str) -> Result<Value> {
        command(&self.http, reqwest::Method::GET, &format!("{}{path}", self.url), None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        command(&self.http, reqwest::Method::POST, &format!("{}{path}", self.url), Some(body)).await
    }

    /// Goes to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    pub async fn current_url(&self) -> Result<String> {
        Ok(self.get("/url").await?.as_str().unwrap_or_default().to_owned())
    }

    pub async fn title(&self) -> Result<String> {
        Ok(self.get("/title").await?.as_str().unwrap_or_default().to_owned())
    }

    /// The page's HTML as it is now.
    pub async fn source(&self) -> Result<String> {
        Ok(self.get("/source").await?.as_str().unwrap_or_default().to_owned())
    }

    fn element(&self, value: &Value, selector: &str) -> Result<Element> {
        let id = value[ELEMENT_KEY].as_str().ok_or_else(|| Error(format!("not an element: {value}")))?;
        Ok(Element { session: self.clone(), id: id.to_owned(), selector: selector.to_owned() })
    }

    /// The first element `css` selects; an error when there is none.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let value = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await
            .map_err(|e| Error(format!("finding {css:?}: {e}")))?;
        self.element(&value, css)
    }

    /// Every element `css` selects (none is no error).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let value = self.post("/elements", json!({ "using": "css selector", "value": css })).await?;
        value.as_array().map(|all| all.iter().map(|v| self.element(v, css)).collect()).unwrap_or(Ok(Vec::new()))
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page, and returns what it
    /// returns. Elements pass as [`Element::reference`].
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// Runs `script` in the page with a callback as its last argument, and returns what it was
    /// called with (the session's script timeout applies, 30 s by default).
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("/execute/async", json!({ "script": script, "args": args })).await
    }

    /// Asks again every 100 ms until `check` says yes (`Some`), or fails after `timeout` saying
    /// `what` did not happen; WebDriver errors in between count as "not yet".
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl AsyncFnMut(&Session) -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            match check(self).await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(e) => last = Some(e),
            }
            if Instant::now() > deadline {
                let why = last.map(|e| format!(" (last error: {e})")).unwrap_or_default();
                return Err(Error(format!("{what}: not within {} s{why}", timeout.as_secs_f32())));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `css` selects a displayed element, and returns it.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.wait_until(&format!("{css:?} shown"), timeout, async |s| {
            for element in s.find_all(css).await? {
                if element.displayed().await? {
                    return Ok(Some(element));
                }
            }
            Ok(None)
        })
        .await
    }

    /// Waits until the page's text (`document.body.innerText`) contains `text`.
    pub async fn wait_for_text(&self, text: &str, timeout: Duration) -> Result<()> {
        self.wait_until(&format!("{text:?} on the page"), timeout, async |s| {
            let body = s.execute("return document.body ? document.body.innerText : ''", vec![]).await?;
            Ok(body.as_str().is_some_and(|b| b.contains(text)).then_some(()))
        })
        .await
    }

    /// The viewport as PNG.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        use base64::Engine;
        let value = self.get("/screenshot").await?;
        let encoded = value.as_str().ok_or_else(|| Error("a screenshot that is not a string".into()))?;
        base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|e| Error(format!("a screenshot: {e}")))
    }

    /// The whole page as PNG, beyond the window's height (through the DevTools protocol).
    pub async fn screenshot_full_page(&self) -> Result<Vec<u8>> {
        use base64::Engine;
        let size = self
            .execute(
                "const e = document.documentElement; return [e.scrollWidth, Math.max(e.scrollHeight, document.body ? document.body.scrollHeight : 0)]",
                vec![],
            )
            .await?;
        let (width, height) = (size[0].as_f64().unwrap_or(1280.0), size[1].as_f64().unwrap_or(900.0));
        let clip = json!({ "x": 0, "y": 0, "width": width, "height": height.min(16_000.0), "scale": 1 });
        let shot = self
            .cdp("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true, "clip": clip }))
            .await?;
        let encoded = shot["data"].as_str().ok_or_else(|| Error(format!("a screenshot without data: {shot}")))?;
        base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|e| Error(format!("a screenshot: {e}")))
    }

    /// The whole page as PNG, written to `path` (its folder made).
    pub async fn save_screenshot(&self, path: &Path) -> Result<()> {
        let png = self.screenshot_full_page().await?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        std::fs::write(path, png).map_err(|e| Error(format!("writing {}: {e}", path.display())))
    }

    /// A DevTools protocol command, through ChromeDriver's Chromium-only endpoint.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Result<Value> {
        self.post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params })).await
    }

    /// Accepts the `confirm()` or `alert()` the page shows, if any; whether there was one.
    pub async fn accept_alert(&self) -> bool {
        self.post("/alert/accept", json!({})).await.is_ok()
    }

    /// Ends the session: Chromium quits.
    pub async fn close(self) -> Result<()> {
        command(&self.http, reqwest::Method::DELETE, &self.url, None).await.map(drop)
    }
}

impl Element {
    async fn get(&self, what: &str) -> Result<Value> {
        self.session.get(&format!("/element/{}/{what}", self.id)).await
    }

    /// The element as a script argument.
    pub fn reference(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    pub async fn click(&self) -> Result<()> {
        self.session
            .post(&format!("/element/{}/click", self.id), json!({}))
            .await
            .map(drop)
            .map_err(|e| Error(format!("clicking {:?}: {e}", self.selector)))
    }

    /// Types `text` into the element (after what is there).
    pub async fn send_keys(&self, text: &str) -> Result<()> {
        self.session.post(&format!("/element/{}/value", self.id), json!({ "text": text })).await.map(drop)
    }

    pub async fn clear(&self) -> Result<()> {
        self.session.post(&format!("/element/{}/clear", self.id), json!({})).await.map(drop)
    }

    /// Its rendered text.
    pub async fn text(&self) -> Result<String> {
        Ok(self.get("text").await?.as_str().unwrap_or_default().to_owned())
    }

    /// An HTML attribute; `None` when it has none.
    pub async fn attribute(&self, name: &str) -> Result<Option<String>> {
        Ok(self.get(&format!("attribute/{name}")).await?.as_str().map(str::to_owned))
    }

    /// A DOM property (`value` of an input, say).
    pub async fn property(&self, name: &str) -> Result<Value> {
        self.get(&format!("property/{name}")).await
    }

    pub async fn displayed(&self) -> Result<bool> {
        Ok(self.get("displayed").await? == json!(true))
    }

    /// The first descendant `css` selects.
    pub async fn find(&self, css: &str) -> Result<Element> {
        let value = self
            .session
            .post(&format!("/element/{}/element", self.id), json!({ "using": "css selector", "value": css }))
            .await
            .map_err(|e| Error(format!("finding {css:?} in {:?}: {e}", self.selector)))?;
        self.session.element(&value, &format!("{} {css}", self.selector))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_binaries_a_test_skips_under_cargo_test_and_fails_under_the_test_command() {
        let browser = Browser { chromium: "/nowhere/chromium".into(), chromedriver: "/nowhere/chromedriver".into() };
        assert_eq!(decide(&browser, true, false), Ok(()));
        assert_eq!(decide(&browser, true, true), Ok(()));
        assert_eq!(decide(&browser, false, false), Err(None), "skipped");
        let Err(Some(why)) = decide(&browser, false, true) else { panic!("a failure under the test command") };
        assert!(why.contains("/nowhere/chromium and /nowhere/chromedriver are not both there"), "{why}");
        assert!(why.contains("while IPO_REQUIRE_SERVERS says the servers are up"), "{why}");
    }
}
