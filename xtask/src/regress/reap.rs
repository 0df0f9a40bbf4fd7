//! Finding and stopping the processes one regress test started, by PID.
//!
//! Each test runs as the leader of a session of its own (`setsid`), but some of what it
//! starts leaves that session: a server without `-D` daemonizes, and so do `ssh-agent`
//! and `ssh -f`. A process belongs to the test when it started after the test did and
//! (a) is in the test's session, or (b) carries the test's marker in its environment
//! (every process the test's shell starts inherits it; only processes started after
//! the test are looked at), or (c) names the test's own directory in its command line
//! (`sshd -f DIR/sshd_config`), or (d) descends from one of those (the server's session
//! children, whose environment the server builds anew). Other sshds on this machine
//! match none of these and are never signalled. Nothing is matched by program name.

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// How long processes get to exit after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);
/// Rounds of look-and-signal before giving up (each bounded by `TERM_GRACE`).
const ROUNDS: usize = 4;

/// What identifies one test's processes.
pub struct Tracker {
    /// The test's session id: the PID of its leader, our child.
    pub sid: u32,
    /// The leader's start time (clock ticks since boot, /proc/PID/stat field 22).
    pub since: u64,
    /// `NAME=VALUE` in the environment of every process the test's shell starts.
    pub marker: String,
    /// The test's directory with a trailing `/`.
    pub dir: String,
}

/// The fields of /proc/PID/stat we use.
struct Stat {
    ppid: u32,
    session: u32,
    state: char,
    start: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields start after
    // the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        start: f.get(19)?.parse().ok()?,
    })
}

/// The start time of `pid`, for [`Tracker::since`].
pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.start)
}

fn all_pids() -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

impl Tracker {
    /// The test's live processes (zombies left out: they only wait to be reaped).
    pub fn find(&self) -> Vec<u32> {
        let me = std::process::id();
        let procs: Vec<(u32, Stat)> = all_pids()
            .into_iter()
            .filter(|&p| p != me)
            .filter_map(|p| Some((p, stat(p)?)))
            .filter(|(_, s)| s.start >= self.since && s.state != 'Z')
            .collect();
        let mut mine: BTreeSet<u32> = BTreeSet::new();
        for (pid, s) in &procs {
            let ours = (self.sid != 0 && s.session == self.sid)
                || (!self.marker.is_empty()
                    && fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                        env.split(|&b| b == 0).any(|v| v == self.marker.as_bytes())
                    }))
                || fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmd| contains(&cmd, self.dir.as_bytes()));
            if ours {
                mine.insert(*pid);
            }
        }
        // Descendants, to a fixed point (bounded by the number of processes).
        for _ in 0..procs.len() {
            let before = mine.len();
            for (pid, s) in &procs {
                if mine.contains(&s.ppid) {
                    mine.insert(*pid);
                }
            }
            if mine.len() == before {
                break;
            }
        }
        mine.into_iter().collect()
    }

    /// Stop every process of the test: SIGTERM, then SIGKILL for what is left after
    /// [`TERM_GRACE`]. Returns how many processes were signalled.
    pub fn stop_all(&self) -> usize {
        let mut signalled = BTreeSet::new();
        for round in 0..ROUNDS {
            let pids = self.find();
            if pids.is_empty() {
                break;
            }
            let signal = if round == 0 { "-TERM" } else { "-KILL" };
            signal_pids(signal, &pids);
            signalled.extend(pids.iter().copied());
            let deadline = Instant::now() + TERM_GRACE;
            while Instant::now() < deadline && !self.find().is_empty() {
                thread::sleep(Duration::from_millis(100));
            }
        }
        signalled.len()
    }
}

/// Stop what an earlier, interrupted run left behind: the processes whose command
/// line names `dir/` (a run's own output directory, `target/regress/<server>/`), and
/// their descendants. Only runs of this task put that path in a command line.
pub fn stop_earlier(dir: &str) -> usize {
    let t = Tracker {
        sid: 0,
        since: 0,
        marker: String::new(),
        dir: dir.to_string(),
    };
    t.stop_all()
}

/// `kill SIGNAL PID...`: by PID only.
fn signal_pids(signal: &str, pids: &[u32]) {
    let mut c = Command::new("kill");
    c.arg(signal).arg("--");
    for p in pids {
        c.arg(p.to_string());
    }
    let _ = crate::proc::succeeds(&mut c);
}
