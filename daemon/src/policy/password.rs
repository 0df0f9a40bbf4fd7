//! Checking a password against the stored hash, the same way for every user.
//!
//! The monitor answers a `password` request with [`check`]: the hash of the
//! password is always computed, with the user's stored hash as the setting or, for a
//! user who does not exist, is refused by the rules, or has no usable hash (`*`, `!`,
//! empty), with [`dummy_setting`]: a stored hash of the scheme and cost most accounts
//! here have; so an unknown user costs what a known one with a wrong password costs. After a failure the answer is held back until
//! [`failure_delay`] has passed since the request came, as OpenSSH's
//! `ensure_minimum_time_since` does, so that the time to a refusal says nothing about
//! which branch was taken.
//!
//! ```
//! use sisu_daemon::policy::password::{hash_matches, DUMMY_SETTING};
//! use sisu_userauth::Password;
//! let stored = sisu_daemon::os::crypt::crypt(b"hunter2", DUMMY_SETTING).unwrap();
//! assert!(hash_matches(&Password::new(b"hunter2"), &stored));
//! assert!(!hash_matches(&Password::new(b"hunter3"), &stored));
//! ```

use crate::os::crypt::crypt;
use sha2::{Digest, Sha512};
use sisu_userauth::Password;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The setting of the dummy hash when `/etc/login.defs` names no scheme crypt(3) takes:
/// yescrypt at the cost Debian's `passwd` uses (`j9T`), with a fixed salt.
pub const DUMMY_SETTING: &str = "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$";

/// The file whose `ENCRYPT_METHOD` says how this system hashes new passwords.
pub const LOGIN_DEFS: &str = "/etc/login.defs";

/// The file of password hashes the dummy's scheme is taken from.
pub const SHADOW: &str = "/etc/shadow";

/// The setting a password is hashed with when there is no real hash to compare with,
/// so that an unknown user costs what a known one costs: one of the stored hashes
/// itself, of the scheme and cost most hashes in `/etc/shadow` have (its salt too, so
/// the work is exactly that of checking a real password; the result is thrown away);
/// when that file cannot be read (not root) or holds no usable hash, the scheme and
/// cost `/etc/login.defs` gives new passwords (`ENCRYPT_METHOD`,
/// `SHA_CRYPT_MIN_ROUNDS`, `YESCRYPT_COST_FACTOR`); else [`DUMMY_SETTING`]. Read once
/// per process (each connection's monitor is a fresh one).
pub fn dummy_setting() -> &'static str {
    static SETTING: std::sync::OnceLock<zeroize::Zeroizing<String>> = std::sync::OnceLock::new();
    SETTING.get_or_init(|| {
        let from_shadow = std::fs::read_to_string(SHADOW)
            .ok()
            .map(zeroize::Zeroizing::new)
            .and_then(|text| most_common_hash(&text));
        from_shadow
            .or_else(|| {
                std::fs::read_to_string(LOGIN_DEFS)
                    .ok()
                    .and_then(|text| setting_from_login_defs(&text))
                    .map(zeroize::Zeroizing::new)
            })
            .unwrap_or_else(|| zeroize::Zeroizing::new(DUMMY_SETTING.to_string()))
    })
}

/// Of the usable `$id$…` hashes in a shadow file's text, one of the scheme and cost
/// (everything before the salt) that most of them share.
pub fn most_common_hash(shadow: &str) -> Option<zeroize::Zeroizing<String>> {
    let mut counts: Vec<(&str, usize, &str)> = Vec::new();
    for line in shadow.lines() {
        let Some(hash) = line.split(':').nth(1) else {
            continue;
        };
        // `$id$[params$]salt$hash`: the scheme and cost are all but the last two fields.
        if !hash.starts_with('$') || hash.matches('$').count() < 3 {
            continue;
        }
        let Some(cut) = hash.rmatch_indices('$').nth(1).map(|(i, _)| i) else {
            continue;
        };
        let key = &hash[..cut];
        match counts.iter_mut().find(|(k, _, _)| *k == key) {
            Some(entry) => entry.1 += 1,
            None => counts.push((key, 1, hash)),
        }
    }
    let (_, _, hash) = counts.into_iter().max_by_key(|&(_, n, _)| n)?;
    Some(zeroize::Zeroizing::new(hash.to_string()))
}

