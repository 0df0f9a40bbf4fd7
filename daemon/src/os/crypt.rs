//! Password hashes through the system's crypt(3) (libxcrypt on Debian): every scheme
//! that `passwd` and `chpasswd` write (yescrypt `$y$`, gost-yescrypt, sha512-crypt
//! `$6$`, sha256-crypt `$5$`, bcrypt `$2b$`, md5-crypt `$1$`, DES), with the same code
//! that OpenSSH's sshd and `login` call. No Rust crate covers all of them (the
//! RustCrypto ones do yescrypt and sha-crypt only), and an administrator's
//! `/etc/shadow` may hold any of them.
//!
//! `crypt_rn` is the re-entrant form that takes a caller's buffer and its size and
//! returns NULL on failure, instead of a magic failure string.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use zeroize::Zeroizing;

/// `sizeof (struct crypt_data)` in libxcrypt's `<crypt.h>`.
const CRYPT_DATA_SIZE: usize = 32768;
/// `CRYPT_GENSALT_OUTPUT_SIZE` in `<crypt.h>`.
const GENSALT_OUTPUT_SIZE: usize = 192;

#[link(name = "crypt")]
extern "C" {
    fn crypt_rn(
        phrase: *const c_char,
        setting: *const c_char,
        data: *mut c_void,
        size: c_int,
    ) -> *mut c_char;
    fn crypt_gensalt_rn(
        prefix: *const c_char,
        count: std::ffi::c_ulong,
        rbytes: *const c_char,
        nrbytes: c_int,
        output: *mut c_char,
        size: c_int,
    ) -> *mut c_char;
}

/// A setting (scheme, cost and salt) for the scheme `prefix` (`$y$`, `$6$`, …) at
/// cost `count` (0: the scheme's default), its salt made from `salt_bytes`. `None`
/// when crypt(3) does not know the scheme or the cost is out of its range.
pub fn gensalt(prefix: &str, count: u64, salt_bytes: &[u8; 16]) -> Option<String> {
    let prefix = CString::new(prefix).ok()?;
    let mut out = vec![0u8; GENSALT_OUTPUT_SIZE];
    // SAFETY: `prefix` is NUL-terminated; `salt_bytes` has the 16 bytes passed; `out`
    // is a writable buffer of the size passed. Both live across the call.
    let r = unsafe {
        crypt_gensalt_rn(
            prefix.as_ptr(),
            count as std::ffi::c_ulong,
            salt_bytes.as_ptr().cast(),
            salt_bytes.len() as c_int,
            out.as_mut_ptr().cast(),
            GENSALT_OUTPUT_SIZE as c_int,
        )
    };
    if r.is_null() {
        return None;
    }
    let setting = CStr::from_bytes_until_nul(&out).ok()?.to_str().ok()?;
    (!setting.starts_with('*')).then(|| setting.to_owned())
}

/// The hash of `phrase` with the scheme, cost and salt of `setting` (a full stored
/// hash works as its own setting). `None` when crypt(3) refuses the setting (an
/// unknown scheme, `*`, `!` or an empty field) or the phrase holds a NUL byte.
pub fn crypt(phrase: &[u8], setting: &str) -> Option<Zeroizing<String>> {
    let phrase = Zeroizing::new(CString::new(phrase).ok()?.into_bytes_with_nul());
    let setting = CString::new(setting).ok()?;
    // The scratch area holds the phrase and intermediate state: wiped when dropped.
    let mut data = Zeroizing::new(vec![0u8; CRYPT_DATA_SIZE]);
    // SAFETY: `phrase` and `setting` are NUL-terminated and live across the call;
    // `data` is a writable buffer of exactly the size passed, as crypt_rn requires.
    let out = unsafe {
        crypt_rn(
            phrase.as_ptr().cast(),
            setting.as_ptr(),
            data.as_mut_ptr().cast(),
            CRYPT_DATA_SIZE as c_int,
        )
    };
    if out.is_null() {
        return None;
    }
    // SAFETY: on success `out` points to a NUL-terminated string inside `data`
    // (its `output` field), which is still alive here; it is copied out at once.
    let hash = unsafe { CStr::from_ptr(out) };
    let hash = Zeroizing::new(hash.to_str().ok()?.to_owned());
    // A failure token ("*0", "*1") is never a hash.
    (!hash.starts_with('*')).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers_of_several_schemes() {
        // Hashes made with `openssl passwd -1` and `-6` for the phrase "password".
        for (setting, want) in [
            ("$1$saltsalt$", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"),
            (
                "$6$saltsalt$",
                "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
            ),
        ] {
            assert_eq!(crypt(b"password", setting).as_deref().map(String::as_str), Some(want));
            assert_eq!(crypt(b"password", want).as_deref().map(String::as_str), Some(want));
        }
    }

    #[test]
    fn yescrypt_round_trips() {
        let h = crypt(b"hunter2", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$").unwrap();
        assert!(h.starts_with("$y$j9T$"));
        assert_eq!(crypt(b"hunter2", &h).unwrap(), h);
        assert_ne!(crypt(b"hunter3", &h).unwrap(), h);
    }

    #[test]
    fn gensalt_makes_settings_crypt_takes() {
        let salt = [7u8; 16];
        for (prefix, count, starts) in [
            ("$y$", 5, "$y$j9T$"),
            ("$6$", 0, "$6$"),
            ("$6$", 10000, "$6$rounds=10000$"),
        ] {
            let setting = gensalt(prefix, count, &salt).unwrap();
            assert!(setting.starts_with(starts), "{setting}");
            assert_eq!(
                gensalt(prefix, count, &salt).unwrap(),
                setting,
                "deterministic"
            );
            assert!(crypt(b"x", &setting).unwrap().starts_with(&setting));
        }
        assert_eq!(gensalt("$nope$", 0, &salt), None);
    }

    #[test]
    fn locked_empty_and_bad_settings_give_nothing() {
        for setting in ["", "*", "!", "!$6$saltsalt$x", "$nope$"] {
            assert_eq!(crypt(b"password", setting), None, "{setting:?}");
        }
        assert_eq!(crypt(b"pass\0word", "$6$saltsalt$"), None);
    }
}
