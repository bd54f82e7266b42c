//! The devserver binary as the tests start it: on a free loopback port, with the built-in fake
//! Telegram unless `env` says otherwise, what it prints collected, stopped by its process id when
//! dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The staff API's token (`--admin-token`).
pub const ADMIN_TOKEN: &str = "test-admin";

pub struct Devserver {
    pub child: Child,
    pub base: String,
    /// Everything it printed so far.
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Drop for Devserver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Devserver {
    /// A devserver on `data`, with the demo data when `demo`.
    pub fn start_with(data: &Path, demo: bool, env: &[(&str, &str)]) -> Devserver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_devserver"));
        command.args(["--port", &port.to_string(), "--data-dir"]).arg(data).args(["--admin-token", ADMIN_TOKEN]);
        if demo {
            command.arg("--demo");
        }
        for name in ["TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_STAFF_CHAT_ID"] {
            command.env_remove(name);
        }
        command.envs(env.iter().copied()).env("RUST_LOG", "warn,dynoxide=error");
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the devserver starts");
        let stdout = child.stdout.take().expect("its stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("the lines").push(line);
            }
        });
        Devserver { child, base: format!("http://127.0.0.1:{port}"), lines }
    }

    /// The startup banner, once printed (60 s at most).
    pub fn banner(&self) -> Vec<String> {
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
}
