//! The shadow password database: whether an account is locked, when it expires, and
//! the password hash that `password` authentication checks (`getspnam_r(3)`, so NSS shadow sources work
//! as they do for OpenSSH).
//!
//! Only root can read `/etc/shadow`. When the entry cannot be read, the password field
//! of the password database is used for the lock check (as OpenSSH does) and the
//! account is taken not to expire.

use std::ffi::{CStr, CString};
use std::io;
use zeroize::Zeroizing;

/// The prefix a locked password carries on Linux (`passwd -l`, `usermod -L`).
pub const LOCKED_PASSWORD_PREFIX: &str = "!";
/// The largest buffer offered to `getspnam_r` before giving up (an entry is a line).
const MAX_SHADOW_BUF: usize = 1 << 20;
/// Seconds in a day: `sp_expire` counts days since 1970-01-01.
const DAY: i64 = 24 * 60 * 60;

/// What the shadow entry says about logging in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    /// The password field starts with [`LOCKED_PASSWORD_PREFIX`].
    pub locked: bool,
    /// `sp_expire`: the day (since 1970-01-01) from which the account is expired; `None`
    /// when it never expires or the entry could not be read.
    pub expires_on_day: Option<i64>,
}

impl AccountStatus {
    /// Whether the account has expired at `now_unix` (seconds since 1970-01-01): as
    /// OpenSSH's check, expired once the expiry day is before today.
    pub fn expired_at(&self, now_unix: i64) -> bool {
        self.expires_on_day
            .is_some_and(|day| day - now_unix.div_euclid(DAY) < 0)
    }
}

/// The account status of `name`: from its shadow entry, or else from the password
/// field of the password database.
pub fn account_status(name: &str) -> io::Result<AccountStatus> {
    let passwd_field = nix::unistd::User::from_name(name)?
        .map(|u| u.passwd.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(status_from(getspnam(name)?, &passwd_field))
}

/// The password hash stored for `name`, as crypt(3) wrote it: the shadow entry's
/// field, or the password database's when there is no readable shadow entry (and it
/// is not the `x` that points to the shadow file). `None` for a user that does not
/// exist. Wiped when dropped.
pub fn stored_password(name: &str) -> io::Result<Option<Zeroizing<String>>> {
    if let Some((hash, _)) = getspnam(name)? {
        return Ok(Some(hash));
    }
    let Some(user) = nix::unistd::User::from_name(name)? else {
        return Ok(None);
    };
    let field = Zeroizing::new(user.passwd.to_string_lossy().into_owned());
    Ok(Some(if field.as_str() == "x" {
        Zeroizing::new(String::new())
    } else {
        field
    }))
}

fn status_from(shadow: Option<(Zeroizing<String>, i64)>, passwd_field: &str) -> AccountStatus {
    let (password, expire) = match &shadow {
        Some((p, e)) => (p.as_str(), *e),
        None => (passwd_field, -1),
    };
    AccountStatus {
        locked: password.starts_with(LOCKED_PASSWORD_PREFIX),
        expires_on_day: (expire >= 0).then_some(expire),
    }
}

/// The password field and `sp_expire` of `name`'s shadow entry; `None` when there is
/// none or it cannot be read (not root).
fn getspnam(name: &str) -> io::Result<Option<(Zeroizing<String>, i64)>> {
    let Ok(cname) = CString::new(name) else {
        return Ok(None);
    };
    let mut size = 4096usize;
    loop {
        // Holds the password hash after the call: wiped when dropped.
        let mut buf = Zeroizing::new(vec![0 as libc::c_char; size]);
        // SAFETY: an all-zero `spwd` is a valid value of this plain C struct (null
        // pointers, zero integers); getspnam_r only writes into it and into `buf`.
        let mut entry: libc::spwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::spwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call: `cname` is NUL-terminated, `entry`
        // and `result` are live locals, `buf` has `size` writable bytes.
        let rc = unsafe {
            libc::getspnam_r(
                cname.as_ptr(),
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && size < MAX_SHADOW_BUF {
            size *= 4;
            continue;
        }
        if rc != 0 || result.is_null() {
            // ENOENT, EACCES (not root) and the like: no readable entry.
            return Ok(None);
        }
        let password = Zeroizing::new(if entry.sp_pwdp.is_null() {
            String::new()
        } else {
            // SAFETY: on success `sp_pwdp` points to a NUL-terminated string inside
            // `buf`, which is still alive here.
            unsafe { CStr::from_ptr(entry.sp_pwdp) }
                .to_string_lossy()
                .into_owned()
        });
        return Ok(Some((password, entry.sp_expire)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_by_day() {
        let s = |d| AccountStatus {
            locked: false,
            expires_on_day: d,
        };
        let today = 20_000i64;
        let now = today * DAY + 3600;
        assert!(!s(None).expired_at(now));
        assert!(
            !s(Some(today)).expired_at(now),
            "expires at the end of the day"
        );
        assert!(!s(Some(today + 1)).expired_at(now));
        assert!(s(Some(today - 1)).expired_at(now));
        assert!(s(Some(0)).expired_at(now));
    }

    #[test]
    fn shadow_entry_or_password_field() {
        let st = status_from(None, "!");
        assert!(st.locked, "the password field is the fallback");
        assert_eq!(st.expires_on_day, None);
        assert!(!status_from(None, "x").locked);
        let st = status_from(Some((Zeroizing::new("!$y$j9T$abc".into()), 19000)), "x");
        assert!(st.locked);
        assert_eq!(st.expires_on_day, Some(19000));
        let st = status_from(Some((Zeroizing::new("*".into()), -1)), "x");
        assert!(!st.locked);
        assert_eq!(st.expires_on_day, None);
        assert_eq!(
            account_status("no-such-user-sisu").unwrap(),
            status_from(None, "")
        );
    }
}