/// The dummy setting for a `login.defs` text (see [`dummy_setting`]).
pub fn setting_from_login_defs(text: &str) -> Option<String> {
    let value = |key: &str| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(char::is_whitespace))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.trim().to_string())
    };
    let number = |key: &str| value(key).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let (prefix, count) = match value("ENCRYPT_METHOD")?.to_ascii_uppercase().as_str() {
        "YESCRYPT" => ("$y$", number("YESCRYPT_COST_FACTOR")),
        "SHA512" => ("$6$", number("SHA_CRYPT_MIN_ROUNDS")),
        "SHA256" => ("$5$", number("SHA_CRYPT_MIN_ROUNDS")),
        "MD5" => ("$1$", 0),
        "BCRYPT" => ("$2b$", number("BCRYPT_MIN_ROUNDS")),
        _ => return None,
    };
    crate::os::crypt::gensalt(prefix, count, b"sisu-dummy-salt!")
}

/// The shortest time from a request to its refusal (OpenSSH's 5 ms).
pub const MIN_FAIL_DELAY: Duration = Duration::from_millis(5);

/// Whether `password` hashes to `stored` (a crypt(3) string). A stored hash that
/// crypt(3) cannot use (locked, `*`, empty) never matches, but the password is
/// hashed anyway (with [`dummy_setting`]). The comparison is in constant time.
pub fn hash_matches(password: &Password, stored: &str) -> bool {
    match crypt(password.expose(), stored) {
        Some(hash) => {
            hash.len() == stored.len() && bool::from(hash.as_bytes().ct_eq(stored.as_bytes()))
        }
        None => {
            let _ = crypt(password.expose(), dummy_setting());
            false
        }
    }
}

/// The outcome of [`check`] for an account that may use a password.
pub fn check(password: &Password, stored: Option<&str>, permit_empty: bool) -> bool {
    match stored {
        // No password at all: only the empty password, and only when permitted (as
        // OpenSSH's sys_auth_passwd).
        Some("") => {
            let _ = crypt(password.expose(), dummy_setting());
            permit_empty && password.is_empty()
        }
        Some(hash) => hash_matches(password, hash),
        None => {
            let _ = crypt(password.expose(), dummy_setting());
            false
        }
    }
}

/// How long a refusal of `user` takes at least: [`MIN_FAIL_DELAY`] plus up to about
/// 4 ms that depend on the user name and on `secret` (the host key, so that the
/// figure is the same on every connection but not computable from outside), doubled
/// until it is longer than the `elapsed` time already spent.
pub fn failure_delay(secret: &[u8], user: &str, elapsed: Duration) -> Duration {
    let digest = Sha512::new()
        .chain_update(secret)
        .chain_update(user.as_bytes())
        .finalize();
    let extra_ns = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) / 1000;
    let mut delay = MIN_FAIL_DELAY + Duration::from_nanos(u64::from(extra_ns));
    // Bounded: 40 doublings of 5 ms exceed any elapsed time.
    for _ in 0..40 {
        if delay > elapsed {
            break;
        }
        delay *= 2;
    }
    delay
}

