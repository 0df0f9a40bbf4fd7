//! PAM, through the system's Linux-PAM (`libpam.so.0`): one [`Transaction`] per
//! connection, run on a thread of its own so that a conversation can wait for a
//! client's answer while the monitor goes on serving its child.
//!
//! The bindings are written here by hand, a dozen functions of `<security/pam_appl.h>`.
//! The PAM crates (`pam-sys`, `pam-client`, `nonstick`) link with `-lpam`, which needs
//! `libpam0g-dev` (the `libpam.so` link) when the daemon is built; linking the runtime
//! library by its file name (`libpam.so.0`, in Debian's `libpam0g`, which every Debian
//! system has) keeps `cargo build` working on a machine with no -dev package.
//!
//! How a call runs: [`Transaction::call`] hands an [`Op`] to the thread and returns
//! the first [`Step`]: either [`Step::Converse`], the messages a module wants shown or
//! answered (answer them with [`Transaction::answer`], which returns the next step),
//! or [`Step::Done`] with the call's result. Dropping the transaction ends it
//! (`pam_end`): a conversation still waiting is answered with `PAM_CONV_ERR`.

mod conv;
mod local;

pub use local::LocalTransaction;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::time::Duration;
use zeroize::Zeroizing;

const PAM_SUCCESS: c_int = 0;
const PAM_CONV_ERR: c_int = 19;
const PAM_BUF_ERR: c_int = 5;
/// `pam_acct_mgmt`: the account is valid but its password must be changed.
pub const PAM_NEW_AUTHTOK_REQD: c_int = 12;
/// The item codes of `pam_set_item` that Sisu sets.
const PAM_TTY: c_int = 3;
const PAM_RHOST: c_int = 4;
const PAM_CONV: c_int = 5;
const PAM_RUSER: c_int = 8;

const PAM_SILENT: c_int = 0x8000;
const PAM_DISALLOW_NULL_AUTHTOK: c_int = 0x0001;
const PAM_ESTABLISH_CRED: c_int = 0x0002;
const PAM_DELETE_CRED: c_int = 0x0004;
const PAM_CHANGE_EXPIRED_AUTHTOK: c_int = 0x0020;

const PAM_PROMPT_ECHO_OFF: c_int = 1;
const PAM_PROMPT_ECHO_ON: c_int = 2;
const PAM_ERROR_MSG: c_int = 3;
const PAM_TEXT_INFO: c_int = 4;
/// `PAM_MAX_NUM_MSG`: most messages in one conversation call.
const MAX_MESSAGES: usize = 32;
/// `PAM_MAX_RESP_SIZE`: longest answer handed to a module.
const MAX_RESPONSE: usize = 512;
/// Longest message text taken from a module.
const MAX_MESSAGE: usize = 4096;
/// Most environment variables taken from `pam_getenvlist`.
const MAX_ENV: usize = 256;

#[repr(C)]
struct PamMessage {
    msg_style: c_int,
    msg: *const c_char,
}

#[repr(C)]
struct PamResponse {
    resp: *mut c_char,
    resp_retcode: c_int,
}

type ConvFn = extern "C" fn(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
) -> c_int;

#[repr(C)]
struct PamConv {
    conv: ConvFn,
    appdata_ptr: *mut c_void,
}

#[repr(C)]
struct PamHandle {
    _opaque: [u8; 0],
}

