//! The `keyboard-interactive` method (RFC 4256): the request's fields, the server's
//! SSH_MSG_USERAUTH_INFO_REQUEST and the client's SSH_MSG_USERAUTH_INFO_RESPONSE.
//!
//! ```text
//! SSH_MSG_USERAUTH_REQUEST … "keyboard-interactive"
//!   string    language tag (deprecated, empty)
//!   string    submethods (a hint: "pam", "bsdauth", …)
//!
//! SSH_MSG_USERAUTH_INFO_REQUEST (60)
//!   string    name
//!   string    instruction
//!   string    language tag (empty)
//!   int       num-prompts
//!   string    prompt[1]   boolean echo[1]   …
//!
//! SSH_MSG_USERAUTH_INFO_RESPONSE (61)
//!   int       num-responses (must equal num-prompts)
//!   string    response[1]   …
//! ```
//!
//! What the prompts are is the daemon's business (a PAM conversation, usually). Every
//! count and length a peer controls is bounded: at most [`MAX_PROMPTS`] prompts (PAM's
//! own `PAM_MAX_NUM_MSG`), each response at most
//! [`MAX_PASSWORD_LEN`](crate::limits::MAX_PASSWORD_LEN) bytes, as a password is.

use crate::limits::{MAX_NAME_LEN, MAX_PASSWORD_LEN};
use crate::{AuthError, Password};
use sisu_wire::msg::{SSH_MSG_USERAUTH_INFO_REQUEST, SSH_MSG_USERAUTH_INFO_RESPONSE};
use sisu_wire::{Reader, WireError, Writer};

/// Most prompts in one SSH_MSG_USERAUTH_INFO_REQUEST (and so responses in one
/// SSH_MSG_USERAUTH_INFO_RESPONSE): Linux-PAM's `PAM_MAX_NUM_MSG`.
pub const MAX_PROMPTS: usize = 32;

/// Longest prompt, name or instruction sent, in bytes; longer ones are cut at a
/// character boundary (PAM's messages are at most 512 bytes).
pub const MAX_PROMPT_LEN: usize = 4096;

/// The fields of a `keyboard-interactive` request (RFC 4256 §3.1), borrowing from the
/// payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbdInteractiveRequest<'a> {
    /// The deprecated language tag (RFC 4256 says it should be empty).
    pub language: &'a str,
    /// The comma-separated submethods the client would like (a hint only).
    pub submethods: &'a str,
}

impl<'a> KbdInteractiveRequest<'a> {
    /// Reads the method's fields from `r` (the rest of a USERAUTH_REQUEST).
    pub(crate) fn read(r: &mut Reader<'a>) -> Result<Self, AuthError> {
        let field = |f: &'static str, v: Result<&'a str, WireError>| {
            v.map_err(|error| AuthError::Malformed { field: f, error })
        };
        let language = field("language tag", r.utf8())?;
        let submethods = field("submethods", r.utf8())?;
        if language.len() > MAX_NAME_LEN || submethods.len() > 1024 {
            return Err(AuthError::Malformed {
                field: "submethods",
                error: WireError::TooLong,
            });
        }
        Ok(KbdInteractiveRequest {
            language,
            submethods,
        })
    }

    /// Appends the method's fields, as a client sends them.
    pub(crate) fn write(&self, w: &mut Writer) {
        w.str(self.language).str(self.submethods);
    }
}

/// One prompt of an [`InfoRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The text shown to the user, e.g. `Password: `.
    pub text: String,
    /// Whether the client may echo what the user types (false for secrets).
    pub echo: bool,
}

/// SSH_MSG_USERAUTH_INFO_REQUEST: what the server asks the user (RFC 4256 §3.2). An
/// empty `prompts` list is allowed: the client answers with no responses (RFC 4256
/// §3.4), which is how a message alone is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InfoRequest {
    /// A title, shown by some clients (often empty).
    pub name: String,
    /// Text shown before the prompts (for example what PAM said: "Password expired").
    pub instruction: String,
    /// The questions, at most [`MAX_PROMPTS`].
    pub prompts: Vec<Prompt>,
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl InfoRequest {
    /// The payload, message number included; prompts past [`MAX_PROMPTS`] are left
    /// out and long texts cut to [`MAX_PROMPT_LEN`].
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::msg(SSH_MSG_USERAUTH_INFO_REQUEST);
        w.str(cut(&self.name, MAX_PROMPT_LEN))
            .str(cut(&self.instruction, MAX_PROMPT_LEN))
            .str("");
        let n = self.prompts.len().min(MAX_PROMPTS);
        w.u32(n as u32);
        for p in &self.prompts[..n] {
            w.str(cut(&p.text, MAX_PROMPT_LEN)).bool(p.echo);
        }
        w.into_vec()
    }

    /// How many responses the client must send to it.
    pub fn expected_responses(&self) -> usize {
        self.prompts.len().min(MAX_PROMPTS)
    }

    /// Parses a payload (for clients and tests).
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        if r.u8()? != SSH_MSG_USERAUTH_INFO_REQUEST {
            return Err(WireError::BadValue("not an info request"));
        }
        let name = r.utf8()?.to_owned();
        let instruction = r.utf8()?.to_owned();
        let _language = r.utf8()?;
        let n = r.u32()? as usize;
        if n > MAX_PROMPTS {
            return Err(WireError::TooLong);
        }
        let mut prompts = Vec::with_capacity(n);
        for _ in 0..n {
            let text = r.utf8()?.to_owned();
            let echo = r.bool()?;
            prompts.push(Prompt { text, echo });
        }
        r.finish()?;
        Ok(InfoRequest {
            name,
            instruction,
            prompts,
        })
    }
}