/// Sleeps until [`failure_delay`] has passed since `start`.
pub fn wait_out_failure(secret: &[u8], user: &str, start: Instant) {
    let elapsed = start.elapsed();
    let delay = failure_delay(secret, user, elapsed);
    std::thread::sleep(delay.saturating_sub(elapsed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_unusable_hashes() {
        let pw = Password::new(b"");
        assert!(check(&pw, Some(""), true));
        assert!(!check(&pw, Some(""), false));
        assert!(!check(&Password::new(b"x"), Some(""), true));
        for stored in [None, Some("*"), Some("!"), Some("!$6$saltsalt$x")] {
            assert!(
                !check(&Password::new(b"password"), stored, true),
                "{stored:?}"
            );
        }
        let sha512 = crypt(b"password", "$6$saltsalt$").unwrap();
        assert!(check(&Password::new(b"password"), Some(&sha512), false));
        // A locked account's hash never matches, even with the right password.
        let locked = format!("!{}", sha512.as_str());
        assert!(!check(&Password::new(b"password"), Some(&locked), false));
    }

    #[test]
    fn the_dummy_is_a_hash_of_the_commonest_scheme() {
        let shadow = "root:*:19000:0:99999:7:::\n\
            a:$y$j9T$saltA$hashA:19000::::::\n\
            b:!$6$saltB$hashB:19000::::::\n\
            c:$y$j9T$saltC$hashC:19000::::::\n\
            d:$6$rounds=9000$saltD$hashD:19000::::::\n\
            e:$y$jBT$saltE$hashE:19000::::::\n\
            broken line\n";
        assert_eq!(
            most_common_hash(shadow).as_deref().map(String::as_str),
            Some("$y$j9T$saltA$hashA")
        );
        let sha = "a:$6$rounds=9000$s1$h1:1::::::\nb:$6$rounds=9000$s2$h2:1::::::\nc:$y$j9T$s$h:1::::::\n";
        assert_eq!(
            most_common_hash(sha).as_deref().map(String::as_str),
            Some("$6$rounds=9000$s1$h1")
        );
        assert_eq!(most_common_hash("root:*:1::::::\nx:!:1::::::\n"), None);
    }

    #[test]
    fn the_dummy_follows_login_defs() {
        let s = |t: &str| setting_from_login_defs(t);
        assert!(s("ENCRYPT_METHOD YESCRYPT\n")
            .unwrap()
            .starts_with("$y$j9T$"));
        assert!(s("ENCRYPT_METHOD YESCRYPT\nYESCRYPT_COST_FACTOR 7\n")
            .unwrap()
            .starts_with("$y$jBT$"));
        assert!(s("# x\nENCRYPT_METHOD SHA512\n")
            .unwrap()
            .starts_with("$6$"));
        assert!(s("ENCRYPT_METHOD SHA512\nSHA_CRYPT_MIN_ROUNDS 20000\n")
            .unwrap()
            .starts_with("$6$rounds=20000$"));
        assert_eq!(s("#ENCRYPT_METHOD SHA512\n"), None);
        assert_eq!(s("ENCRYPT_METHOD DES3000\n"), None);
        assert!(crypt(b"x", dummy_setting()).is_some());
    }

    #[test]
    fn the_delay_is_per_user_bounded_and_longer_than_the_work() {
        let d = |user, ms| failure_delay(b"secret", user, Duration::from_millis(ms));
        assert_eq!(d("alice", 0), d("alice", 0));
        assert!(d("alice", 0) >= MIN_FAIL_DELAY && d("alice", 0) < Duration::from_millis(10));
        assert_ne!(d("alice", 0), d("bob", 0));
        assert!(d("alice", 70) > Duration::from_millis(70));
        assert!(d("alice", 70) <= Duration::from_millis(160));
        assert_ne!(
            failure_delay(b"other", "alice", Duration::ZERO),
            d("alice", 0),
            "the secret changes it"
        );
    }

    #[test]
    fn unknown_and_wrong_take_the_same_work() {
        // Both hash once with yescrypt at the same cost: within a factor of two of
        // each other, measured as the median of a few runs.
        let stored = crypt(b"right", dummy_setting()).unwrap();
        let time = |f: &dyn Fn()| {
            let mut v: Vec<Duration> = (0..5)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect();
            v.sort();
            v[2]
        };
        let wrong = time(&|| assert!(!check(&Password::new(b"wrong"), Some(&stored), false)));
        let unknown = time(&|| assert!(!check(&Password::new(b"wrong"), None, false)));
        assert!(
            wrong < unknown * 2 && unknown < wrong * 2,
            "{wrong:?} {unknown:?}"
        );
    }
}
