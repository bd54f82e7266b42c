//! A server this run starts: on a free loopback port, its output in a log file in the cache, and
//! stopped by its process id when dropped, whatever happened.

use crate::cache;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    name: &'static str,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("xtask: stopped {} (pid {pid})", self.name);
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("finding a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl Server {
    /// Starts what `command(port)` builds, to listen on `port` on 127.0.0.1, and waits (60 s at
    /// most) until it accepts connections.
    pub fn start(name: &'static str, log_name: &str, command: impl FnOnce(u16) -> Command) -> Result<Server, String> {
        let port = free_port()?;
        let log = cache::dir()?.join(log_name);
        let out = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = command(port)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting {name}: {e}"))?;
        let mut server = Server { child, name, port, log };
        eprintln!("xtask: started {name} (pid {}) on 127.0.0.1:{port}", server.child.id());
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("{name} exited ({status}); see {}", server.log.display()));
            }
            if Instant::now() > deadline {
                return Err(format!("{name} did not start within 60 s; see {}", server.log.display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
