//! A benchmark server: a fresh directory with keys and `sshd_config`, the server started
//! on 127.0.0.1 in its own process group, and stopped (SIGTERM, then SIGKILL) on drop.

use crate::proc;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server gets to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server gets to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running benchmark server.
pub struct BenchServer {
    child: Child,
    /// The listening port on 127.0.0.1.
    pub port: u16,
    /// Its directory (keys, config, log).
    pub dir: PathBuf,
    /// The user clients log in as.
    pub user: String,
}

fn keygen(path: &Path) -> Result<(), String> {
    proc::stream(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(path)
            .stdout(Stdio::null()),
    )
}

impl BenchServer {
    /// Prepare `dir` and start `binary` (`openssh` adds `UsePAM no`).
    pub fn start(binary: &Path, openssh: bool, dir: PathBuf, user: &str) -> Result<Self, String> {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let host_key = dir.join("ssh_host_ed25519_key");
        keygen(&host_key)?;
        keygen(&dir.join("id_ed25519"))?;
        fs::copy(dir.join("id_ed25519.pub"), dir.join("authorized_keys"))
            .map_err(|e| format!("authorized_keys: {e}"))?;
        let mut config = format!(
            "ListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nStrictModes no\nPidFile none\nLogLevel VERBOSE\n",
            host_key.display(),
            dir.join("authorized_keys").display()
        );
        if openssh {
            config.push_str("UsePAM no\n");
        }
        fs::write(dir.join("sshd_config"), config).map_err(|e| e.to_string())?;
        let log = dir.join("sshd.log");
        let port = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("pick a port: {e}"))?
            .port();
        let logfile = fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(dir.join("sshd_config"))
            .arg("-p")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(logfile))
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", binary.display()))?;
        let mut server = BenchServer {
            child,
            port,
            dir: dir.clone(),
            user: user.to_string(),
        };
        let pubkey = fs::read_to_string(host_key.with_extension("pub")).unwrap_or_default();
        let mut fields = pubkey.split_whitespace();
        let entry = format!(
            "[127.0.0.1]:{port} {} {}\n",
            fields.next().unwrap_or(""),
            fields.next().unwrap_or("")
        );
        fs::write(dir.join("known_hosts"), entry).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let text = fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("server exited ({status}): {}", text.trim()));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                return Err(format!("not listening after {READY_TIMEOUT:?}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The listener's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `ssh` with the benchmark's client options, ready for a remote command.
    pub fn ssh(&self, extra: &[&str]) -> Command {
        let mut c = Command::new("ssh");
        c.args([
            "-F",
            "/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .args(["-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            self.dir.join("known_hosts").display()
        ))
        .arg("-i")
        .arg(self.dir.join("id_ed25519"))
        .arg("-p")
        .arg(self.port.to_string())
        .args(extra)
        .arg(format!("{}@127.0.0.1", self.user));
        c
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = proc::succeeds(Command::new("kill").args(["-TERM", "--", &group]));
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = proc::succeeds(Command::new("kill").args(["-KILL", "--", &group]));
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
