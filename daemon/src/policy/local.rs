//! The answers themselves: what the monitor computes for its children (and tests for
//! an in-process loop). It holds the host keys and checks every signed request again,
//! over the session id it signed, before it lets the rules decide.

use super::pam::{KbdOutcome, PamAuth};
use super::{
    Grant, KbdAnswer, KbdStep, Policy, Progress, Rules, SignedHostbased, SignedRequest, UserAnswer,
    Verdict,
};
use crate::algs::ModuliGroups;
use crate::conn::Endpoints;
use crate::os::{self, Pty, WinSize};
use sisu_kex::hostkey::HostKeyError;
use sisu_kex::moduli::{DhGroup, GroupRequest};
use sisu_kex::{HostKey, HostKeyAlg};
use sisu_userauth::publickey::is_certificate_algorithm;
use sisu_userauth::request::user_without_style;
use sisu_userauth::{Method, Password, SERVICE_CONNECTION};
use sisu_wire::Writer;
use std::io;
use std::os::fd::OwnedFd;

/// Lengths an exchange hash can have (SHA-1, SHA-256, SHA-384, SHA-512): the only data
/// the monitor signs as one.
pub const EXCHANGE_HASH_LENGTHS: [usize; 4] = [20, 32, 48, 64];

/// Most pseudo-terminals one connection holds.
pub const MAX_PTYS: usize = 64;

/// The privileged answers for one connection.
pub struct Local {
    host_keys: Vec<HostKey>,
    moduli: ModuliGroups,
    pub(super) rules: Rules,
    ends: Endpoints,
    session_id: Option<Vec<u8>>,
    pub(super) user: Option<String>,
    pub(super) authenticated: Option<(String, Grant)>,
    /// Each terminal given out: its path, a copy of its master (held so that its
    /// number is not reused before it is given back to root) and its login record.
    ptys: Vec<(String, OwnedFd, Option<os::utmp::Login>)>,
    /// `UsePAM yes`: the transaction, once the user is named.
    pam: Option<PamAuth>,
    /// Protocol 1's keys and questions.
    pub(super) v1: super::v1::V1State,
}

impl Local {
    /// Answers from `rules`, with `host_keys` (in the order the transport serves them)
    /// and the group-exchange groups; signed requests are checked against the user's
    /// `PubkeyAcceptedAlgorithms` (after `Match` blocks).
    pub fn new(
        host_keys: Vec<HostKey>,
        moduli: ModuliGroups,
        rules: Rules,
        ends: Endpoints,
    ) -> Local {
        Local {
            host_keys,
            moduli,
            rules,
            ends,
            session_id: None,
            user: None,
            authenticated: None,
            ptys: Vec::new(),
            pam: None,
            v1: Default::default(),
        }
    }

    /// The session id: the first exchange hash signed.
    pub fn session_id(&self) -> Option<&[u8]> {
        self.session_id.as_deref()
    }

    /// Who authenticated, and what the keys used grant, once a verdict was
    /// [`Verdict::Allow`].
    pub fn authenticated(&self) -> Option<&(String, Grant)> {
        self.authenticated.as_ref()
    }

