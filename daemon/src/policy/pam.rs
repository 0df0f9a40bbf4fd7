//! `UsePAM yes`: what the monitor asks PAM, in OpenSSH's order.
//!
//! - The transaction starts when the first request names the user (an unknown one
//!   too, so that PAM sees and logs the attempt), for the `PAMServiceName` service,
//!   with `PAM_RHOST` the client's address.
//! - **password**: `pam_authenticate`, each echo-off prompt answered with the password
//!   (a password that cannot be right for a user who may not log in this way, as
//!   OpenSSH does, so that PAM takes the same time and logs a failure).
//! - **keyboard-interactive**: `pam_authenticate` with its prompts sent to the client
//!   (RFC 4256), then `pam_acct_mgmt`, and when the password has expired
//!   (`PAM_NEW_AUTHTOK_REQD`) `pam_chauthtok` in the same conversation: the expired
//!   password is changed there, not accepted.
//! - **every method**: `pam_acct_mgmt` once authentication is complete (pam_nologin,
//!   pam_access, expired accounts). An account whose password must change, reached
//!   without keyboard-interactive, is refused: nothing else can change it.
//! - **the session**: `pam_setcred(PAM_ESTABLISH_CRED)` and `pam_open_session` before
//!   the post-auth child starts (so pam_limits' limits are inherited by the user's
//!   processes), `pam_getenvlist` (pam_env) for the sessions' environment, and
//!   `pam_close_session`, `pam_setcred(PAM_DELETE_CRED)` after the child exits.

use crate::os::pam::{
    LocalTransaction, Message, Op, PamError, Step, Style, Transaction, PAM_NEW_AUTHTOK_REQD,
};
use sisu_userauth::kbdint::{InfoRequest, Prompt};
use sisu_userauth::Password;
use zeroize::Zeroizing;

/// What OpenSSH hands PAM instead of the password of a user who may not use one: no
/// hash matches it.
const NEVER_A_PASSWORD: &[u8] = b"\x08\n\r\x7fINCORRECT";

/// Most rounds of prompts in one keyboard-interactive exchange.
const MAX_ROUNDS: u32 = 16;

/// Where a keyboard-interactive exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Authenticate,
    Account,
    ChangePassword,
}

/// A keyboard-interactive exchange in progress.
struct Exchange {
    stage: Stage,
    /// The styles of the messages of the conversation call waiting for answers.
    waiting: Vec<Style>,
    rounds: u32,
    /// Whether the user may log in (else every outcome is a refusal).
    valid: bool,
}

/// The outcome of a keyboard-interactive step.
#[derive(Debug)]
pub enum KbdOutcome {
    /// Send these prompts.
    Prompts(InfoRequest),
    /// PAM authenticated the user and the account may log in.
    Authenticated,
    /// Refused (already logged).
    Refused,
}

/// One connection's PAM transaction and what it has learnt.
pub struct PamAuth {
    service: String,
    user: String,
    rhost: String,
    peer: String,
    tx: Option<Transaction>,
    /// After authentication: the transaction on the monitor's own thread.
    local: Option<LocalTransaction>,
    exchange: Option<Exchange>,
    /// `pam_acct_mgmt` passed within a keyboard-interactive exchange.
    account_ok: bool,
    session_open: bool,
    /// What the modules said to show the user (pam_motd, pam_mail, "password changed").
    messages: Vec<String>,
}

impl PamAuth {
    /// For `user`, whose first request came from `rhost` (`peer`: its description for
    /// log lines). The transaction itself starts at the first question.
    pub fn new(service: &str, user: &str, rhost: &str, peer: &str) -> PamAuth {
        PamAuth {
            service: service.to_string(),
            user: user.to_string(),
            rhost: rhost.to_string(),
            peer: peer.to_string(),
            tx: None,
            local: None,
            exchange: None,
            account_ok: false,
            session_open: false,
            messages: Vec::new(),
        }
    }

    /// The user this transaction is for.
    pub fn user(&self) -> &str {
        &self.user
    }

    fn transaction(&mut self) -> Result<&Transaction, PamError> {
        if self.tx.is_none() {
            let t = Transaction::start(&self.service, &self.user, &self.rhost)?;
            self.tx = Some(t);
        }
        self.tx.as_ref().ok_or_else(|| PamError {
            code: -1,
            text: "no PAM transaction".into(),
        })
    }

    /// A keyboard-interactive exchange left half-way (the client sent another request):
    /// its conversation is failed so that the handle is free again.
    fn abandon_exchange(&mut self) {
        if self.exchange.take().is_none() {
            return;
        }
        if let Some(t) = &self.tx {
            let mut step = t.answer(None);
            for _ in 0..MAX_ROUNDS {
                match step {
                    Ok(Step::Converse(_)) => step = t.answer(None),
                    _ => break,
                }
            }
        }
    }

