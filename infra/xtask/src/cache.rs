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

/// The repository root. Read at run time: the build cache is shared between clones (CI clones
/// afresh each run), so a path compiled into the binary could name another, even deleted, clone.
/// `cargo run` sets `CARGO_MANIFEST_DIR` (this crate, `infra/xtask`); otherwise the nearest folder
/// upwards whose `Cargo.toml` declares the workspace.
pub fn workspace_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        return PathBuf::from(dir).join("..").join("..");
    }
    let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    start
        .ancestors()
        .find(|dir| std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]")))
        .map_or(start.clone(), Path::to_path_buf)
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

/// Cargo's target directory, as cargo resolves it (`CARGO_TARGET_DIR`, `build.target-dir`, …).
pub fn target_dir() -> Result<PathBuf, String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!("cargo metadata failed: {}", output.status));
    }
    let json = String::from_utf8_lossy(&output.stdout);
    let key = "\"target_directory\":\"";
    let start = json.find(key).ok_or("cargo metadata printed no target_directory")? + key.len();
    let end = json[start..].find('"').ok_or("cargo metadata: unterminated target_directory")?;
    Ok(PathBuf::from(json[start..start + end].replace("\\\\", "\\")))
}