#[link(name = "libpam.so.0", kind = "dylib", modifiers = "+verbatim")]
extern "C" {
    fn pam_start(
        service: *const c_char,
        user: *const c_char,
        conv: *const PamConv,
        pamh: *mut *mut PamHandle,
    ) -> c_int;
    fn pam_end(pamh: *mut PamHandle, status: c_int) -> c_int;
    fn pam_set_item(pamh: *mut PamHandle, item: c_int, value: *const c_void) -> c_int;
    fn pam_authenticate(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_acct_mgmt(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_chauthtok(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_setcred(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_open_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_close_session(pamh: *mut PamHandle, flags: c_int) -> c_int;
    fn pam_getenvlist(pamh: *mut PamHandle) -> *mut *mut c_char;
    fn pam_strerror(pamh: *mut PamHandle, errnum: c_int) -> *const c_char;
}

/// How a module wants a message shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A question whose answer must not be echoed (a password).
    EchoOff,
    /// A question whose answer may be echoed.
    EchoOn,
    /// An error to show; no answer.
    Error,
    /// Information to show; no answer.
    Info,
}

impl Style {
    /// Whether the message asks for an answer.
    pub fn is_prompt(self) -> bool {
        matches!(self, Style::EchoOff | Style::EchoOn)
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// How to show it.
    pub style: Style,
    /// Its text (invalid UTF-8 replaced).
    pub text: String,
}

/// A PAM call (the flags are Sisu's choice, as OpenSSH's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `pam_authenticate`, with `PAM_DISALLOW_NULL_AUTHTOK` unless empty passwords
    /// are permitted.
    Authenticate {
        /// `PermitEmptyPasswords`.
        permit_empty: bool,
    },
    /// `pam_acct_mgmt`: whether the account may log in now.
    AcctMgmt,
    /// `pam_chauthtok(PAM_CHANGE_EXPIRED_AUTHTOK)`: change an expired password.
    ChangeExpiredAuthtok,
    /// `pam_setcred(PAM_ESTABLISH_CRED)`.
    EstablishCred,
    /// `pam_setcred(PAM_DELETE_CRED)`.
    DeleteCred,
    /// `pam_open_session`.
    OpenSession,
    /// `pam_close_session`.
    CloseSession,
}

/// A PAM call that did not return `PAM_SUCCESS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamError {
    /// The return code (`PAM_AUTH_ERR`, `PAM_NEW_AUTHTOK_REQD`, …).
    pub code: i32,
    /// `pam_strerror`'s text for it.
    pub text: String,
}

impl std::fmt::Display for PamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where a call is.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A module is waiting for these messages to be answered.
    Converse(Vec<Message>),
    /// The call returned.
    Done(Result<(), PamError>),
}

/// Answers to a conversation: one per message (`None` for those that ask nothing),
/// or `None` to fail the conversation.
pub type Answers = Option<Vec<Option<Zeroizing<Vec<u8>>>>>;

enum Cmd {
    Call(Op),
    /// Answers to the conversation in progress: one per message (`None` for those
    /// that ask nothing), or `None` to fail it.
    Answer(Answers),
    SetItem(c_int, CString),
    GetEnv,
    /// Give the handle up to the owner's thread (see [`Transaction::into_local`]).
    Release,
}

enum Reply {
    Step(Step),
    Env(Vec<String>),
    /// The handle (as an address) and the last call's status.
    Released(usize, c_int),
}

/// What the conversation function reaches through `appdata_ptr`.
struct Conv {
    cmds: Receiver<Cmd>,
    replies: Sender<Reply>,
}

/// One PAM transaction (`pam_start` … `pam_end`) on its own thread.
pub struct Transaction {
    cmds: SyncSender<Cmd>,
    replies: Receiver<Reply>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How long a call may take before the transaction is given up on (a module that
/// never returns); conversations wait for the client without this bound, the
/// caller's `LoginGraceTime` bounds them.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

impl Transaction {
    /// `pam_start(service, user)`, with `PAM_RHOST` set to `rhost` and `PAM_TTY` to
    /// `ssh` (as OpenSSH does on Linux, for modules that want a terminal name before
    /// there is one).
    pub fn start(service: &str, user: &str, rhost: &str) -> Result<Transaction, PamError> {
        let bad = |what: &str| PamError {
            code: -1,
            text: format!("{what} contains a NUL byte"),
        };
        let service = CString::new(service).map_err(|_| bad("the service name"))?;
        let user = CString::new(user).map_err(|_| bad("the user name"))?;
        let rhost = CString::new(rhost).map_err(|_| bad("the remote host"))?;
        let (cmd_tx, cmd_rx) = mpsc::sync_channel(1);
        let (reply_tx, reply_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("pam".into())
            .spawn(move || worker(service, user, rhost, cmd_rx, reply_tx))
            .map_err(|e| PamError {
                code: -1,
                text: format!("cannot start the PAM thread: {e}"),
            })?;
        let t = Transaction {
            cmds: cmd_tx,
            replies: reply_rx,
            thread: Some(thread),
        };
        match t.next()? {
            Reply::Step(Step::Done(Ok(()))) => Ok(t),
            Reply::Step(Step::Done(Err(e))) => Err(e),
            _ => Err(gone()),
        }
    }

    /// Starts `op`: its first step.
    pub fn call(&self, op: Op) -> Result<Step, PamError> {
        self.send(Cmd::Call(op))?;
        self.step()
    }

    /// Answers the conversation in progress (one answer per message of the last
    /// [`Step::Converse`], `None` for those that ask nothing), or fails it with
    /// `None`: the call's next step.
    pub fn answer(&self, answers: Answers) -> Result<Step, PamError> {
        self.send(Cmd::Answer(answers))?;
        self.step()
    }

    /// `pam_set_item(PAM_TTY)`.
    pub fn set_tty(&self, tty: &str) -> Result<(), PamError> {
        self.set_item(PAM_TTY, tty)
    }

    /// `pam_set_item(PAM_RUSER)`.
    pub fn set_ruser(&self, ruser: &str) -> Result<(), PamError> {
        self.set_item(PAM_RUSER, ruser)
    }

    fn set_item(&self, item: c_int, value: &str) -> Result<(), PamError> {
        let v = CString::new(value).map_err(|_| PamError {
            code: -1,
            text: "an item with a NUL byte".into(),
        })?;
        self.send(Cmd::SetItem(item, v))?;
        match self.step()? {
            Step::Done(r) => r,
            Step::Converse(_) => Err(gone()),
        }
    }

    /// `pam_getenvlist`: the `NAME=value` strings the modules set (pam_env's).
    pub fn env(&self) -> Result<Vec<String>, PamError> {
        self.send(Cmd::GetEnv)?;
        match self.next()? {
            Reply::Env(v) => Ok(v),
            _ => Err(gone()),
        }
    }

    /// Runs `op` with every prompt answered by `answer` (its `None` fails the
    /// conversation) and the messages to show collected: the call's result, and those
    /// messages.
    pub fn run(
        &self,
        op: Op,
        mut answer: impl FnMut(&Message) -> Option<Zeroizing<Vec<u8>>>,
    ) -> (Result<(), PamError>, Vec<String>) {
        let mut shown = Vec::new();
        let mut step = self.call(op);
        for _ in 0..64 {
            match step {
                Ok(Step::Done(r)) => return (r, shown),
                Err(e) => return (Err(e), shown),
                Ok(Step::Converse(msgs)) => {
                    let mut answers = Some(Vec::with_capacity(msgs.len()));
                    for m in &msgs {
                        let a = if m.style.is_prompt() {
                            match answer(m) {
                                Some(a) => Some(a),
                                None => {
                                    answers = None;
                                    break;
                                }
                            }
                        } else {
                            shown.push(m.text.clone());
                            None
                        };
                        if let Some(v) = answers.as_mut() {
                            v.push(a);
                        }
                    }
                    step = self.answer(answers);
                }
            }
        }
        // A module that keeps asking: fail its conversation until it returns.
        loop {
            match self.answer(None) {
                Ok(Step::Done(r)) => return (r, shown),
                Ok(Step::Converse(_)) => continue,
                Err(e) => return (Err(e), shown),
            }
        }
    }

    /// Brings the transaction to the calling thread: for the session calls, which some
    /// modules can only make from the process's main thread (pam_loginuid writes
    /// `/proc/self/loginuid`, which the kernel lets only the thread group's leader
    /// write). No conversation may be in progress.
    pub fn into_local(mut self) -> Result<LocalTransaction, PamError> {
        self.send(Cmd::Release)?;
        let (addr, last) = match self.next()? {
            Reply::Released(addr, last) => (addr, last),
            _ => return Err(gone()),
        };
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // SAFETY: the worker handed the handle over and returned without using it
        // again; it is valid until pam_end.
        Ok(unsafe { LocalTransaction::new(addr as *mut PamHandle, last) })
    }

    fn send(&self, c: Cmd) -> Result<(), PamError> {
        self.cmds.send(c).map_err(|_| gone())
    }

    fn step(&self) -> Result<Step, PamError> {
        match self.next()? {
            Reply::Step(s) => Ok(s),
            Reply::Env(_) | Reply::Released(..) => Err(gone()),
        }
    }

    fn next(&self) -> Result<Reply, PamError> {
        match self.replies.recv_timeout(CALL_TIMEOUT) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => Err(PamError {
                code: -1,
                text: "a PAM module did not return".into(),
            }),
            Err(RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }
}

impl Drop for Transaction {
    /// Ends the transaction: a conversation in progress fails, then `pam_end` runs.
    /// Waits for the thread at most a few seconds.
    fn drop(&mut self) {
        let (tx, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.cmds, tx));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        if let Some(t) = self.thread.take() {
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

fn gone() -> PamError {
    PamError {
        code: -1,
        text: "the PAM thread is gone".into(),
    }
}

fn strerror(pamh: *mut PamHandle, code: c_int) -> String {
    // SAFETY: pam_strerror returns a pointer to a static (or handle-owned) C string,
    // or NULL; it is copied at once.
    let p = unsafe { pam_strerror(pamh, code) };
    if p.is_null() {
        return format!("PAM error {code}");
    }
    // SAFETY: non-NULL and NUL-terminated, as pam_strerror promises.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn result(pamh: *mut PamHandle, code: c_int) -> Result<(), PamError> {
    if code == PAM_SUCCESS {
        Ok(())
    } else {
        Err(PamError {
            code,
            text: strerror(pamh, code),
        })
    }
}

/// The thread that owns the handle: every PAM call runs here.
fn worker(
    service: CString,
    user: CString,
    rhost: CString,
    cmds: Receiver<Cmd>,
    replies: Sender<Reply>,
) {
    let conv_data = Box::new(Conv { cmds, replies });
    let conv = PamConv {
        conv: conv::converse,
        appdata_ptr: (&*conv_data as *const Conv).cast_mut().cast(),
    };
    let mut pamh: *mut PamHandle = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and `conv` outlives the handle (both live
    // until this function returns, after pam_end). PAM copies the pam_conv struct.
    let rc = unsafe { pam_start(service.as_ptr(), user.as_ptr(), &conv, &mut pamh) };
    if rc != PAM_SUCCESS || pamh.is_null() {
        let text = strerror(pamh, rc);
        let _ = conv_data
            .replies
            .send(Reply::Step(Step::Done(Err(PamError { code: rc, text }))));
        return;
    }
    let tty = c"ssh";
    // SAFETY: the handle is valid; PAM copies the strings.
    let rc = unsafe {
        let rc = pam_set_item(pamh, PAM_RHOST, rhost.as_ptr().cast());
        if rc == PAM_SUCCESS {
            pam_set_item(pamh, PAM_TTY, tty.as_ptr().cast())
        } else {
            rc
        }
    };
    let _ = conv_data
        .replies
        .send(Reply::Step(Step::Done(result(pamh, rc))));
    let mut last = rc;
    while let Ok(cmd) = conv_data.cmds.recv() {
        let reply = match cmd {
            Cmd::Call(op) => {
                // SAFETY: the handle is valid until pam_end below; calls are made
                // from this thread only, one at a time.
                let rc = unsafe { call(pamh, op) };
                last = rc;
                Reply::Step(Step::Done(result(pamh, rc)))
            }
            Cmd::SetItem(item, value) => {
                // SAFETY: valid handle; PAM copies the string.
                let rc = unsafe { pam_set_item(pamh, item, value.as_ptr().cast()) };
                Reply::Step(Step::Done(result(pamh, rc)))
            }
            Cmd::GetEnv => Reply::Env(env_list(pamh)),
            Cmd::Release => {
                // The conversation data goes with this thread: the new owner sets its
                // own conversation before any call.
                let _ = conv_data.replies.send(Reply::Released(pamh as usize, last));
                return;
            }
            // An answer with no conversation in progress: said so, nothing done.
            Cmd::Answer(_) => Reply::Step(Step::Done(Err(PamError {
                code: PAM_CONV_ERR,
                text: "no conversation in progress".into(),
            }))),
        };
        if conv_data.replies.send(reply).is_err() {
            break;
        }
    }
    // SAFETY: the handle is valid and not used after this.
    unsafe { pam_end(pamh, last) };
    drop(conv_data);
}

/// Makes the PAM call of `op` (flags as OpenSSH's).
///
/// # Safety
/// `pamh` is a valid handle, used by no other thread meanwhile.
unsafe fn call(pamh: *mut PamHandle, op: Op) -> c_int {
    match op {
        Op::Authenticate { permit_empty } => pam_authenticate(
            pamh,
            if permit_empty {
                0
            } else {
                PAM_DISALLOW_NULL_AUTHTOK
            },
        ),
        Op::AcctMgmt => pam_acct_mgmt(pamh, 0),
        Op::ChangeExpiredAuthtok => pam_chauthtok(pamh, PAM_CHANGE_EXPIRED_AUTHTOK),
        Op::EstablishCred => pam_setcred(pamh, PAM_ESTABLISH_CRED),
        Op::DeleteCred => pam_setcred(pamh, PAM_DELETE_CRED | PAM_SILENT),
        Op::OpenSession => pam_open_session(pamh, 0),
        Op::CloseSession => pam_close_session(pamh, PAM_SILENT),
    }
}

/// `pam_getenvlist`, copied and freed.
fn env_list(pamh: *mut PamHandle) -> Vec<String> {
    // SAFETY: valid handle; the list is NULL-terminated, each entry and the list
    // itself malloc'd and ours to free.
    unsafe {
        let list = pam_getenvlist(pamh);
        if list.is_null() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            let entry = *list.add(i);
            if entry.is_null() {
                break;
            }
            if out.len() < MAX_ENV {
                out.push(CStr::from_ptr(entry).to_string_lossy().into_owned());
            }
            libc::free(entry.cast());
            i += 1;
        }
        libc::free(list.cast());
        out
    }
}
