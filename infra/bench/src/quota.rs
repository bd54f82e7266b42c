//! Lambda's CPU, on this machine: a function gets CPU in proportion to its memory (1,769 MB is one
//! vCPU), enforced by CFS bandwidth control. A control group with the same quota per 100 ms period
//! holds a function process to that share; the fake Telegram and the store stay outside it.

use crate::Error;
use std::path::{Path, PathBuf};

/// Memory at which a Lambda function gets one full vCPU.
const MB_PER_VCPU: f64 = 1_769.0;
const PERIOD_US: u64 = 100_000;

/// The CPU share of a function with `memory_mb`, in vCPUs.
pub fn share(memory_mb: u32) -> f64 {
    f64::from(memory_mb) / MB_PER_VCPU
}

/// A control group limiting its processes' CPU; removed when dropped (after its processes ended).
#[derive(Debug)]
pub struct CpuQuota {
    dir: PathBuf,
    /// cgroup v2 (`cpu.max`) or v1 (`cpu.cfs_quota_us`).
    unified: bool,
}

impl CpuQuota {
    /// A group named `name` allowing `memory_mb`'s share of a CPU.
    pub fn new(name: &str, memory_mb: u32) -> Result<CpuQuota, Error> {
        let quota_us = ((share(memory_mb) * PERIOD_US as f64).round() as u64).max(1_000);
        let v1 = Path::new("/sys/fs/cgroup/cpu");
        let v2 = Path::new("/sys/fs/cgroup");
        let (dir, unified) = if v1.join("cpu.cfs_quota_us").exists() {
            (v1.join(name), false)
        } else if v2.join("cgroup.controllers").exists() {
            (v2.join(name), true)
        } else {
            return Err(
                "--lambda-memory needs a writable cgroup CPU controller (/sys/fs/cgroup/cpu or cgroup v2)".into()
            );
        };
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating the control group {}: {e}", dir.display()))?;
        let quota = CpuQuota { dir, unified };
        if unified {
            quota.write("cpu.max", &format!("{quota_us} {PERIOD_US}"))?;
        } else {
            quota.write("cpu.cfs_period_us", &PERIOD_US.to_string())?;
            quota.write("cpu.cfs_quota_us", &quota_us.to_string())?;
        }
        Ok(quota)
    }

    /// Moves a process (all its threads) into the group.
    pub fn admit(&self, pid: u32) -> Result<(), Error> {
        self.write("cgroup.procs", &pid.to_string())
    }

    /// Periods in which the group ran out of its quota, and for how long it was held back.
    pub fn throttled(&self) -> Option<(u64, f64)> {
        let stat = std::fs::read_to_string(self.dir.join("cpu.stat")).ok()?;
        let field = |name: &str| stat.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok());
        let periods = field("nr_throttled ")?;
        let seconds =
            if self.unified { field("throttled_usec ")? as f64 / 1e6 } else { field("throttled_time ")? as f64 / 1e9 };
        Some((periods, seconds))
    }

    fn write(&self, file: &str, value: &str) -> Result<(), Error> {
        let path = self.dir.join(file);
        std::fs::write(&path, value).map_err(|e| format!("writing {value} to {}: {e}", path.display()).into())
    }
}

impl Drop for CpuQuota {
    fn drop(&mut self) {
        // Fails while a process is still inside; the group then stays until the next reboot.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_lambdas_memory_to_cpu_rule() {
        assert!((share(1_769) - 1.0).abs() < 1e-9);
        assert!((share(256) - 0.1447).abs() < 1e-3);
        assert!((share(128) - 0.0724).abs() < 1e-3);
    }
}
