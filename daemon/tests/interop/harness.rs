//! The test list's machinery: one [`libtest_mimic::Trial`] per test function, ignored
//! (with the reason shown) when a requirement is not met.

use crate::common::{is_root, ServerKind};
use libtest_mimic::{Failed, Trial};

/// Something a test needs in order to run at all.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// The server under test is `sisu-sshd` (the test checks something OpenSSH's sshd
    /// does not have, such as `-Q`).
    Sisu,
    /// The tests run as root (to create users, or for the daemon to switch to one).
    Root,
    /// A peer program on `PATH` (or an absolute path).
    Program(&'static str),
    /// A file the peer needs (a filter definition, a library).
    File(&'static str),
    /// A Python module the peer script imports (paramiko, asyncssh).
    PyModule(&'static str),
}

impl Need {
    /// Why the requirement is not met, or `None` when it is; `true` in the pair when
    /// it is a missing peer (which `SISU_TEST_REQUIRE_PEERS=1` turns into a failure).
    fn unmet(self) -> Option<(String, bool)> {
        match self {
            Need::Sisu if ServerKind::from_env() != ServerKind::Sisu => {
                Some(("only sisu-sshd has this".into(), false))
            }
            Need::Root if !is_root() => Some(("needs root".into(), false)),
            Need::Program(p) if crate::common::which(p).is_none() => {
                Some((format!("peer {p} is not installed"), true))
            }
            Need::File(f) if !std::path::Path::new(f).exists() => {
                Some((format!("{f} is missing"), true))
            }
            Need::PyModule(m) if !python_has(m) => {
                Some((format!("python module {m} is not installed"), true))
            }
            _ => None,
        }
    }
}

/// Whether `python3` can import `module`.
fn python_has(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The trial for `test`, which needs `needs`.
pub fn trial(name: &str, test: fn(), needs: &[Need]) -> Trial {
    let unmet: Vec<(String, bool)> = needs.iter().filter_map(|n| n.unmet()).collect();
    let strict = std::env::var_os("SISU_TEST_REQUIRE_PEERS").is_some_and(|v| v == "1");
    if let Some((why, _)) = unmet.iter().find(|(_, peer)| *peer && strict) {
        let why = why.clone();
        return Trial::test(name, move || {
            Err(Failed::from(format!(
                "{why} (SISU_TEST_REQUIRE_PEERS=1; `cargo xtask deps` installs it)"
            )))
        });
    }
    if let Some((why, _)) = unmet.first() {
        return Trial::test(name, || Ok(()))
            .with_ignored_flag(true)
            .with_kind(format!("skipped: {why}"));
    }
    Trial::test(name, move || {
        test();
        Ok(())
    })
}

/// `trials![module::test => [Need, ...], ...]`: the trials of these test functions,
/// named `module::test` as the built-in harness would name them.
#[macro_export]
macro_rules! trials {
    ($($module:ident :: $name:ident $(=> [$($need:expr),* $(,)?])?),* $(,)?) => {
        vec![$(
            $crate::harness::trial(
                concat!(stringify!($module), "::", stringify!($name)),
                $module::$name,
                &[$($($need),*)?],
            ),
        )*]
    };
}
