//! moto's server, which speaks the EventBridge Scheduler API (it stores schedules and never fires
//! them), installed with pip into a virtual environment in the cache.

use crate::{cache, python};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PACKAGE: &str = "moto[server]==5.2.5";

/// A running moto server; stopped (by its process id) when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("xtask: stopped moto (pid {pid})");
    }
}

/// Installs moto into the cache's Python environment if needed, and returns `moto_server`'s path.
pub fn install() -> Result<PathBuf, String> {
    python::tool(PACKAGE, "moto_server")
}

/// Starts `moto_server` on a free loopback port and waits until it accepts connections.
pub fn start(server: &Path) -> Result<Moto, String> {
    let port = cache::free_port()?;
    let log_path = cache::dir()?.join("moto.log");
    let log = std::fs::File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("starting moto: {e}"))?;
    let mut moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
    eprintln!("xtask: started moto (pid {}) on {}", moto.child.id(), moto.endpoint);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(moto);
        }
        if let Ok(Some(status)) = moto.child.try_wait() {
            return Err(format!("moto exited ({status}); see {}", log_path.display()));
        }
        if Instant::now() > deadline {
            return Err(format!("moto did not start within 60 s; see {}", log_path.display()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
