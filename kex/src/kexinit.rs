//! `SSH_MSG_KEXINIT` (RFC 4253 §7.1).

use sisu_wire::{msg, NameList, Reader, WireError, Writer};

/// A parsed `SSH_MSG_KEXINIT`, borrowing its name-lists from the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KexInit<'a> {
    /// The 16 random bytes.
    pub cookie: [u8; 16],
    /// `kex_algorithms`.
    pub kex: NameList<'a>,
    /// `server_host_key_algorithms`.
    pub host_key: NameList<'a>,
    /// `encryption_algorithms_client_to_server`.
    pub cipher_c2s: NameList<'a>,
    /// `encryption_algorithms_server_to_client`.
    pub cipher_s2c: NameList<'a>,
    /// `mac_algorithms_client_to_server`.
    pub mac_c2s: NameList<'a>,
    /// `mac_algorithms_server_to_client`.
    pub mac_s2c: NameList<'a>,
    /// `compression_algorithms_client_to_server`.
    pub comp_c2s: NameList<'a>,
    /// `compression_algorithms_server_to_client`.
    pub comp_s2c: NameList<'a>,
    /// `first_kex_packet_follows`.
    pub first_kex_follows: bool,
}

impl<'a> KexInit<'a> {
    /// Parses a whole payload (message number included).
    pub fn parse(payload: &'a [u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload);
        if r.u8()? != msg::SSH_MSG_KEXINIT {
            return Err(WireError::BadValue("not a KEXINIT"));
        }
        let cookie: [u8; 16] = r.bytes(16)?.try_into().map_err(|_| WireError::Truncated)?;
        let kex = r.name_list()?;
        let host_key = r.name_list()?;
        let cipher_c2s = r.name_list()?;
        let cipher_s2c = r.name_list()?;
        let mac_c2s = r.name_list()?;
        let mac_s2c = r.name_list()?;
        let comp_c2s = r.name_list()?;
        let comp_s2c = r.name_list()?;
        let _lang_c2s = r.name_list()?;
        let _lang_s2c = r.name_list()?;
        let first_kex_follows = r.bool()?;
        let _reserved = r.u32()?;
        Ok(KexInit {
            cookie,
            kex,
            host_key,
            cipher_c2s,
            cipher_s2c,
            mac_c2s,
            mac_s2c,
            comp_c2s,
            comp_s2c,
            first_kex_follows,
        })
    }

    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::msg(msg::SSH_MSG_KEXINIT);
        w.raw(&self.cookie);
        for l in [
            self.kex,
            self.host_key,
            self.cipher_c2s,
            self.cipher_s2c,
            self.mac_c2s,
            self.mac_s2c,
            self.comp_c2s,
            self.comp_s2c,
            NameList(""),
            NameList(""),
        ] {
            w.str(l.as_str());
        }
        w.bool(self.first_kex_follows).u32(0);
        w.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(cookie in any::<[u8; 16]>(), lists in proptest::collection::vec("[a-z0-9@.,-]{0,40}", 8), f in any::<bool>()) {
            let lists: Vec<&str> = lists.iter().map(|s| s.as_str()).collect();
            let k = KexInit {
                cookie,
                kex: NameList(lists[0]), host_key: NameList(lists[1]),
                cipher_c2s: NameList(lists[2]), cipher_s2c: NameList(lists[3]),
                mac_c2s: NameList(lists[4]), mac_s2c: NameList(lists[5]),
                comp_c2s: NameList(lists[6]), comp_s2c: NameList(lists[7]),
                first_kex_follows: f,
            };
            let bytes = k.encode();
            prop_assert_eq!(KexInit::parse(&bytes).unwrap(), k);
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut d = data.clone();
            if !d.is_empty() { d[0] = 20; }
            let _ = KexInit::parse(&d);
        }
    }
}