    /// The `password` method: whether PAM accepts `password` (`valid`: the user may
    /// log in with a password at all; if not, PAM is given a password that cannot be
    /// right).
    pub fn password(&mut self, password: &Password, valid: bool, permit_empty: bool) -> bool {
        self.abandon_exchange();
        let secret: &[u8] = if valid {
            password.expose()
        } else {
            NEVER_A_PASSWORD
        };
        let t = match self.transaction() {
            Ok(t) => t,
            Err(e) => {
                error!("PAM: {e}");
                return false;
            }
        };
        let (r, shown) = t.run(Op::Authenticate { permit_empty }, |m| {
            (m.style == Style::EchoOff).then(|| Zeroizing::new(secret.to_vec()))
        });
        self.messages.extend(shown);
        match r {
            Ok(()) if valid => {
                debug!("PAM: password authentication accepted for {}", self.user);
                true
            }
            Ok(()) => false,
            Err(e) => {
                // As OpenSSH: the "Failed password" line says it.
                debug!(
                    "PAM: password authentication failed for {}: {e}",
                    if valid { &self.user } else { "an illegal user" }
                );
                false
            }
        }
    }

    /// A keyboard-interactive failure: OpenSSH's line (at INFO, without an `error:`
    /// prefix, as OpenSSH writes it), which fail2ban's sshd filter knows.
    fn log_auth_failure(&self, e: &PamError, valid: bool) {
        info!(
            "PAM: {} for {}{} from {}",
            e.text,
            if valid { "" } else { "illegal user " },
            self.user,
            self.rhost
        );
    }

    /// A keyboard-interactive request: starts `pam_authenticate` with its prompts for
    /// the client.
    pub fn kbd_start(&mut self, valid: bool, permit_empty: bool) -> KbdOutcome {
        self.abandon_exchange();
        let step = match self.transaction() {
            Ok(t) => t.call(Op::Authenticate { permit_empty }),
            Err(e) => {
                error!("PAM: {e}");
                return KbdOutcome::Refused;
            }
        };
        self.exchange = Some(Exchange {
            stage: Stage::Authenticate,
            waiting: Vec::new(),
            rounds: 0,
            valid,
        });
        self.advance(step, String::new())
    }

    /// The client's responses to the prompts last sent.
    pub fn kbd_respond(&mut self, responses: Vec<Password>) -> KbdOutcome {
        let Some(ex) = self.exchange.as_mut() else {
            return KbdOutcome::Refused;
        };
        let prompts = ex.waiting.iter().filter(|s| s.is_prompt()).count();
        if prompts != responses.len() {
            self.abandon_exchange();
            return KbdOutcome::Refused;
        }
        let mut given = responses.into_iter();
        let answers: Vec<_> = ex
            .waiting
            .iter()
            .map(|s| {
                if s.is_prompt() {
                    given.next().map(|p| Zeroizing::new(p.expose().to_vec()))
                } else {
                    None
                }
            })
            .collect();
        ex.waiting.clear();
        let step = match &self.tx {
            Some(t) => t.answer(Some(answers)),
            None => return KbdOutcome::Refused,
        };
        self.advance(step, String::new())
    }

    /// Runs the exchange on from `step` until it needs the client or is over;
    /// `info` holds what the modules said since the last prompts.
    fn advance(&mut self, mut step: Result<Step, PamError>, mut info: String) -> KbdOutcome {
        for _ in 0..64 {
            let Some(ex) = self.exchange.as_mut() else {
                return KbdOutcome::Refused;
            };
            match step {
                Ok(Step::Converse(msgs)) if msgs.iter().any(|m| m.style.is_prompt()) => {
                    ex.rounds += 1;
                    if ex.rounds > MAX_ROUNDS {
                        self.abandon_exchange();
                        return KbdOutcome::Refused;
                    }
                    ex.waiting = msgs.iter().map(|m| m.style).collect();
                    return KbdOutcome::Prompts(info_request(&msgs, info));
                }
                Ok(Step::Converse(msgs)) => {
                    // Only messages: kept for the next prompts, answered at once.
                    for m in &msgs {
                        push_line(&mut info, &m.text);
                    }
                    let answers = vec![None; msgs.len()];
                    step = match &self.tx {
                        Some(t) => t.answer(Some(answers)),
                        None => return KbdOutcome::Refused,
                    };
                }
                Ok(Step::Done(r)) => {
                    let stage = ex.stage;
                    let valid = ex.valid;
                    let next = match (stage, r) {
                        (Stage::Authenticate, Ok(())) if valid => Op::AcctMgmt,
                        (Stage::Authenticate, Ok(())) => return self.refuse(info),
                        (Stage::Authenticate, Err(e)) => {
                            self.log_auth_failure(&e, valid);
                            return self.refuse(info);
                        }
                        (Stage::Account, Err(e)) if e.code == PAM_NEW_AUTHTOK_REQD => {
                            info!("PAM: password of {} has expired: changing it", self.user);
                            Op::ChangeExpiredAuthtok
                        }
                        (Stage::Account, Err(e)) => {
                            self.log_account_refusal(&e);
                            return self.refuse(info);
                        }
                        (Stage::ChangePassword, Err(e)) => {
                            error!("PAM: pam_chauthtok() failed for {}: {e}", self.user);
                            return self.refuse(info);
                        }
                        (Stage::Account | Stage::ChangePassword, Ok(())) => {
                            self.exchange = None;
                            self.account_ok = true;
                            if !info.is_empty() {
                                self.messages.push(info);
                            }
                            return KbdOutcome::Authenticated;
                        }
                    };
                    if let Some(ex) = self.exchange.as_mut() {
                        ex.stage = match next {
                            Op::AcctMgmt => Stage::Account,
                            _ => Stage::ChangePassword,
                        };
                    }
                    step = match &self.tx {
                        Some(t) => t.call(next),
                        None => return KbdOutcome::Refused,
                    };
                }
                Err(e) => {
                    error!("PAM: {e}");
                    return self.refuse(info);
                }
            }
        }
        self.abandon_exchange();
        KbdOutcome::Refused
    }

