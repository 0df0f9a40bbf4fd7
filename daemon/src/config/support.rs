//! Which values of a keyword Sisu can honour: the checks that depend on the value, not
//! only on the keyword (`RDomain` is refused unless `none`; `Compression yes` is
//! warned about).
//!
//! The rule is the one of [`super::keywords`]: a value that restricts access and that
//! Sisu cannot apply stops start-up; a value that turns on a feature Sisu lacks is
//! accepted with a warning; everything else is silent.

use super::values::parse_flag;

/// What Sisu does with one keyword's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Support {
    /// Applied (or a limit that holds).
    Full,
    /// Accepted with a warning: this feature (named) is not implemented yet.
    Warn(&'static str),
    /// Refused at start-up: the restriction cannot be applied yet.
    #[allow(dead_code)] // no value is refused today; the rule stays for the next one
    Refuse,
}

/// Whether `args` turn a flag-like keyword on: `yes` for a flag, anything but `no` (or
/// `none`) for the keywords whose "on" values are several words.
fn turns_on(args: &[String]) -> bool {
    match args.first().map(String::as_str) {
        None => false,
        Some(v) => match parse_flag(v) {
            Ok(b) => b,
            Err(()) => !v.eq_ignore_ascii_case("no") && !v.eq_ignore_ascii_case("none"),
        },
    }
}

/// Whether `args` are the value that turns a [`super::keywords::Status::Refused`]
/// keyword off (`ChannelTimeout none`, `PerSourcePenalties no`), which Sisu can honour;
/// every other value of such a keyword is refused.
pub(crate) fn is_off(keyword: &str, args: &[String]) -> bool {
    let [only] = args else { return false };
    match keyword {
        "RDomain" => only.eq_ignore_ascii_case("none"),
        "PerSourcePenalties" => only.eq_ignore_ascii_case("no"),
        _ => false,
    }
}

/// The value check of `keyword` (canonical spelling) with these arguments.
pub(crate) fn check(keyword: &str, args: &[String]) -> Support {
    match keyword {
        // Features that are not there: accepted, with a warning when turned on.
        "KerberosAuthentication" if turns_on(args) => Support::Warn("Kerberos authentication"),
        "GSSAPIAuthentication" if turns_on(args) => Support::Warn("GSSAPI authentication"),
        "PermitTunnel" if turns_on(args) => Support::Warn("tun forwarding"),
        "Compression" if turns_on(args) => Support::Warn("compression"),
        "UseDNS" if turns_on(args) => Support::Warn("UseDNS (reverse look-ups)"),
        _ => Support::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn restricting_values_are_refused_and_off_values_pass() {
        assert_eq!(check("UsePAM", &a(&["yes"])), Support::Full);
        assert_eq!(check("UsePAM", &a(&["no"])), Support::Full);
        assert!(!is_off("RDomain", &a(&["%D"])));
        assert!(is_off("RDomain", &a(&["none"])));
        assert!(!is_off("PerSourcePenalties", &a(&["yes"])));
        assert!(is_off("PerSourcePenalties", &a(&["no"])));
        assert!(!is_off("RequiredRSASize", &a(&["none"])));
        assert_eq!(check("ForceCommand", &a(&["internal-sftp"])), Support::Full);
        assert_eq!(check("ForceCommand", &a(&["/bin/date"])), Support::Full);
    }

    #[test]
    fn features_turned_on_are_warned_about() {
        assert_eq!(check("X11Forwarding", &a(&["yes"])), Support::Full);
        // Applied since issue 11 (it used to warn "not implemented yet; ignored").
        assert_eq!(check("ExposeAuthInfo", &a(&["yes"])), Support::Full);
        assert_eq!(
            check("GatewayPorts", &a(&["clientspecified"])),
            Support::Full
        );
        assert_eq!(
            check("Compression", &a(&["delayed"])),
            Support::Warn("compression")
        );
        // Served since issue 13.
        assert_eq!(check("Protocol", &a(&["2,1"])), Support::Full);
        assert_eq!(check("Protocol", &a(&["2"])), Support::Full);
        assert_eq!(check("MaxAuthTries", &a(&["3"])), Support::Full);
    }
}