/// Parses SSH_MSG_USERAUTH_INFO_RESPONSE: the responses, each wiped when dropped. The
/// count must be `expected` (RFC 4256 §3.4: "MUST"), each at most
/// [`MAX_PASSWORD_LEN`] bytes, with nothing after them.
pub fn parse_info_response(payload: &[u8], expected: usize) -> Result<Vec<Password>, AuthError> {
    let malformed = |field, error| AuthError::Malformed { field, error };
    let mut r = Reader::new(payload);
    let n = r.u8().map_err(|e| malformed("message number", e))?;
    if n != SSH_MSG_USERAUTH_INFO_RESPONSE {
        return Err(AuthError::UnexpectedMessage(n));
    }
    let count = r.u32().map_err(|e| malformed("num-responses", e))? as usize;
    if count != expected {
        return Err(malformed(
            "num-responses",
            WireError::BadValue("not the number of prompts"),
        ));
    }
    let mut responses = Vec::with_capacity(count.min(MAX_PROMPTS));
    for _ in 0..count {
        let s = r.string().map_err(|e| malformed("response", e))?;
        if s.len() > MAX_PASSWORD_LEN {
            return Err(malformed("response", WireError::TooLong));
        }
        responses.push(Password::new(s));
    }
    r.finish().map_err(|e| malformed("end of message", e))?;
    Ok(responses)
}

/// Encodes SSH_MSG_USERAUTH_INFO_RESPONSE, as a client sends it (for tests).
pub fn encode_info_response(responses: &[&[u8]]) -> Vec<u8> {
    let mut w = Writer::msg(SSH_MSG_USERAUTH_INFO_RESPONSE);
    w.u32(responses.len() as u32);
    for r in responses {
        w.string(r);
    }
    w.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wrong_count_is_refused() {
        let m = encode_info_response(&[b"a", b"b"]);
        assert!(parse_info_response(&m, 2).is_ok());
        assert!(parse_info_response(&m, 1).is_err());
        assert!(parse_info_response(&m, 3).is_err());
    }

    #[test]
    fn huge_count_allocates_nothing_first() {
        let mut w = Writer::msg(SSH_MSG_USERAUTH_INFO_RESPONSE);
        w.u32(u32::MAX);
        assert!(parse_info_response(&w.into_vec(), u32::MAX as usize).is_err());
    }

    #[test]
    fn prompts_past_the_limit_are_not_sent() {
        let req = InfoRequest {
            prompts: vec![
                Prompt {
                    text: "x".into(),
                    echo: false
                };
                MAX_PROMPTS + 5
            ],
            ..Default::default()
        };
        let back = InfoRequest::parse(&req.encode()).unwrap();
        assert_eq!(back.prompts.len(), MAX_PROMPTS);
        assert_eq!(req.expected_responses(), MAX_PROMPTS);
    }

    proptest! {
        #[test]
        fn info_request_round_trip(name in "\\PC{0,20}", instruction in "\\PC{0,40}",
                                   prompts in proptest::collection::vec(("\\PC{0,20}", any::<bool>()), 0..5)) {
            let req = InfoRequest {
                name,
                instruction,
                prompts: prompts.into_iter().map(|(text, echo)| Prompt { text, echo }).collect(),
            };
            prop_assert_eq!(InfoRequest::parse(&req.encode()).unwrap(), req);
        }

        #[test]
        fn info_response_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200),
                                      expected in 0usize..40) {
            let mut p = vec![SSH_MSG_USERAUTH_INFO_RESPONSE];
            p.extend_from_slice(&data);
            let _ = parse_info_response(&p, expected);
        }
    }
}
