//! The conversation functions PAM calls back: [`converse`] hands the messages to the
//! [`super::Transaction`]'s owner over a channel and waits for the answers;
//! [`collect`] (for the session calls, on the caller's thread) keeps what the modules
//! say to show and answers no prompt.
//!
//! Linux-PAM passes `msg` as an array of pointers to messages, and frees the answers
//! with free(3): they are allocated here with calloc/malloc.

use super::{
    Cmd, Conv, Message, PamError, PamMessage, PamResponse, Reply, Step, Style, MAX_MESSAGE,
    MAX_MESSAGES, MAX_RESPONSE, PAM_BUF_ERR, PAM_CONV_ERR, PAM_ERROR_MSG, PAM_PROMPT_ECHO_OFF,
    PAM_PROMPT_ECHO_ON, PAM_SUCCESS, PAM_TEXT_INFO,
};
use std::cell::RefCell;
use std::ffi::{c_int, c_void, CStr};
use zeroize::Zeroizing;

/// The messages of one call, or `None` when they are malformed.
///
/// # Safety
/// `msg` is what PAM passed with `num_msg`.
unsafe fn read_messages(num_msg: c_int, msg: *mut *const PamMessage) -> Option<Vec<Message>> {
    let n = match usize::try_from(num_msg) {
        Ok(n) if (1..=MAX_MESSAGES).contains(&n) => n,
        _ => return None,
    };
    if msg.is_null() {
        return None;
    }
    let mut messages = Vec::with_capacity(n);
    for i in 0..n {
        let m = *msg.add(i);
        if m.is_null() {
            return None;
        }
        let text = if (*m).msg.is_null() {
            String::new()
        } else {
            let bytes = CStr::from_ptr((*m).msg).to_bytes();
            String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_MESSAGE)]).into_owned()
        };
        let style = match (*m).msg_style {
            PAM_PROMPT_ECHO_OFF => Style::EchoOff,
            PAM_PROMPT_ECHO_ON => Style::EchoOn,
            PAM_ERROR_MSG => Style::Error,
            PAM_TEXT_INFO => Style::Info,
            _ => return None,
        };
        messages.push(Message { style, text });
    }
    Some(messages)
}

/// Hands `answers` to PAM through `resp`: a PAM return code.
///
/// # Safety
/// `resp` is what PAM passed.
unsafe fn write_answers(
    resp: *mut *mut PamResponse,
    answers: &[Option<Zeroizing<Vec<u8>>>],
) -> c_int {
    if resp.is_null() {
        return PAM_CONV_ERR;
    }
    let n = answers.len();
    let array = libc::calloc(n, std::mem::size_of::<PamResponse>()) as *mut PamResponse;
    if array.is_null() {
        return PAM_BUF_ERR;
    }
    for (i, a) in answers.iter().enumerate() {
        let Some(a) = a else { continue };
        let bytes = &a[..a.len().min(MAX_RESPONSE)];
        if bytes.contains(&0) {
            free_responses(array, n);
            return PAM_CONV_ERR;
        }
        let p = libc::malloc(bytes.len() + 1) as *mut u8;
        if p.is_null() {
            free_responses(array, n);
            return PAM_BUF_ERR;
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        *p.add(bytes.len()) = 0;
        (*array.add(i)).resp = p.cast();
    }
    *resp = array;
    PAM_SUCCESS
}

/// Frees what [`write_answers`] allocated when it fails half-way (secrets wiped).
///
/// # Safety
/// `array` is a calloc'd array of `n` responses, each NULL or a malloc'd C string.
unsafe fn free_responses(array: *mut PamResponse, n: usize) {
    for i in 0..n {
        let p = (*array.add(i)).resp;
        if !p.is_null() {
            let len = libc::strlen(p);
            std::ptr::write_bytes(p, 0, len);
            libc::free(p.cast());
        }
    }
    libc::free(array.cast());
}

/// The body both conversations share: reads the messages, hands them with the
/// conversation's data (`appdata_ptr` as a `T`) to `answer`, and gives PAM its answers
/// (`None`: the conversation fails). A panic fails the conversation too.
///
/// # Safety
/// `appdata_ptr` is NULL or points to a live `T`; the rest is as PAM passed it.
unsafe fn respond<T>(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
    answer: impl FnOnce(&T, Vec<Message>) -> Option<Vec<Option<Zeroizing<Vec<u8>>>>>,
) -> c_int {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if appdata_ptr.is_null() {
            return PAM_CONV_ERR;
        }
        let data = &*(appdata_ptr as *const T);
        let Some(messages) = read_messages(num_msg, msg) else {
            return PAM_CONV_ERR;
        };
        let n = messages.len();
        match answer(data, messages).filter(|a| a.len() == n) {
            Some(a) => write_answers(resp, &a),
            None => PAM_CONV_ERR,
        }
    }));
    r.unwrap_or(PAM_CONV_ERR)
}

/// The conversation of a [`super::Transaction`]: the messages go to its owner, the
/// answers come back.
pub(super) extern "C" fn converse(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
) -> c_int {
    // SAFETY: appdata_ptr is the `Conv` the worker boxed, alive while it makes calls.
    unsafe {
        respond(num_msg, msg, resp, appdata_ptr, |conv: &Conv, messages| {
            conv.replies
                .send(Reply::Step(Step::Converse(messages)))
                .ok()?;
            loop {
                match conv.cmds.recv() {
                    Ok(Cmd::Answer(a)) => return a,
                    // Nothing else may be asked of the handle while a call is in
                    // progress.
                    Ok(_) => {
                        let _ = conv.replies.send(Reply::Step(Step::Done(Err(PamError {
                            code: PAM_CONV_ERR,
                            text: "a PAM call during a conversation".into(),
                        }))));
                    }
                    Err(_) => return None,
                }
            }
        })
    }
}

/// The conversation of a [`super::LocalTransaction`]: what the modules say is kept (in
/// the `RefCell<Vec<String>>` at `appdata_ptr`); a prompt fails the conversation.
pub(super) extern "C" fn collect(
    num_msg: c_int,
    msg: *mut *const PamMessage,
    resp: *mut *mut PamResponse,
    appdata_ptr: *mut c_void,
) -> c_int {
    // SAFETY: appdata_ptr is the boxed RefCell the LocalTransaction owns.
    unsafe {
        respond(
            num_msg,
            msg,
            resp,
            appdata_ptr,
            |shown: &RefCell<Vec<String>>, messages| {
                if messages.iter().any(|m| m.style.is_prompt()) {
                    return None;
                }
                if let Ok(mut v) = shown.try_borrow_mut() {
                    v.extend(messages.iter().map(|m| m.text.clone()));
                }
                Some(vec![None; messages.len()])
            },
        )
    }
}
