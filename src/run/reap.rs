//! Finding a step's processes by the environment kfpl gave them.
//!
//! A step's process group is not a fence: `setsid` (or a double fork into a
//! new session) leaves it, and such a process keeps the step's pipes open.
//! Every step process gets `KFP_OUTPUTS=<run>/<step>/outputs` and every
//! process of a run `KFPL_RUN_DIR=<run>`, and children inherit both, so
//! kfpl finds what is left by reading `/proc/PID/environ`. This needs no
//! privilege (a user may read the environment of their own processes) and
//! misses only a process that cleared or rewrote its environment (`env -i`);
//! the step's readers stop waiting on those after a short drain (see the
//! executor). The executor sweeps only when it must (the step's pipes are
//! still held after its group is gone, or the step was stopped): a sweep
//! reads every process's environment, which would cost the usual step more
//! than the step itself. A PID namespace or a cgroup would be a tighter fence, but both
//! need root or delegated cgroups on most machines.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How many sweeps at most: a process forking while it is being swept shows
/// up in the next one.
const SWEEPS: usize = 8;

/// SIGKILLs every other process whose environment holds `NAME=VALUE`
/// exactly; sweeps until one finds nothing. Returns how many were killed.
pub(crate) fn kill_tagged(name: &str, value: &str) -> usize {
    let needle = format!("{name}={value}");
    let mut killed = 0;
    for _ in 0..SWEEPS {
        let found = sweep(needle.as_bytes());
        if found == 0 {
            break;
        }
        killed += found;
    }
    killed
}

fn sweep(needle: &[u8]) -> usize {
    let own = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|&b| b == 0).any(|var| var == needle)
            && kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok()
        {
            killed += 1;
        }
    }
    killed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process that left its group (a new session) is still found by its tag.
    #[test]
    fn kills_a_tagged_process_in_another_session() {
        let tag = format!("kfpl-reap-test-{}", std::process::id());
        let mut child = std::process::Command::new("setsid")
            .args(["sleep", "60"])
            .env("KFPL_REAP_TEST", &tag)
            .spawn()
            .unwrap_or_else(|e| panic!("setsid: {e}"));
        // Wait until the exec has happened and the environment is readable.
        let environ = format!("/proc/{}/environ", child.id());
        for _ in 0..200 {
            let ready = std::fs::read(&environ).is_ok_and(|e| {
                e.windows(tag.len()).any(|w| w == tag.as_bytes())
                    && std::fs::read_to_string(format!("/proc/{}/comm", child.id()))
                        .is_ok_and(|c| c.trim() == "sleep")
            });
            if ready {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(kill_tagged("KFPL_REAP_TEST", &tag) >= 1);
        let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
        assert!(!status.success(), "killed, not ended: {status:?}");
        assert_eq!(kill_tagged("KFPL_REAP_TEST", &tag), 0, "nothing left");
    }
}
