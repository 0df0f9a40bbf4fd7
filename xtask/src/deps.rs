//! Installing what the interop tests and the benchmark need, only when it is missing:
//! Debian packages (through `apt-get`), pip packages, the test user and `/run/sshd`.

use crate::proc::{self, have, succeeds};
use std::fs;
use std::path::Path;
use std::process::Command;

/// The user the interop tests and the benchmark log in as when run as root.
pub const TEST_USER: &str = "sisutest";

/// What must exist, and the Debian package that provides it.
const DEBIAN: &[(&str, &str)] = &[
    ("ssh", "openssh-client"),
    ("scp", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("/usr/sbin/sshd", "openssh-server"),
    ("/usr/lib/openssh/sftp-server", "openssh-sftp-server"),
    ("ssh-keygen1", "openssh-client-ssh1"),
    ("ssh1", "openssh-client-ssh1"),
    ("openssl", "openssl"),
    ("ssh1", "openssh-client-ssh1"),
    ("plink", "putty-tools"),
    ("puttygen", "putty-tools"),
    ("dbclient", "dropbear-bin"),
    ("dropbearconvert", "dropbear-bin"),
    ("python3", "python3"),
    ("sha256sum", "coreutils"),
    ("fail2ban-regex", "fail2ban"),
    ("sshpass", "sshpass"),
    ("/usr/lib/openssh/regress/test-exec.sh", "openssh-tests"),
    ("Xvfb", "xvfb"),
    ("xauth", "xauth"),
    ("xdpyinfo", "x11-utils"),
];

/// Python modules the tests import, and their pip names.
const PIP: &[(&str, &str)] = &[
    ("paramiko", "paramiko"),
    ("asyncssh", "asyncssh"),
    ("ssh_audit", "ssh-audit"),
];

/// A policy-rc.d that tells Debian's maintainer scripts not to start any service, so
/// installing openssh-server (or fail2ban) starts nothing.
const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

/// Install the Debian packages of `needs` (what must exist, its package) whose file
/// is missing; a no-op when everything is there.
pub fn ensure(needs: &[(&str, &str)]) -> Result<(), String> {
    let mut packages: Vec<&str> = needs
        .iter()
        .filter(|(prog, _)| !have(prog))
        .map(|&(_, pkg)| pkg)
        .collect();
    packages.sort_unstable();
    packages.dedup();
    if packages.is_empty() {
        return Ok(());
    }
    apt_install(&packages)
}

/// Install whatever is missing; a no-op when everything is there.
pub fn install_missing() -> Result<(), String> {
    let mut packages: Vec<&str> = DEBIAN
        .iter()
        .filter(|(prog, _)| !have(prog))
        .map(|&(_, pkg)| pkg)
        .collect();
    if !python_has_pip() {
        packages.push("python3-pip");
    }
    packages.sort_unstable();
    packages.dedup();
    if !packages.is_empty() {
        apt_install(&packages)?;
    }
    pip_install_missing()?;
    if proc::is_root() {
        ensure_test_user()?;
        ensure_privsep_user()?;
        fs::create_dir_all("/run/sshd").map_err(|e| format!("mkdir /run/sshd: {e}"))?;
    }
    Ok(())
}

fn python() -> String {
    std::env::var("SISU_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn python_has_pip() -> bool {
    succeeds(Command::new(python()).args(["-m", "pip", "--version"]))
}

fn sudo_prefix() -> Result<Vec<&'static str>, String> {
    if proc::is_root() {
        Ok(vec![])
    } else if have("sudo") && succeeds(Command::new("sudo").args(["-n", "true"])) {
        Ok(vec!["sudo", "-n"])
    } else {
        Err("not root and no password-less sudo: cannot install packages".into())
    }
}

fn privileged(args: &[&str]) -> Result<Command, String> {
    let mut all = sudo_prefix()?;
    all.extend_from_slice(args);
    let mut c = Command::new(all[0]);
    c.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
    Ok(c)
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    eprintln!("xtask: installing Debian packages: {}", packages.join(" "));
    let wrote_policy = if Path::new(POLICY_RC_D).exists() {
        false
    } else {
        proc::stream(&mut privileged(&[
            "sh",
            "-c",
            &format!("printf '#!/bin/sh\\nexit 101\\n' > {POLICY_RC_D} && chmod 755 {POLICY_RC_D}"),
        ])?)?;
        true
    };
    let result = proc::stream(&mut privileged(&["apt-get", "update"])?).and_then(|()| {
        let mut args = vec!["apt-get", "install", "-y", "--no-install-recommends"];
        args.extend_from_slice(packages);
        proc::stream(&mut privileged(&args)?)
    });
    if wrote_policy {
        let _ = proc::stream(&mut privileged(&["rm", "-f", POLICY_RC_D])?);
    }
    result
}

fn pip_install_missing() -> Result<(), String> {
    let missing: Vec<&str> = PIP
        .iter()
        .filter(|(module, _)| {
            !succeeds(Command::new(python()).args(["-c", &format!("import {module}")]))
        })
        .map(|&(_, pkg)| pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing pip packages: {}", missing.join(" "));
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pip", "install", "--quiet"]).args(&missing);
    if proc::stream(&mut cmd).is_ok() {
        return Ok(());
    }
    // Debian's own python3 is "externally managed" (PEP 668).
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pip", "install", "--quiet", "--break-system-packages"])
        .args(&missing);
    proc::stream(&mut cmd)
}

/// The privilege separation user sisu-sshd's pre-auth processes run as.
pub const PRIVSEP_USER: &str = "sisu-sshd";

/// Create the system user `sisu-sshd` (no home, no shell, locked), as the Debian
/// package will: without it the daemon falls back to `nobody`, and the tests would not
/// see the configuration people run.
pub fn ensure_privsep_user() -> Result<(), String> {
    if succeeds(Command::new("id").args(["-u", PRIVSEP_USER])) {
        return Ok(());
    }
    eprintln!("xtask: creating the privilege separation user {PRIVSEP_USER}");
    proc::stream(Command::new("useradd").args([
        "--system",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        PRIVSEP_USER,
    ]))
}

/// Create `sisutest` (home, /bin/bash, not locked) or unlock it when it exists locked:
/// OpenSSH refuses locked accounts when PAM is off.
pub fn ensure_test_user() -> Result<(), String> {
    if !succeeds(Command::new("id").args(["-u", TEST_USER])) {
        eprintln!("xtask: creating the test user {TEST_USER}");
        return proc::stream(Command::new("useradd").args([
            "-m",
            "-s",
            "/bin/bash",
            "-p",
            "*",
            TEST_USER,
        ]));
    }
    let shadow = fs::read_to_string("/etc/shadow").unwrap_or_default();
    let locked = shadow
        .lines()
        .filter_map(|l| l.split_once(':'))
        .any(|(name, rest)| name == TEST_USER && rest.starts_with('!'));
    if locked {
        proc::stream(Command::new("usermod").args(["-p", "*", TEST_USER]))?;
    }
    Ok(())
}
