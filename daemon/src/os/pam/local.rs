//! [`LocalTransaction`]: a PAM transaction used from the thread that holds it, for
//! the calls after authentication (credentials, the session), whose conversations
//! only show messages.

use super::conv::collect;
use super::{
    call, env_list, pam_end, pam_set_item, result, Op, PamConv, PamError, PamHandle, PAM_CONV,
};
use std::cell::RefCell;
use std::ffi::c_int;

/// A PAM handle on the calling thread (see [`super::Transaction::into_local`]). Not
/// `Send`: every call, and `pam_end` when it is dropped, run on that thread.
pub struct LocalTransaction {
    pamh: *mut PamHandle,
    /// What the modules said, filled by the conversation.
    shown: Box<RefCell<Vec<String>>>,
    /// The conversation PAM was given (PAM keeps a copy; kept for its lifetime).
    _conv: Box<PamConv>,
    last: c_int,
}

impl LocalTransaction {
    /// Takes `pamh` over and gives it a conversation that keeps messages and answers
    /// no prompt.
    ///
    /// # Safety
    /// `pamh` is a valid handle that nothing else uses from now on.
    pub(super) unsafe fn new(pamh: *mut PamHandle, last: c_int) -> LocalTransaction {
        let shown = Box::new(RefCell::new(Vec::new()));
        let conv = Box::new(PamConv {
            conv: collect,
            appdata_ptr: (&*shown as *const RefCell<Vec<String>>).cast_mut().cast(),
        });
        let mut t = LocalTransaction {
            pamh,
            shown,
            _conv: conv,
            last,
        };
        let rc = pam_set_item(t.pamh, PAM_CONV, (&*t._conv as *const PamConv).cast());
        if rc != 0 {
            // Without our conversation the old one's data is gone: no call may be
            // made. Every call then fails.
            t.pamh = std::ptr::null_mut();
            pam_end(pamh, rc);
        }
        t
    }

    /// Makes the call `op`: its result, and what the modules said meanwhile.
    pub fn run(&mut self, op: Op) -> (Result<(), PamError>, Vec<String>) {
        if self.pamh.is_null() {
            return (
                Err(PamError {
                    code: -1,
                    text: "the PAM conversation could not be set".into(),
                }),
                Vec::new(),
            );
        }
        // SAFETY: the handle is valid and used from this thread only.
        let rc = unsafe { call(self.pamh, op) };
        self.last = rc;
        let shown = std::mem::take(&mut *self.shown.borrow_mut());
        (result(self.pamh, rc), shown)
    }

    /// `pam_getenvlist`: the `NAME=value` strings the modules set.
    pub fn env(&self) -> Vec<String> {
        if self.pamh.is_null() {
            return Vec::new();
        }
        env_list(self.pamh)
    }
}

impl Drop for LocalTransaction {
    fn drop(&mut self) {
        if !self.pamh.is_null() {
            // SAFETY: valid handle, not used after this.
            unsafe { pam_end(self.pamh, self.last) };
        }
    }
}
