//! The browser tests' Chromium: Debian's `chromium` and `chromium-driver` (ChromeDriver of the same
//! version), `fonts-nanum` so that Korean renders as text, not boxes, in screenshots, and
//! `fonts-noto-color-emoji` for the ✅ and ⏰ of the bot's messages and the dashboard. Installed
//! with apt-get on first use (these are system packages, not the cache's: a clean CI machine gets
//! them once, as it gets npm's and pip's tools), then named to the tests by path.

use crate::cache;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `testkit::webdriver::CHROMIUM_ENV` (not imported, to keep this binary small).
pub const CHROMIUM_ENV: &str = "IPO_CHROMIUM";
/// `testkit::webdriver::CHROMEDRIVER_ENV`.
pub const CHROMEDRIVER_ENV: &str = "IPO_CHROMEDRIVER";

/// Where the Nanum fonts go, for a machine without fontconfig's `fc-list`.
const NANUM_DIR: &str = "/usr/share/fonts/truetype/nanum";

#[derive(Debug)]
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// What is there now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    chromium: bool,
    chromedriver: bool,
    korean_fonts: bool,
    emoji_font: bool,
}

impl Found {
    fn now() -> Found {
        Found {
            chromium: on_path("chromium").is_some(),
            chromedriver: on_path("chromedriver").is_some(),
            korean_fonts: has_font(":lang=ko", Some(NANUM_DIR)),
            emoji_font: has_font(":lang=und-zsye", None),
        }
    }

    /// The Debian packages that bring what is missing.
    fn packages(self) -> Vec<&'static str> {
        [
            (self.chromium, "chromium"),
            (self.chromedriver, "chromium-driver"),
            (self.korean_fonts, "fonts-nanum"),
            (self.emoji_font, "fonts-noto-color-emoji"),
        ]
        .into_iter()
        .filter(|(there, _)| !there)
        .map(|(_, package)| package)
        .collect()
    }
}

/// Installs what is missing, and returns the binaries' paths.
pub fn install() -> Result<Browser, String> {
    let packages = Found::now().packages();
    if !packages.is_empty() {
        apt_get_install(&packages)?;
        let still = Found::now().packages();
        if !still.is_empty() {
            return Err(format!("apt-get installed {}, and still missing: {}", packages.join(" "), still.join(" ")));
        }
    }
    let chromium = on_path("chromium").ok_or("no chromium on PATH")?;
    let chromedriver = on_path("chromedriver").ok_or("no chromedriver on PATH")?;
    Ok(Browser { chromium, chromedriver })
}

/// `apt-get update` and `apt-get install -y` as root, or through `sudo -n` when not root.
fn apt_get_install(packages: &[&str]) -> Result<(), String> {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    if !root && !cache::have("sudo") {
        return Err(format!(
            "the browser tests need {0}; not root and no sudo: run `apt-get install -y {0}` as root",
            packages.join(" ")
        ));
    }
    eprintln!("xtask: installing {} with apt-get (about a minute, once)", packages.join(" "));
    cache::run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(packages);
    cache::run(&mut install)
}

/// The first `program` on `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether a font matches the fontconfig `pattern`; without fontconfig's `fc-list`, whether
/// `folder` has files (no folder: no font).
fn has_font(pattern: &str, folder: Option<&str>) -> bool {
    match Command::new("fc-list").arg(pattern).arg("family").stderr(Stdio::null()).output() {
        Ok(output) if output.status.success() => !String::from_utf8_lossy(&output.stdout).trim().is_empty(),
        _ => folder.is_some_and(|dir| std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_missing_is_installed() {
        let all = Found { chromium: true, chromedriver: true, korean_fonts: true, emoji_font: true };
        assert_eq!(all.packages(), Vec::<&str>::new());
        let none = Found { chromium: false, chromedriver: false, korean_fonts: false, emoji_font: false };
        assert_eq!(none.packages(), ["chromium", "chromium-driver", "fonts-nanum", "fonts-noto-color-emoji"]);
        assert_eq!(Found { emoji_font: false, ..all }.packages(), ["fonts-noto-color-emoji"]);
        assert_eq!(Found { korean_fonts: false, ..all }.packages(), ["fonts-nanum"]);
        assert_eq!(Found { chromedriver: false, ..all }.packages(), ["chromium-driver"]);
    }

    #[test]
    fn a_program_is_found_on_path_only_when_executable() {
        assert!(on_path("sh").is_some(), "sh is on every PATH");
        assert!(on_path("no-such-program-ipo-advisory").is_none());
        assert!(!is_executable(Path::new("/etc/passwd")), "a file that is not executable");
    }
}
