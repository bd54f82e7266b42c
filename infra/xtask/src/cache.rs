//! Where installed tools live: outside the clone, so CI and later runs reuse them.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("IPO_ADVISORY_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(xdg).join("ipo-advisory"));
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache").join("ipo-advisory"))
        .ok_or_else(|| "neither IPO_ADVISORY_CACHE, XDG_CACHE_HOME nor HOME is set".into())
}

/// The repository root (this crate lives in `infra/xtask`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// Runs a command to completion, failing with its name when it fails.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("{shown}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed: {status}")) }
}

pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}
