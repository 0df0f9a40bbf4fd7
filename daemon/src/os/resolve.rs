//! Host names of addresses, for the rules that name hosts (TCP wrappers): a reverse
//! look-up (`getnameinfo(3)`), kept only when the name's forward look-up gives the
//! address back (as libwrap's `PARANOID` check does), so that whoever controls a
//! reverse zone cannot claim a name.

use std::ffi::CStr;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// Longest host name (`NI_MAXHOST`).
const MAX_HOST: usize = 1025;

/// The verified host name of `ip`, lower-cased; `None` when there is none or it does
/// not map back to `ip`.
pub fn verified_host_name(ip: IpAddr) -> Option<String> {
    let name = reverse(ip)?;
    let back = (name.as_str(), 0).to_socket_addrs().ok()?;
    let same = |a: IpAddr| match (a, ip) {
        (IpAddr::V6(v6), IpAddr::V4(v4)) | (IpAddr::V4(v4), IpAddr::V6(v6)) => {
            v6.to_ipv4_mapped() == Some(v4)
        }
        (a, b) => a == b,
    };
    back.map(|sa| sa.ip())
        .any(same)
        .then(|| name.to_ascii_lowercase())
}

fn reverse(ip: IpAddr) -> Option<String> {
    let sa: nix::sys::socket::SockaddrStorage = SocketAddr::new(ip, 0).into();
    let mut host = vec![0 as libc::c_char; MAX_HOST];
    // SAFETY: `sa` is a valid socket address of the length passed; `host` has
    // MAX_HOST writable bytes; no service buffer is asked for.
    let rc = unsafe {
        libc::getnameinfo(
            nix::sys::socket::SockaddrLike::as_ptr(&sa),
            nix::sys::socket::SockaddrLike::len(&sa),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    name.to_str().ok().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_localhost() {
        // /etc/hosts names 127.0.0.1 localhost on every Debian system.
        assert_eq!(
            verified_host_name("127.0.0.1".parse().unwrap()).as_deref(),
            Some("localhost")
        );
        assert_eq!(verified_host_name("192.0.2.77".parse().unwrap()), None);
    }
}