    /// The user the first request named, once known.
    pub fn user_name(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The host keys, as served.
    pub fn host_keys(&self) -> &[HostKey] {
        &self.host_keys
    }

    /// The rules, for what the monitor itself must know about a user.
    pub fn rules_mut(&mut self) -> &mut Rules {
        &mut self.rules
    }

    /// Gives every terminal handed out back to root (`root:root`, mode 0666, as
    /// OpenSSH's `pty_release`), then lets its number go.
    pub fn release_ptys(&mut self) {
        for (tty, master, login) in self.ptys.drain(..) {
            if let Some(l) = login {
                if let Err(e) = os::utmp::record_logout(&l) {
                    debug!("utmp logout of {tty}: {e}");
                }
            }
            if os::is_root() {
                if let Err(e) = os::release_tty(&tty) {
                    debug!("release {tty}: {e}");
                }
            }
            drop(master);
        }
    }

    /// `UsePAM yes`, once a user is in: opens the PAM session (before the user's
    /// processes start, so that pam_limits' limits reach them). The modules'
    /// environment and messages; `Err` when the session cannot open, which must end
    /// the connection.
    pub fn open_pam_session(&mut self) -> Result<(Vec<String>, String), String> {
        match self.pam.as_mut() {
            Some(p) if self.authenticated.is_some() => p.open_session(),
            _ => Ok((Vec::new(), String::new())),
        }
    }

    /// Closes the PAM session, if one was opened.
    pub fn close_pam_session(&mut self) {
        if let Some(p) = self.pam.as_mut() {
            p.close_session();
        }
    }

    /// Every method needed succeeded: PAM's account check (`UsePAM yes`), then the
    /// user is in.
    pub(super) fn admit(&mut self, user: String, grant: Grant) -> Verdict {
        if let Some(p) = self.pam.as_mut() {
            if !p.account() {
                return Verdict::Deny;
            }
        }
        self.authenticated = Some((user, grant));
        Verdict::Allow
    }

    /// The session id, when a signed request of `user` for `service` may be judged
    /// now: a session exists, the user is the one named, the service is
    /// `ssh-connection`, nobody is in yet.
    fn signed_request_may_come(&self, user: &str, service: &str) -> Option<Vec<u8>> {
        let sid = self.session_id.clone()?;
        (self.is_our_user(user) && service == SERVICE_CONNECTION && self.authenticated.is_none())
            .then_some(sid)
    }

    /// `method` succeeded with `key` (publickey: the user's; hostbased: the host's,
    /// which does not count as a used user key) and `grant`: complete, partial, or
    /// refused.
    fn key_method_succeeded(
        &mut self,
        user: String,
        method: &str,
        key: &ssh_key::PublicKey,
        grant: Grant,
    ) -> Verdict {
        let used = (method == "publickey").then_some(key);
        match self.rules.method_succeeded(&user, method, used, grant) {
            Ok(Progress::Complete(g)) => self.admit(user, g),
            Ok(Progress::Partial) => {
                verbose!(
                    "Partial {method} for {user} from {} ssh2: {} {} [preauth]",
                    self.ends.peer_desc(),
                    super::rules::key_type_label(key),
                    key.fingerprint(Default::default())
                );
                Verdict::Partial
            }
            Err(why) => {
                info!("{why} [preauth]");
                Verdict::Deny
            }
        }
    }

    fn is_our_user(&self, user: &str) -> bool {
        self.user.as_deref() == Some(user)
    }

    /// The password check itself: always one crypt(3) hash, whoever the user is.
    fn check_password(&mut self, user: &str, password: &Password) -> Verdict {
        let account = if self.is_our_user(user) && self.authenticated.is_none() {
            self.rules.password_account(user, password.is_empty())
        } else {
            None
        };
        let right = if let Some(pam) = self.pam.as_mut() {
            let permit_empty = self.rules.permit_empty_passwords(user);
            pam.password(password, account.is_some(), permit_empty)
        } else {
            let stored = match &account {
                Some(u) => match os::stored_password(&u.name) {
                    Ok(h) => h,
                    Err(e) => {
                        error!("password of {}: {e}", u.name);
                        None
                    }
                },
                None => None,
            };
            let permit_empty = account.is_some();
            super::password::check(
                password,
                stored.as_deref().map(|s| s.as_str()),
                permit_empty,
            )
        };
        if !right || account.is_none() {
            return Verdict::Deny;
        }
        match self
            .rules
            .method_succeeded(user, "password", None, Grant::unrestricted("password"))
        {
            Ok(Progress::Complete(g)) => self.admit(user.to_string(), g),
            Ok(Progress::Partial) => {
                verbose!(
                    "Partial password for {user} from {} ssh2 [preauth]",
                    self.ends.peer_desc()
                );
                Verdict::Partial
            }
            Err(why) => {
                info!("{why} [preauth]");
                Verdict::Deny
            }
        }
    }

    /// One keyboard-interactive step, through PAM (there is no other device).
    fn kbd_step(&mut self, user: &str, step: KbdStep) -> KbdAnswer {
        let deny = KbdAnswer::Verdict(Verdict::Deny);
        if !self.is_our_user(user) || self.authenticated.is_some() || self.pam.is_none() {
            return deny;
        }
        let valid = self.rules.kbd_account(user).is_some();
        let permit_empty = self.rules.permit_empty_passwords(user);
        let Some(pam) = self.pam.as_mut() else {
            return deny;
        };
        let outcome = match step {
            KbdStep::Start { .. } => pam.kbd_start(valid, permit_empty),
            KbdStep::Respond(responses) => pam.kbd_respond(responses),
        };
        match outcome {
            KbdOutcome::Prompts(request) => KbdAnswer::Prompts(request),
            KbdOutcome::Refused => deny,
            KbdOutcome::Authenticated if !valid => deny,
            KbdOutcome::Authenticated => {
                let grant = Grant::unrestricted("keyboard-interactive");
                match self
                    .rules
                    .method_succeeded(user, "keyboard-interactive", None, grant)
                {
                    Ok(Progress::Complete(g)) => {
                        KbdAnswer::Verdict(self.admit(user.to_string(), g))
                    }
                    Ok(Progress::Partial) => {
                        verbose!(
                            "Partial keyboard-interactive/pam for {user} from {} ssh2 [preauth]",
                            self.ends.peer_desc()
                        );
                        KbdAnswer::Verdict(Verdict::Partial)
                    }
                    Err(why) => {
                        info!("{why} [preauth]");
                        deny
                    }
                }
            }
        }
    }

    /// What makes the failure delay differ between users without being computable
    /// from outside: the first host key's private half (its public half without one).
    fn delay_secret(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let Some(k) = self.host_keys.first() else {
            return Default::default();
        };
        match k.private_key().and_then(|p| p.to_bytes().ok()) {
            Some(b) => b,
            None => zeroize::Zeroizing::new(k.public_key().to_bytes().unwrap_or_default()),
        }
    }
}

/// The `ExposeAuthInfo` line of a key (or certificate) that authenticated:
/// `publickey TYPE BASE64`, as OpenSSH writes it.
fn publickey_auth_info(blob: &[u8]) -> String {
    use base64::Engine;
    let mut r = sisu_wire::Reader::new(blob);
    let type_name = r.utf8().unwrap_or("unknown");
    format!(
        "publickey {type_name} {}",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

impl Drop for Local {
    fn drop(&mut self) {
        self.release_ptys();
    }
}

impl Policy for Local {
    fn sign(
        &mut self,
        key: usize,
        algorithm: HostKeyAlg,
        data: &[u8],
    ) -> Result<Vec<u8>, HostKeyError> {
        if !EXCHANGE_HASH_LENGTHS.contains(&data.len()) {
            return Err(HostKeyError(format!(
                "{} bytes to sign are no exchange hash",
                data.len()
            )));
        }
        let k = self
            .host_keys
            .get(key)
            .ok_or_else(|| HostKeyError(format!("no host key {key}")))?;
        let sig = k.sign(algorithm, data, &mut rand_core::OsRng)?;
        // The first exchange hash is the session id, for the rest of the connection.
        self.session_id.get_or_insert_with(|| data.to_vec());
        Ok(sig)
    }

    fn group(&mut self, request: GroupRequest) -> Option<DhGroup> {
        request
            .choose(self.moduli.get(), &mut rand_core::OsRng)
            .cloned()
    }

    fn user(&mut self, user: &str) -> UserAnswer {
        match &self.user {
            None => {
                self.user = Some(user.to_string());
                if let Some(service) = self.rules.pam_service(user) {
                    let rhost = self.ends.peer.map(|a| a.ip().to_string());
                    self.pam = Some(PamAuth::new(
                        &service,
                        user,
                        rhost.as_deref().unwrap_or("UNKNOWN"),
                        &self.ends.peer_desc(),
                    ));
                }
            }
            // The user is fixed by the first request.
            Some(u) if u != user => return UserAnswer::default(),
            Some(_) => {}
        }
        let valid = self.rules.user_exists(user);
        let refuse = self.rules.refuses_connection(user);
        let banner = self.rules.banner(user);
        let methods = self.rules.methods(user);
        let pubkey_algorithms = self.rules.pubkey_algorithms(user);
        let hostbased_algorithms = self.rules.hostbased_algorithms(user);
        UserAnswer {
            valid,
            refuse,
            banner,
            methods,
            pubkey_algorithms,
            hostbased_algorithms,
        }
    }

    fn key_offered(&mut self, user: &str, algorithm: &str, key_blob: &[u8]) -> bool {
        if !self.is_our_user(user) || self.authenticated.is_some() {
            return false;
        }
        let Ok((_, key)) = sisu_userauth::publickey::check_key(
            algorithm,
            key_blob,
            &self.rules.pubkey_algorithms(user),
        ) else {
            return false;
        };
        if is_certificate_algorithm(algorithm) {
            return match sisu_authkeys::Cert::from_bytes(key_blob) {
                Ok(cert) => self.rules.check_certificate(user, &cert, false).is_some(),
                Err(_) => false,
            };
        }
        self.rules.check_key(user, &key, false).is_some()
    }

    fn key_verified(&mut self, request: &SignedRequest) -> Verdict {
        let user = user_without_style(&request.user).to_string();
        let Some(session_id) = self.signed_request_may_come(&user, &request.service) else {
            return Verdict::Deny;
        };
        let accepted = self.rules.pubkey_algorithms(&user);
        let key = match request.verify(&session_id, &accepted) {
            Ok(k) => k,
            Err(e) => {
                info!(
                    "monitor: signature of {user} from {} does not verify: {e:?}",
                    self.ends.peer_desc()
                );
                return Verdict::Deny;
            }
        };
        // A security key's flags are checked against the matching line's options.
        self.rules
            .set_sk_signature(sisu_userauth::publickey::sk_details(&request.signature));
        let grant = if is_certificate_algorithm(&request.algorithm) {
            match sisu_authkeys::Cert::from_bytes(&request.key_blob) {
                Ok(cert) => self.rules.check_certificate(&user, &cert, true),
                Err(e) => {
                    info!(
                        "monitor: certificate of {user} from {} refused: {e} [preauth]",
                        self.ends.peer_desc()
                    );
                    None
                }
            }
        } else {
            self.rules.check_key(&user, &key, true)
        };
        self.rules.set_sk_signature(None);
        let Some(mut grant) = grant else {
            return Verdict::Deny;
        };
        grant.auth_info = vec![publickey_auth_info(&request.key_blob)];
        self.key_method_succeeded(user, "publickey", &key, grant)
    }

    fn hostbased_verified(&mut self, request: &SignedHostbased) -> Verdict {
        let user = request.user.clone();
        let Some(session_id) = self.signed_request_may_come(&user, &request.service) else {
            return Verdict::Deny;
        };
        let accepted = self.rules.hostbased_algorithms(&user);
        let key = match request.verify(&session_id, &accepted) {
            Ok(k) => k,
            Err(e) => {
                info!(
                    "monitor: hostbased signature of {user} from {} does not verify: {e:?}",
                    self.ends.peer_desc()
                );
                return Verdict::Deny;
            }
        };
        let Some(grant) =
            self.rules
                .check_hostbased(&user, &request.client_host, &request.client_user, &key)
        else {
            return Verdict::Deny;
        };
        self.key_method_succeeded(user, "hostbased", &key, grant)
    }

    fn v1_session_key(
        &mut self,
        session_id: &[u8; 16],
        encrypted: &[u8],
    ) -> Option<zeroize::Zeroizing<[u8; 32]>> {
        self.answer_v1_session_key(session_id, encrypted)
    }

    fn v1_rsa_key(&mut self, user: &str, modulus: &[u8]) -> Option<Vec<u8>> {
        self.answer_v1_rsa_key(user, modulus)
    }

    fn v1_rsa_response(&mut self, user: &str, response: &[u8; 16]) -> Verdict {
        self.answer_v1_rsa_response(user, response)
    }

    fn password(&mut self, user: &str, password: &Password) -> Verdict {
        let start = std::time::Instant::now();
        let user = user_without_style(user).to_string();
        let verdict = self.check_password(&user, password);
        if verdict == Verdict::Deny {
            super::password::wait_out_failure(&self.delay_secret(), &user, start);
        }
        verdict
    }

    fn kbd_interactive(&mut self, user: &str, step: KbdStep) -> KbdAnswer {
        let start = std::time::Instant::now();
        let user = user_without_style(user).to_string();
        let verdict = self.kbd_step(&user, step);
        if matches!(verdict, KbdAnswer::Verdict(Verdict::Deny)) {
            super::password::wait_out_failure(&self.delay_secret(), &user, start);
        }
        verdict
    }

    fn next_methods(&mut self, user: &str) -> Vec<Method> {
        if !self.is_our_user(user) || self.authenticated.is_some() {
            return Vec::new();
        }
        self.rules.methods(user)
    }

    fn prove_host_key(&mut self, key_blob: &[u8], algorithm: HostKeyAlg) -> Option<Vec<u8>> {
        let session_id = self.session_id.as_ref()?;
        self.authenticated.as_ref()?;
        let key = self
            .host_keys
            .iter()
            .find(|k| k.plain_public_blob() == key_blob)?;
        let mut data = Writer::new();
        data.str(crate::postauth::hostkeys_prove::HOSTKEYS_PROVE)
            .string(session_id)
            .string(key_blob);
        key.sign(algorithm, data.as_slice(), &mut rand_core::OsRng)
            .ok()
    }

    fn pty(&mut self, size: WinSize) -> io::Result<Pty> {
        let refuse = |why: &str| io::Error::new(io::ErrorKind::PermissionDenied, why.to_string());
        let (user, _) = self
            .authenticated
            .clone()
            .ok_or_else(|| refuse("no terminal before authentication"))?;
        if self.ptys.len() >= MAX_PTYS {
            return Err(refuse("too many terminals"));
        }
        let mut pty = os::open_pty(size)?;
        let mut login = None;
        if os::is_root() {
            let info = self
                .rules
                .user(&user)
                .ok_or_else(|| refuse("the user is gone"))?;
            os::chown_tty(&pty.tty_name, info.uid, info.gid)?;
            // utmp, wtmp and lastlog, as sshd writes them for a terminal.
            let l = os::utmp::Login {
                tty: pty.tty_name.clone(),
                user: info.name.clone(),
                uid: info.uid,
                addr: self.ends.peer.map(|a| a.ip()),
                pid: std::process::id() as i32,
            };
            // The previous login, read before this one replaces it (PrintLastLog).
            pty.last_login = os::utmp::last_login_line(info.uid);
            if let Err(e) = os::utmp::record_login(&l) {
                debug!("login records for {}: {e}", pty.tty_name);
            }
            login = Some(l);
        }
        let copy = pty.master.try_clone()?;
        self.ptys.push((pty.tty_name.clone(), copy, login));
        Ok(pty)
    }
}
