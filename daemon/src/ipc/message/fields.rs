//! The field encodings the monitor messages share: canonical booleans, bounded lists
//! of host keys and of method names, `u16` values carried as `uint32`.

use super::DecodeError;
use super::MAX_HOST_KEYS;
use sisu_userauth::Method;
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
pub(super) const MAX_METHODS: usize = 3;

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
