//! Which requests the monitor answers when: a small state machine. Anything else is
//! an attack by a child that should not be able to send it, and ends the connection.

use crate::ipc::ToMonitor;

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The pre-auth child speaks to the network; `user_named` once it said who.
    Preauth {
        /// The first request's user is known.
        user_named: bool,
        /// The monitor's verdict let the user in.
        authenticated: bool,
    },
    /// The post-auth child serves the user.
    Postauth,
}

impl Phase {
    /// Where a connection starts.
    pub const START: Phase = Phase::Preauth {
        user_named: false,
        authenticated: false,
    };

    /// Whether `request` may come now; `Err` says why not.
    pub fn permits(&self, request: &ToMonitor) -> Result<(), &'static str> {
        use ToMonitor as M;
        match (self, request) {
            // Both children log and sign (the first key exchange, then rekeys), and
            // may ask for a group-exchange group.
            (_, M::Log { .. } | M::Sign { .. } | M::GexGroup { .. }) => Ok(()),
            (
                Phase::Preauth {
                    user_named: false,
                    authenticated: false,
                },
                M::User { .. },
            ) => Ok(()),
            (Phase::Preauth { .. }, M::User { .. }) => Err("the user is already named"),
            // Protocol 1's session key comes before the user (once: the monitor
            // refuses a second one itself).
            (
                Phase::Preauth {
                    user_named: false,
                    authenticated: false,
                },
                M::V1SessionKey { .. },
            ) => Ok(()),
            (Phase::Preauth { .. }, M::V1SessionKey { .. }) => Err("the session key comes first"),
            (
                Phase::Preauth {
                    user_named: true,
                    authenticated: false,
                },
                M::KeyOffered { .. }
                | M::KeyVerified(_)
                | M::HostbasedVerified(_)
                | M::Password { .. }
                | M::Methods { .. }
                | M::KbdStart { .. }
                | M::KbdRespond { .. }
                | M::V1RsaKey { .. }
                | M::V1RsaResponse { .. },
            ) => Ok(()),
            (
                Phase::Preauth {
                    authenticated: true,
                    ..
                },
                M::Handover { .. },
            ) => Ok(()),
            (Phase::Preauth { .. }, M::Handover { .. }) => Err("nobody has authenticated"),
            (
                Phase::Preauth { .. },
                M::KeyOffered { .. }
                | M::KeyVerified(_)
                | M::HostbasedVerified(_)
                | M::Password { .. }
                | M::Methods { .. }
                | M::KbdStart { .. }
                | M::KbdRespond { .. }
                | M::V1RsaKey { .. }
                | M::V1RsaResponse { .. },
            ) => Err("no user named, or already authenticated"),
            (Phase::Preauth { .. }, M::Pty { .. } | M::ProveHostKey { .. }) => {
                Err("only after authentication")
            }
            (Phase::Postauth, M::Pty { .. } | M::ProveHostKey { .. }) => Ok(()),
            (Phase::Postauth, _) => Err("authentication is over"),
        }
    }

    /// How log lines name the phase.
    pub fn describe(&self) -> &'static str {
        match self {
            Phase::Preauth { .. } => "before authentication",
            Phase::Postauth => "after authentication",
        }
    }
}

/// One request of each kind, with empty fields (for tests).
#[cfg(test)]
pub(crate) fn every_request() -> Vec<ToMonitor> {
    use sisu_userauth::publickey::SignedRequest;
    vec![
        ToMonitor::Log {
            level: 0,
            line: String::new(),
        },
        ToMonitor::Sign {
            key: 0,
            algorithm: String::new(),
            data: vec![],
        },
        ToMonitor::GexGroup {
            min: 0,
            n: 0,
            max: 0,
        },
        ToMonitor::User {
            user: String::new(),
        },
        ToMonitor::KeyOffered {
            user: String::new(),
            algorithm: String::new(),
            key: vec![],
        },
        ToMonitor::KeyVerified(SignedRequest {
            user: String::new(),
            service: String::new(),
            algorithm: String::new(),
            key_blob: vec![],
            signature: vec![],
        }),
        ToMonitor::HostbasedVerified(sisu_userauth::hostbased::SignedHostbased {
            user: String::new(),
            service: String::new(),
            algorithm: String::new(),
            key_blob: vec![],
            client_host: String::new(),
            client_user: String::new(),
            signature: vec![],
        }),
        ToMonitor::Password {
            user: String::new(),
            password: sisu_userauth::Password::default(),
        },
        ToMonitor::Methods {
            user: String::new(),
        },
        ToMonitor::KbdStart {
            user: String::new(),
            submethods: String::new(),
        },
        ToMonitor::KbdRespond {
            user: String::new(),
            responses: vec![],
        },
        ToMonitor::Handover { state: vec![] },
        ToMonitor::Pty {
            cols: 0,
            rows: 0,
            width_px: 0,
            height_px: 0,
        },
        ToMonitor::ProveHostKey {
            key: vec![],
            algorithm: String::new(),
        },
        ToMonitor::V1SessionKey {
            session_id: vec![],
            encrypted: vec![],
        },
        ToMonitor::V1RsaKey {
            user: String::new(),
            modulus: vec![],
        },
        ToMonitor::V1RsaResponse {
            user: String::new(),
            response: vec![],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn permitted(phase: Phase) -> Vec<&'static str> {
        every_request()
            .iter()
            .filter(|m| phase.permits(m).is_ok())
            .map(|m| m.name())
            .collect()
    }

    #[test]
    fn each_phase_permits_exactly_its_requests() {
        assert_eq!(
            permitted(Phase::START),
            ["log", "sign", "moduli", "user", "protocol 1 session key"]
        );
        let named = Phase::Preauth {
            user_named: true,
            authenticated: false,
        };
        assert_eq!(
            permitted(named),
            [
                "log",
                "sign",
                "moduli",
                "key query",
                "key verify",
                "hostbased verify",
                "password",
                "methods",
                "keyboard-interactive",
                "keyboard-interactive responses",
                "protocol 1 RSA key",
                "protocol 1 RSA response"
            ]
        );
        let in_ = Phase::Preauth {
            user_named: true,
            authenticated: true,
        };
        assert_eq!(permitted(in_), ["log", "sign", "moduli", "handover"]);
        assert_eq!(
            permitted(Phase::Postauth),
            ["log", "sign", "moduli", "pty", "host key proof"]
        );
    }
}
