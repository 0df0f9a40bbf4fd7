//! X11 forwarding against Xvfb: `ssh -Y` with `xdpyinfo` on the far side,
//! X11DisplayOffset, X11UseLocalhost, XAuthLocation, the refusals, the cookie on the rc
//! file's stdin, and single-connection displays.

use crate::background::{addresses_in, wait_until};
use crate::common::{run_bounded, Input, Server};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// An Xvfb server on display `:n`, with a cookie of its own; stopped when dropped.
pub(crate) struct Xvfb {
    pub(crate) display: u32,
    pub(crate) authority: PathBuf,
    cookie: String,
    child: Child,
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Xvfb {
    /// Starts one on the first free display from `first` on (tests running at once
    /// use ranges of their own).
    pub(crate) fn start(dir: &Path, first: u32) -> Xvfb {
        let display = (first..first + 50)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free display number");
        let authority = dir.join("Xauthority.client");
        let cookie: String = (0..16)
            .map(|i| format!("{:02x}", (i * 37 + display as usize * 11) % 251))
            .collect();
        let mut add = Command::new("xauth");
        add.arg("-f")
            .arg(&authority)
            .args(["add", &format!(":{display}"), ".", &cookie]);
        run_bounded(add, Input::Null, None, Duration::from_secs(30)).assert_success();
        let child = Command::new("Xvfb")
            .arg(format!(":{display}"))
            .arg("-auth")
            .arg(&authority)
            .args(["-nolisten", "tcp", "-screen", "0", "640x480x24"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Owned (and so stopped) from here on, even if it never comes up.
        let x = Xvfb {
            display,
            authority,
            cookie,
            child,
        };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
        wait_until("Xvfb", Duration::from_secs(20), || socket.exists());
        x
    }

    /// `ssh -Y` (trusted forwarding) to `server` with this display.
    fn ssh(&self, server: &Server) -> crate::common::Ssh {
        self.ssh_with(server, "-Y")
    }

    /// `ssh FLAG` (`-X`: untrusted, the client makes a cookie of its own with `xauth
    /// generate`; `-Y`: trusted) to `server` with this display.
    fn ssh_with(&self, server: &Server, flag: &str) -> crate::common::Ssh {
        server
            .ssh()
            .arg(flag)
            .env("DISPLAY", format!(":{}", self.display))
            .env("XAUTHORITY", &self.authority)
    }
}

/// `ssh -Y` (and `-X`) against Xvfb: `xdpyinfo` on the far side reaches the client's display
/// through DISPLAY=localhost:N, which XAuthLocation's program stored with the client's
/// fake cookie (not the real one, which never leaves the client); X11DisplayOffset
/// picks N, and X11UseLocalhost keeps the display on loopback.
pub fn x11_forwarding_reaches_xvfb() {
    let probe = Server::start("x11-probe");
    let xvfb = Xvfb::start(probe.dir().path(), 90);
    drop(probe);
    let wrapper_dir = crate::common::TestDir::new("x11-xauth");
    let log = wrapper_dir.join("xauth.log");
    let wrapper = wrapper_dir.join("xauth");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"xauth $*\" >> {}\nexec /usr/bin/xauth \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).unwrap();
    let server = Server::builder("x11")
        .config("X11Forwarding yes")
        .config("X11DisplayOffset 30")
        .config("X11UseLocalhost yes")
        .config(&format!("XAuthLocation {}", wrapper.display()))
        .start();
    let script = r#"echo "D=$DISPLAY"; xauth list "$DISPLAY" | sed 's/^/AUTH /'; xdpyinfo | grep -E '^(name of display|vendor string)'; sed 's/^/TCP4 /' /proc/net/tcp; sed 's/^/TCP6 /' /proc/net/tcp6"#;
    let out = xvfb.ssh(&server).run(script);
    out.assert_success();
    let text = out.stdout_str();
    let display = text
        .lines()
        .find_map(|l| l.strip_prefix("D="))
        .unwrap_or_default()
        .to_string();
    let n: u32 = display
        .strip_prefix("localhost:")
        .and_then(|r| r.strip_suffix(".0"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("DISPLAY {display:?}\n{text}\n{}", out.stderr));
    assert!((30..1030).contains(&n), "X11DisplayOffset 30: {n}");
    assert!(
        text.contains(&format!("name of display:    {display}")),
        "{text}\n{}",
        out.stderr
    );
    assert!(text.contains("vendor string"), "{text}");
    let stored = text
        .lines()
        .find_map(|l| l.strip_prefix("AUTH "))
        .unwrap_or_else(|| panic!("no cookie stored: {text}"));
    assert!(stored.contains("MIT-MAGIC-COOKIE-1"), "{stored}");
    assert!(
        !stored.contains(&xvfb.cookie),
        "the real cookie left the client"
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    if server.kind() == crate::common::ServerKind::Sisu {
        assert!(
            calls.contains("xauth -q -"),
            "XAuthLocation not used: {calls:?}"
        );
    } else {
        assert!(calls.contains("xauth"), "XAuthLocation not used: {calls:?}");
    }
    // While the session holds the display, it listens on loopback only.
    let table = |prefix: &str| -> String {
        let mut t = String::from("header\n");
        for l in text.lines().filter_map(|l| l.strip_prefix(prefix)) {
            t.push_str(l);
            t.push('\n');
        }
        t
    };
    let bound = addresses_in(6000 + n as u16, &table("TCP4 "), &table("TCP6 "));
    assert!(
        !bound.is_empty() && bound.iter().all(|a| a == "0100007F" || a == "::1"),
        "display bound on {bound:?}"
    );
    // Untrusted forwarding (`ssh -X`): the client's own untrusted cookie, and xdpyinfo
    // still gets through.
    let out = xvfb
        .ssh_with(&server, "-X")
        .run("xdpyinfo | grep -E '^name of display'");
    out.assert_success();
    assert!(
        out.stdout_str()
            .starts_with("name of display:    localhost:"),
        "{}\n{}",
        out.stdout_str(),
        out.stderr
    );
}

/// Without X11Forwarding (the default), with `no-X11-forwarding`, or with an
/// XAuthLocation that does not exist, no display is set up.
pub fn x11_forwarding_refused() {
    let probe = Server::start("x11-off-probe");
    let xvfb = Xvfb::start(probe.dir().path(), 140);
    let check = |server: &Server| {
        let out = xvfb.ssh(server).run("echo \"D=$DISPLAY\"");
        out.assert_success();
        assert_eq!(out.stdout_str(), "D=\n", "{}", out.stderr);
        assert!(
            out.stderr.contains("X11 forwarding request failed"),
            "{}",
            out.stderr
        );
    };
    check(&probe);
    let no_xauth = Server::builder("x11-no-xauth")
        .config("X11Forwarding yes")
        .config("XAuthLocation /nonexistent/xauth")
        .start();
    check(&no_xauth);
    let key = Server::builder("x11-key")
        .config("X11Forwarding yes")
        .start();
    let public = std::fs::read_to_string(format!("{}.pub", key.client_key().display())).unwrap();
    std::fs::write(
        key.dir().join("authorized_keys"),
        format!("no-X11-forwarding {public}"),
    )
    .unwrap();
    check(&key);
}

/// With X11 forwarded, `~/.ssh/rc` gets `PROTOCOL COOKIE` on its stdin (the client's
/// fake cookie) and stores it itself: the server's own xauth run is left out.
pub fn x11_cookie_goes_to_the_rc_file() {
    let p = Server::builder("x11-rc")
        .config("X11Forwarding yes")
        .prepare();
    let home = p.account_with_home("sisux11rc");
    std::fs::write(
        home.join(".ssh/rc"),
        "read proto cookie\necho \"rc got $proto ${#cookie}\"\n",
    )
    .unwrap();
    let server = p.start();
    let xvfb = Xvfb::start(server.dir().path(), 190);
    let out = xvfb
        .ssh(&server)
        .login_as("sisux11rc")
        .run("echo \"D=$DISPLAY\"; xauth list \"$DISPLAY\" | wc -l");
    out.assert_success();
    let text = out.stdout_str();
    assert!(
        text.starts_with("rc got MIT-MAGIC-COOKIE-1 32\n"),
        "{text}\n{}",
        out.stderr
    );
    assert!(text.contains("D=localhost:"), "{text}");
    assert!(
        text.ends_with("0\n"),
        "xauth ran although the rc file did: {text}"
    );
}

/// x11-req's single-connection (paramiko asks for it): the display takes one
/// connection, which reaches the client as an `x11` channel, and then closes.
pub fn x11_single_connection() {
    let server = Server::builder("x11-single")
        .config("X11Forwarding yes")
        .start();
    let script = r#"
import sys, paramiko, threading
port, user, key, kh = sys.argv[1:5]
c = paramiko.SSHClient()
c.load_host_keys(kh)
c.connect("127.0.0.1", port=int(port), username=user, key_filename=key,
          look_for_keys=False, allow_agent=False, timeout=20)
got = []
def handler(channel, origin):
    got.append(origin)
    channel.close()
chan = c.get_transport().open_session()
chan.request_x11(single_connection=True, auth_cookie="00" * 16, handler=handler)
probe = ("import os, socket, time\n"
         "n = int(os.environ['DISPLAY'].split(':')[1].split('.')[0])\n"
         "socket.create_connection(('127.0.0.1', 6000 + n), 5)\n"
         "time.sleep(1)\n"
         "try:\n"
         "    socket.create_connection(('127.0.0.1', 6000 + n), 5); print('second accepted')\n"
         "except OSError:\n"
         "    print('second refused')\n")
import base64
chan.exec_command("python3 -c \"import base64; exec(base64.b64decode('"
                  + base64.b64encode(probe.encode()).decode() + "'))\"")
out = chan.makefile().read().decode()
print(out.strip(), len(got))
"#;
    let out = crate::background::python_peer(&server, script, &[]);
    out.assert_success();
    assert_eq!(
        out.stdout_str().trim(),
        "second refused 1",
        "{}",
        out.stderr
    );
}