    fn refuse(&mut self, info: String) -> KbdOutcome {
        self.exchange = None;
        if !info.is_empty() {
            debug!("PAM said to {}: {info}", self.user);
        }
        KbdOutcome::Refused
    }

    fn log_account_refusal(&self, e: &PamError) {
        error!(
            "Access denied for user {} by PAM account configuration: {e} [preauth]",
            self.user
        );
    }

    /// `pam_acct_mgmt`, once every method needed succeeded (unless a
    /// keyboard-interactive exchange did it): whether the account may log in now.
    pub fn account(&mut self) -> bool {
        if self.account_ok {
            return true;
        }
        self.abandon_exchange();
        let t = match self.transaction() {
            Ok(t) => t,
            Err(e) => {
                error!("PAM: {e}");
                return false;
            }
        };
        let (r, shown) = t.run(Op::AcctMgmt, |_| None);
        self.messages.extend(shown);
        match r {
            Ok(()) => {
                self.account_ok = true;
                true
            }
            Err(e) if e.code == PAM_NEW_AUTHTOK_REQD => {
                info!(
                    "PAM: password of {} from {} has expired; it can only be changed with keyboard-interactive: refused [preauth]",
                    self.user, self.peer
                );
                false
            }
            Err(e) => {
                self.log_account_refusal(&e);
                false
            }
        }
    }

    /// `pam_setcred(PAM_ESTABLISH_CRED)` and `pam_open_session`: the modules'
    /// environment and what they said (pam_motd's message of the day), or why the
    /// session cannot open (the login must then be refused, as OpenSSH's is).
    pub fn open_session(&mut self) -> Result<(Vec<String>, String), String> {
        self.abandon_exchange();
        self.transaction().map_err(|e| e.to_string())?;
        let tx = self.tx.take().ok_or("no PAM transaction")?;
        let t = self
            .local
            .insert(tx.into_local().map_err(|e| e.to_string())?);
        let (r, mut shown) = t.run(Op::EstablishCred);
        r.map_err(|e| format!("pam_setcred(): {e}"))?;
        let (r, more) = t.run(Op::OpenSession);
        shown.extend(more);
        r.map_err(|e| format!("pam_open_session(): {e}"))?;
        let env = t.env();
        self.session_open = true;
        let mut text = String::new();
        for m in self.messages.drain(..).chain(shown) {
            push_line(&mut text, &m);
        }
        Ok((env, text))
    }

    /// After the session: `pam_close_session` and `pam_setcred(PAM_DELETE_CRED)`.
    pub fn close_session(&mut self) {
        if !std::mem::take(&mut self.session_open) {
            return;
        }
        if let Some(t) = self.local.as_mut() {
            if let (Err(e), _) = t.run(Op::CloseSession) {
                debug!("PAM: pam_close_session(): {e}");
            }
            if let (Err(e), _) = t.run(Op::DeleteCred) {
                debug!("PAM: pam_setcred(PAM_DELETE_CRED): {e}");
            }
        }
    }
}

impl Drop for PamAuth {
    fn drop(&mut self) {
        self.close_session();
    }
}

/// `line` added to `text` on a line of its own.
fn push_line(text: &mut String, line: &str) {
    if line.is_empty() {
        return;
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
}

/// The INFO_REQUEST for one conversation call: its messages become the instruction
/// (after what was said before), its prompts the prompts.
fn info_request(msgs: &[Message], mut instruction: String) -> InfoRequest {
    let mut prompts = Vec::new();
    for m in msgs {
        if m.style.is_prompt() {
            prompts.push(Prompt {
                text: m.text.clone(),
                echo: m.style == Style::EchoOn,
            });
        } else {
            push_line(&mut instruction, &m.text);
        }
    }
    if !instruction.is_empty() && !instruction.ends_with('\n') {
        instruction.push('\n');
    }
    InfoRequest {
        name: String::new(),
        instruction,
        prompts,
    }
}
