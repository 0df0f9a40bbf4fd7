//! The field encodings the monitor messages share: canonical booleans, bounded lists
//! of host keys and of method names, `u16` values carried as `uint32`.

use super::DecodeError;
use super::MAX_HOST_KEYS;
use sisu_userauth::kbdint::{InfoRequest, Prompt, MAX_PROMPTS, MAX_PROMPT_LEN};
use sisu_userauth::limits::MAX_PASSWORD_LEN;
use sisu_userauth::{Method, Password};
use sisu_wire::{Reader, WireError, Writer};

pub(super) fn text(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    Ok(r.utf8()?.to_string())
}

/// A boolean that must be 0 or 1 (the encoding is canonical: one message, one form).
pub(super) fn flag(r: &mut Reader<'_>) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::Malformed(WireError::BadValue("boolean"))),
    }
}

pub(super) fn blob(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
    Ok(r.string()?.to_vec())
}

/// Most methods in a list (each at most once).
pub(super) const MAX_METHODS: usize = 4;

pub(super) fn write_methods(w: &mut Writer, methods: &[Method]) {
    let names: Vec<&str> = methods.iter().map(|m| m.name()).collect();
    w.str(&names.join(","));
}

pub(super) fn read_methods(r: &mut Reader<'_>) -> Result<Vec<Method>, DecodeError> {
    let list = r.utf8()?;
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for name in list.split(',') {
        let m =
            Method::from_name(name).ok_or(DecodeError::Malformed(WireError::BadValue("method")))?;
        if out.contains(&m) || out.len() >= MAX_METHODS {
            return Err(DecodeError::TooLarge("method list"));
        }
        out.push(m);
    }
    Ok(out)
}

pub(super) fn u16_field(r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    u16::try_from(r.u32()?).map_err(|_| DecodeError::Malformed(WireError::BadValue("u16")))
}

pub(super) fn write_keys(w: &mut Writer, keys: &[Vec<u8>]) {
    w.u32(keys.len() as u32);
    for k in keys {
        w.string(k);
    }
}

pub(super) fn read_keys(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, DecodeError> {
    let n = r.u32()? as usize;
    if n > MAX_HOST_KEYS {
        return Err(DecodeError::TooLarge("host key list"));
    }
    (0..n).map(|_| blob(r)).collect()
}

/// Most `NAME=value` pairs PAM may hand to a session.
pub(super) const MAX_ENV: usize = 256;

/// A list of strings (at most `max`; `what` names it in the error).
pub(super) fn write_strings(w: &mut Writer, items: &[String]) {
    w.u32(items.len() as u32);
    for a in items {
        w.str(a);
    }
}

pub(super) fn read_strings(
    r: &mut Reader<'_>,
    max: usize,
    what: &'static str,
) -> Result<Vec<String>, DecodeError> {
    let n = r.u32()? as usize;
    if n > max {
        return Err(DecodeError::TooLarge(what));
    }
    (0..n).map(|_| text(r)).collect()
}

pub(super) fn write_responses(w: &mut Writer, responses: &[Password]) {
    w.u32(responses.len() as u32);
    for p in responses {
        w.string(p.expose());
    }
}

pub(super) fn read_responses(r: &mut Reader<'_>) -> Result<Vec<Password>, DecodeError> {
    let n = r.u32()? as usize;
    if n > MAX_PROMPTS {
        return Err(DecodeError::TooLarge("responses"));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let s = r.string()?;
        if s.len() > MAX_PASSWORD_LEN {
            return Err(DecodeError::TooLarge("response"));
        }
        out.push(Password::new(s));
    }
    Ok(out)
}

pub(super) fn write_prompts(w: &mut Writer, req: &InfoRequest) {
    w.str(&req.name).str(&req.instruction);
    w.u32(req.prompts.len() as u32);
    for p in &req.prompts {
        w.str(&p.text).bool(p.echo);
    }
}

pub(super) fn read_prompts(r: &mut Reader<'_>) -> Result<InfoRequest, DecodeError> {
    let long = |s: &str| s.len() > MAX_PROMPT_LEN;
    let name = text(r)?;
    let instruction = text(r)?;
    let n = r.u32()? as usize;
    if n > MAX_PROMPTS || long(&name) || long(&instruction) {
        return Err(DecodeError::TooLarge("prompts"));
    }
    let mut prompts = Vec::with_capacity(n);
    for _ in 0..n {
        let text = text(r)?;
        if long(&text) {
            return Err(DecodeError::TooLarge("prompt"));
        }
        prompts.push(Prompt {
            text,
            echo: flag(r)?,
        });
    }
    Ok(InfoRequest {
        name,
        instruction,
        prompts,
    })
}
