//! schemathesis against a devserver: it reads `/api/v1/openapi.json`, generates requests from it
//! (valid and invalid, then chains of them along the document's links) and fails on any server
//! error or any answer the document does not describe.

use crate::{cache, python};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PACKAGE: &str = "schemathesis==4.32.5";

/// Examples per operation and phase: about a minute on a 2-core machine.
const MAX_EXAMPLES: &str = "25";

/// `positive_data_acceptance` expects every schema-valid request to succeed, but JSON Schema cannot
/// say what only the store or the calendar knows: KRX's date order, a cursor this API issued, a
/// unique fund name, the version last read. Those are refused with 400 or 409, by design.
const EXCLUDED_CHECKS: &str = "positive_data_acceptance";

/// A devserver on a fresh data directory; stopped (by its process id) and its data removed when
/// dropped.
struct Devserver {
    child: Child,
    data_dir: PathBuf,
}

impl Drop for Devserver {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        eprintln!("xtask: stopped the devserver (pid {pid})");
    }
}

pub fn run() -> Result<(), String> {
    let st = python::tool(PACKAGE, "st")?;
    let devserver = build_devserver()?;
    let port = cache::free_port()?;
    let token = format!("schemathesis-{}", random_hex()?);
    let data_dir = std::env::temp_dir().join(format!("ipo-advisory-schemathesis-{}", std::process::id()));
    let log_path = cache::dir()?.join("devserver-schemathesis.log");
    let log = std::fs::File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new(&devserver)
        .args(["--port", &port.to_string(), "--demo", "--admin-token", &token, "--data-dir"])
        .arg(&data_dir)
        // The built-in fake Telegram, whatever the caller's environment holds.
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env_remove("DEVSERVER_ADMIN_TOKEN")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", devserver.display()))?;
    let mut server = Devserver { child, data_dir };
    eprintln!("xtask: started the devserver (pid {}) on 127.0.0.1:{port}", server.child.id());
    wait_until_listening(&mut server.child, port, &log_path)?;

    let schema = format!("http://127.0.0.1:{port}/api/v1/openapi.json");
    let status = Command::new(st)
        .args(["run", &schema, "--max-examples", MAX_EXAMPLES, "--exclude-checks", EXCLUDED_CHECKS, "--no-color"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .current_dir(cache::dir()?)
        .status()
        .map_err(|e| format!("running schemathesis: {e}"))?;
    drop(server);
    if status.success() {
        Ok(())
    } else {
        Err(format!("schemathesis found failures ({status}); the devserver's log is {}", log_path.display()))
    }
}

/// The devserver as `cargo test` has just built it (a no-op build when so).
fn build_devserver() -> Result<PathBuf, String> {
    let root = cache::workspace_root();
    cache::run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--quiet", "--package", "devserver"])
            .current_dir(&root),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target.join("debug").join("devserver");
    if binary.is_file() { Ok(binary) } else { Err(format!("no devserver at {}", binary.display())) }
}

fn wait_until_listening(child: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the devserver exited ({status}); see {}", log.display()));
        }
        if Instant::now() > deadline {
            return Err(format!("the devserver did not listen within 60 s; see {}", log.display()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn random_hex() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
