//! The keyboard-interactive exchange of [`Server`] (RFC 4256 §3): a request becomes
//! [`Event::KbdInteractive`]; the daemon answers with prompts
//! ([`Server::info_request`]) or a verdict ([`Server::answer_with`]); each
//! SSH_MSG_USERAUTH_INFO_RESPONSE becomes [`Event::InfoResponse`], answered the same
//! way, until a verdict.

use super::{Question, Server};
use crate::config::SERVICE_CONNECTION;
use crate::kbdint::{parse_info_response, InfoRequest, KbdInteractiveRequest};
use crate::{AuthError, Event, Method};

impl Server {
    /// Answers the pending keyboard-interactive question ([`Event::KbdInteractive`] or
    /// [`Event::InfoResponse`]) with more questions for the user: sends
    /// SSH_MSG_USERAUTH_INFO_REQUEST and waits for the client's responses. Does
    /// nothing when no such question is pending.
    pub fn info_request(&mut self, request: &InfoRequest) -> Result<(), AuthError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.info_request_inner(request);
        self.sticky(r)
    }

    fn info_request_inner(&mut self, request: &InfoRequest) -> Result<(), AuthError> {
        let Some(Question::KbdInteractive { user, .. }) = &self.pending else {
            return Ok(());
        };
        self.info_expected = Some((user.clone(), request.expected_responses()));
        self.pending = None;
        self.push_transmit(request.encode())?;
        self.drain_inbox()
    }

    /// A `keyboard-interactive` request: the daemon decides what to ask. Any service
    /// but `ssh-connection` fails without a question.
    pub(super) fn on_kbd_interactive(
        &mut self,
        user: String,
        service: &str,
        request: &KbdInteractiveRequest<'_>,
    ) -> Result<(), AuthError> {
        if service != SERVICE_CONNECTION {
            return self.fail(user, Method::KeyboardInteractive.name(), None, true);
        }
        self.push_event(Event::KbdInteractive {
            user: user.clone(),
            submethods: request.submethods.to_owned(),
        })?;
        self.pending = Some(Question::KbdInteractive {
            user,
            service: service.to_owned(),
        });
        Ok(())
    }

    /// SSH_MSG_USERAUTH_INFO_RESPONSE to the INFO_REQUEST sent: the wrong number of
    /// responses ends the connection (RFC 4256 §3.4).
    pub(super) fn on_info_response(&mut self, payload: &[u8]) -> Result<(), AuthError> {
        let Some((user, expected)) = self.info_expected.take() else {
            return Err(AuthError::UnexpectedMessage(
                payload.first().copied().unwrap_or_default(),
            ));
        };
        let responses = parse_info_response(payload, expected)?;
        self.push_event(Event::InfoResponse {
            user: user.clone(),
            responses,
        })?;
        self.pending = Some(Question::KbdInteractive {
            user,
            service: SERVICE_CONNECTION.to_owned(),
        });
        Ok(())
    }
}
