//! schemathesis against a devserver: it reads `/api/v1/openapi.json`, generates requests from it
//! (valid and invalid, then chains of them along the document's links) and fails on any server
//! error or any answer the document does not describe.

use crate::server::Server;
use crate::{cache, python};
use std::path::PathBuf;
use std::process::Command;

const PACKAGE: &str = "schemathesis==4.32.5";

/// Examples per operation and phase: about a minute on a 2-core machine.
const MAX_EXAMPLES: &str = "25";

/// `positive_data_acceptance` expects every schema-valid request to succeed, but JSON Schema cannot
/// say what only the store or the calendar knows: KRX's date order, a cursor this API issued, a
/// unique fund name, the version last read. Those are refused with 400 or 409, by design.
const EXCLUDED_CHECKS: &str = "positive_data_acceptance";

/// A folder removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run() -> Result<(), String> {
    let st = python::tool(PACKAGE, "st")?;
    let devserver = build_devserver()?;
    let token = format!("schemathesis-{}", random_hex()?);
    // Declared first, so dropped last: the server stops before its data goes.
    let data = Scratch(std::env::temp_dir().join(format!("ipo-advisory-schemathesis-{}", std::process::id())));
    let server = Server::start("the devserver", "devserver-schemathesis.log", |port| {
        let mut cmd = Command::new(&devserver);
        cmd.args(["--port", &port.to_string(), "--demo", "--admin-token", &token, "--data-dir"])
            .arg(&data.0)
            // The built-in fake Telegram, whatever the caller's environment holds.
            .env_remove("TELEGRAM_BOT_TOKEN")
            .env_remove("DEVSERVER_ADMIN_TOKEN");
        cmd
    })?;

    let schema = format!("{}/api/v1/openapi.json", server.endpoint());
    let status = Command::new(st)
        .args(["run", &schema, "--max-examples", MAX_EXAMPLES, "--exclude-checks", EXCLUDED_CHECKS, "--no-color"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .current_dir(cache::dir()?)
        .status()
        .map_err(|e| format!("running schemathesis: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("schemathesis found failures ({status}); the devserver's log is {}", server.log.display()))
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
    let binary = cache::target_dir()?.join("debug").join("devserver");
    if binary.is_file() { Ok(binary) } else { Err(format!("no devserver at {}", binary.display())) }
}

fn random_hex() -> Result<String, String> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
