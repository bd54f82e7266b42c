//! moto's server, which speaks the EventBridge Scheduler API (it stores schedules and never fires
//! them), installed with pip into a virtual environment in the cache.

use crate::python;
use crate::server::Server;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "moto[server]==5.2.5";

/// Installs moto into the cache's Python environment if needed, and returns `moto_server`'s path.
pub fn install() -> Result<PathBuf, String> {
    python::tool(PACKAGE, "moto_server")
}

/// Starts `moto_server` on a free loopback port.
pub fn start(server: &Path) -> Result<Server, String> {
    Server::start("moto", "moto.log", |port| {
        let mut cmd = Command::new(server);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        cmd
    })
}
