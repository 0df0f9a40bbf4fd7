//! `ChannelTimeout` and `UnusedConnectionTimeout`: a channel with no data either way
//! for its type's interval is closed (its process hung up, its socket closed), as
//! OpenSSH's sshd does; a connection without channels for the unused interval ends.

use super::*;
use std::time::Duration;

impl Channels {
    /// The inactivity timeout of a channel of type `ty`: the first `ChannelTimeout`
    /// pattern that matches it (0 is none).
    fn timeout_of(&self, ty: &str) -> Option<Duration> {
        self.settings
            .channel_timeout
            .iter()
            .find(|(pattern, _)| sisu_wire::pattern::match_pattern(ty, pattern))
            .and_then(|&(_, secs)| (secs > 0).then(|| Duration::from_secs(secs)))
    }

    /// The channels with a timeout, their last activity (stamped now for channels
    /// the loop has not seen yet) and the timeout.
    fn timed(&mut self) -> Vec<(ChannelId, Instant, Duration)> {
        if self.settings.channel_timeout.is_empty() {
            return Vec::new();
        }
        let now = Instant::now();
        let mut out = Vec::new();
        let types: Vec<(ChannelId, String)> = self
            .chans
            .iter()
            .filter(|(_, c)| !c.pipes().finished && c.pending().is_none())
            .map(|(&ch, c)| (ch, c.timeout_type()))
            .collect();
        for (ch, ty) in types {
            let Some(t) = self.timeout_of(&ty) else {
                continue;
            };
            let Some(c) = self.chans.get_mut(&ch) else {
                continue;
            };
            let p = c.pipes_mut();
            let last = *p.last_active.get_or_insert(now);
            out.push((ch, last, t));
        }
        out
    }

    /// When the next channel would be closed for inactivity.
    pub fn next_idle_deadline(&mut self) -> Option<Instant> {
        self.timed().into_iter().map(|(_, last, t)| last + t).min()
    }

    /// Closes every channel idle for its type's `ChannelTimeout`.
    pub fn expire_idle(&mut self, conn: &mut Connection, now: Instant) {
        for (ch, last, t) in self.timed() {
            if now < last + t {
                continue;
            }
            verbose!(
                "channel {ch}: closing after {} seconds of inactivity",
                t.as_secs()
            );
            if let Some(c) = self.chans.get_mut(&ch) {
                c.hang_up();
                let p = c.pipes_mut();
                p.finished = true;
            }
            conn.send_eof(ch);
            conn.close(ch);
        }
    }

    /// `UnusedConnectionTimeout`, when set.
    pub fn unused_connection_timeout(&self) -> Option<Duration> {
        self.settings.unused_connection_timeout
    }
}
