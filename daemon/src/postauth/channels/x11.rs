//! X11 forwarding (RFC 4254 §6.3): `x11-req` on a session gives it a display, a TCP
//! port 6000+N the post-auth child listens on (loopback only with `X11UseLocalhost`),
//! `DISPLAY` in the session's environment, and the client's cookie stored with
//! `xauth` for the user before the shell starts (or handed to the rc file). Each
//! connection to the display becomes an `x11` channel to the client, which checks the
//! cookie (its fake one) and replaces it with the real one, as OpenSSH's client does.

use super::listeners::{Listening, Role};
use super::*;
use crate::postauth::listen::{bind_tcp, BindTo, MAX_LISTENERS};

/// How many display numbers are tried from `X11DisplayOffset` on (OpenSSH's
/// `MAX_DISPLAYS`).
const MAX_DISPLAYS: u32 = 1000;
/// Longest protocol name and cookie accepted from the client.
const MAX_X11_STRING: usize = 512;

/// `X11Forwarding` and the settings that go with it.
#[derive(Clone, Debug)]
pub struct X11Settings {
    /// `X11Forwarding yes` and `DisableForwarding no`.
    pub forwarding: bool,
    /// `X11DisplayOffset`.
    pub display_offset: u32,
    /// `X11UseLocalhost`.
    pub use_localhost: bool,
    /// `XAuthLocation`.
    pub xauth_location: std::path::PathBuf,
}

impl Default for X11Settings {
    /// Off.
    fn default() -> Self {
        X11Settings {
            forwarding: false,
            display_offset: 10,
            use_localhost: true,
            xauth_location: "/usr/bin/xauth".into(),
        }
    }
}

/// A session's forwarded display.
#[derive(Clone, Debug)]
pub(super) struct X11Display {
    /// `DISPLAY`: `localhost:N.S` (or `HOSTNAME:N.S` without `X11UseLocalhost`).
    pub display: String,
    /// What xauth stores it as: `unix:N.S` (or `HOSTNAME/unix:N.S`).
    pub auth_display: String,
    /// The authentication protocol (`MIT-MAGIC-COOKIE-1`).
    pub protocol: String,
    /// The client's cookie, in hexadecimal.
    pub cookie: String,
}

/// What xauth accepts as an argument: OpenSSH's `xauth_valid_string`.
fn valid_xauth_string(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_X11_STRING
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:/_".contains(&b))
}

impl Channels {
    /// `x11-req`: whether the session now has a display.
    pub(super) fn x11_request(
        &mut self,
        ch: ChannelId,
        single_connection: bool,
        protocol: &str,
        cookie: &str,
        screen: u32,
    ) -> bool {
        let x = self.settings.x11.clone();
        if !x.forwarding {
            debug!("X11 forwarding disabled in server configuration file.");
            return false;
        }
        if !self.grant.x11_forwarding {
            debug!("X11 forwarding disabled by key options.");
            return false;
        }
        if !x.xauth_location.exists() {
            debug!("No xauth program; cannot forward X11.");
            return false;
        }
        if !valid_xauth_string(protocol) || !valid_xauth_string(cookie) {
            error!("Invalid X11 forwarding data");
            return false;
        }
        match self.session(ch) {
            Some(s) if !s.started && s.x11.is_none() => {}
            Some(s) if s.x11.is_some() => {
                error!("session_x11_req: session {ch}: x11 forwarding already active");
                return false;
            }
            _ => return false,
        }
        if self.listeners.len() >= MAX_LISTENERS {
            return false;
        }
        let to = if x.use_localhost {
            BindTo::Loopback
        } else {
            BindTo::Wildcard
        };
        // How many sockets a display needs here, probed once (not per display tried).
        let needed = expected_binds(&to);
        let mut bound = None;
        for n in x.display_offset..x.display_offset + MAX_DISPLAYS {
            let Ok(port) = u16::try_from(6000 + n) else {
                break;
            };
            // Every address must take the port: a display half in use is skipped.
            match bind_tcp(&to, port) {
                Ok((socks, _)) if socks.len() == needed => {
                    bound = Some((n, socks));
                    break;
                }
                _ => continue,
            }
        }
        let Some((n, socks)) = bound else {
            error!("Failed to allocate internet-domain X11 display socket.");
            return false;
        };
        let host = if x.use_localhost {
            "localhost".to_string()
        } else {
            nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_else(|_| "localhost".into())
        };
        let auth_display = if x.use_localhost {
            format!("unix:{n}.{screen}")
        } else {
            format!("{host}/unix:{n}.{screen}")
        };
        for l in socks {
            self.listeners.push(Listening::tcp(
                Role::X11 {
                    session: ch,
                    single: single_connection,
                },
                l,
            ));
        }
        debug!("channel {ch}: X11 display {n}");
        if let Some(s) = self.session(ch) {
            s.x11 = Some(X11Display {
                display: format!("{host}:{n}.{screen}"),
                auth_display,
                protocol: protocol.to_string(),
                cookie: cookie.to_string(),
            });
        }
        true
    }

    /// The session `ch` is gone: so are its displays.
    pub(super) fn close_x11(&mut self, ch: ChannelId) {
        self.listeners
            .retain(|l| !matches!(l.role, Role::X11 { session, .. } if session == ch));
    }
}

/// How many sockets a display needs: both loopback (or wildcard) addresses where the
/// machine has IPv6, else one.
fn expected_binds(to: &BindTo) -> usize {
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    match to {
        BindTo::Loopback | BindTo::Wildcard if v6 => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xauth_strings_are_checked() {
        assert!(valid_xauth_string("MIT-MAGIC-COOKIE-1"));
        assert!(valid_xauth_string("0123456789abcdef"));
        assert!(!valid_xauth_string(""));
        assert!(!valid_xauth_string("a b"));
        assert!(!valid_xauth_string("a\nadd evil"));
        assert!(!valid_xauth_string(&"a".repeat(MAX_X11_STRING + 1)));
    }
}
