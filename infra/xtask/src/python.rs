//! Python tools (moto, cfn-lint) in one virtual environment in the cache, pinned: changing a pin
//! reinstalls that package.

use crate::cache;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Installs `spec` (`name[extras]==version`) if that version is not installed, and returns the path
/// of its `binary`.
pub fn tool(spec: &str, binary: &str) -> Result<PathBuf, String> {
    let venv = cache::dir()?.join("venv");
    let path = venv.join("bin").join(binary);
    if path.is_file() && is_installed(&venv, spec) {
        return Ok(path);
    }
    let pip = venv.join("bin").join("pip");
    if !pip.is_file() {
        if !cache::have("python3") {
            return Err(format!("python3 is needed to install {spec} (apt-get install python3 python3-venv)"));
        }
        eprintln!("xtask: creating a Python virtual environment in {}", venv.display());
        cache::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
            .map_err(|e| format!("{e} (on Debian: apt-get install python3-venv)"))?;
    }
    eprintln!("xtask: installing {spec} into {}", venv.display());
    cache::run(Command::new(&pip).args(["install", "--quiet", "--disable-pip-version-check", spec]))?;
    if path.is_file() { Ok(path) } else { Err(format!("{spec} installed, but there is no {}", path.display())) }
}

/// Whether the pinned version is the one installed (its `dist-info` folder is there).
fn is_installed(venv: &Path, spec: &str) -> bool {
    let Some((name, version)) = spec.split_once("==") else { return true };
    let name = name.split('[').next().unwrap_or(name).replace('-', "_");
    let wanted = format!("{name}-{version}.dist-info");
    let Ok(lib) = std::fs::read_dir(venv.join("lib")) else { return false };
    lib.filter_map(Result::ok).any(|python| {
        std::fs::read_dir(python.path().join("site-packages"))
            .map(|entries| entries.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy() == wanted))
            .unwrap_or(false)
    })
}
