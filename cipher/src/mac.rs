//! The packet MACs (RFC 4253 §6.4): `mac = MAC(key, sequence_number ‖ data)` for the
//! HMACs (RFC 2104 over SHA-2, SHA-1, MD5, RIPEMD-160, cut to 12 bytes for the `-96`
//! forms), and UMAC (RFC 4418) with the sequence number as the nonce instead. Tags are
//! compared in constant time.
//!
//! HMAC-SHA-2 and HMAC-SHA-1 come from aws-lc-rs (which keeps the pre-hashed key
//! state in an `HMAC_CTX` and cleanses it on drop, as it does the per-packet copy),
//! HMAC-MD5 and HMAC-RIPEMD-160 from RustCrypto's `hmac` 0.13 with `md-5` 0.11 /
//! `ripemd` 0.2 (their `zeroize` features: the keyed inner and outer hash states
//! are zeroized on drop), UMAC from [`crate::umac`].

use crate::umac::Umac;
use crate::{MacAlg, MacFamily};
use aws_lc_rs::hmac;
use subtle::ConstantTimeEq;

/// Largest tag of any MAC (HMAC-SHA-512).
pub(crate) const MAX_TAG_LEN: usize = 64;

/// A computed tag; only the first `len` bytes are meaningful.
pub(crate) struct Tag {
    bytes: [u8; MAX_TAG_LEN],
    len: usize,
}

impl AsRef<[u8]> for Tag {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Tag {
    fn new(full: &[u8], len: usize) -> Self {
        let mut bytes = [0u8; MAX_TAG_LEN];
        let len = len.min(full.len()).min(MAX_TAG_LEN);
        bytes[..len].copy_from_slice(&full[..len]);
        Tag { bytes, len }
    }
}

enum Engine {
    /// Boxed: an aws-lc `HMAC_CTX` is over a kilobyte.
    AwsLc(Box<hmac::Key>),
    #[cfg(feature = "hmac-md5")]
    Md5(hmac_crate::Hmac<md5::Md5>),
    #[cfg(feature = "hmac-ripemd160")]
    Ripemd160(hmac_crate::Hmac<ripemd::Ripemd160>),
    Umac(Box<Umac>),
}

#[cfg(any(feature = "hmac-md5", feature = "hmac-ripemd160"))]
use ::hmac as hmac_crate;

/// A keyed packet MAC for one direction.
pub(crate) struct PacketMac {
    engine: Engine,
    len: usize,
}

impl PacketMac {
    /// Keys `alg` with `key` (any length for HMAC: RFC 2104 hashes keys longer than a
    /// block; exactly 16 bytes for UMAC). `None` when the key does not fit or the
    /// family is not compiled in.
    pub(crate) fn new(alg: MacAlg, key: &[u8]) -> Option<Self> {
        let engine = match alg.family() {
            MacFamily::Sha256 => Engine::AwsLc(Box::new(hmac::Key::new(hmac::HMAC_SHA256, key))),
            MacFamily::Sha512 => Engine::AwsLc(Box::new(hmac::Key::new(hmac::HMAC_SHA512, key))),
            #[cfg(feature = "hmac-sha1")]
            MacFamily::Sha1 => Engine::AwsLc(Box::new(hmac::Key::new(
                hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
                key,
            ))),
            #[cfg(feature = "hmac-md5")]
            MacFamily::Md5 => Engine::Md5(hmac_crate::KeyInit::new_from_slice(key).ok()?),
            #[cfg(feature = "hmac-ripemd160")]
            MacFamily::Ripemd160 => {
                Engine::Ripemd160(hmac_crate::KeyInit::new_from_slice(key).ok()?)
            }
            MacFamily::Umac => Engine::Umac(Box::new(Umac::new(key, alg.mac_len())?)),
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        Some(PacketMac {
            engine,
            len: alg.mac_len(),
        })
    }

    /// Bytes of MAC.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The MAC of a packet: HMAC(key, uint32 sequence_number ‖ data), or
    /// UMAC(key, data, nonce = uint64 sequence_number).
    pub(crate) fn packet(&self, seq: u32, data: &[u8]) -> Tag {
        let seq_bytes = seq.to_be_bytes();
        match &self.engine {
            Engine::AwsLc(key) => {
                let mut ctx = hmac::Context::with_key(key);
                ctx.update(&seq_bytes);
                ctx.update(data);
                Tag::new(ctx.sign().as_ref(), self.len)
            }
            #[cfg(feature = "hmac-md5")]
            Engine::Md5(mac) => finish(mac.clone(), &seq_bytes, data, self.len),
            #[cfg(feature = "hmac-ripemd160")]
            Engine::Ripemd160(mac) => finish(mac.clone(), &seq_bytes, data, self.len),
            Engine::Umac(umac) => {
                let nonce = u64::from(seq).to_be_bytes();
                match umac.tag(data, &nonce) {
                    Some(t) => Tag::new(&t, self.len),
                    // Longer than UMAC's POLY-64 range: an empty tag, which never
                    // verifies (cannot happen within SSH's packet limit).
                    None => Tag::new(&[], 0),
                }
            }
        }
    }

    /// Whether `tag` is the MAC of `data` at `seq`, compared in constant time.
    pub(crate) fn verify(&self, seq: u32, data: &[u8], tag: &[u8]) -> bool {
        let want = self.packet(seq, data);
        want.len == self.len && tag.len() == self.len && bool::from(want.as_ref().ct_eq(tag))
    }
}

/// Finishes a copy of the keyed state over `seq ‖ data`; the copy is zeroized when
/// it is consumed.
#[cfg(any(feature = "hmac-md5", feature = "hmac-ripemd160"))]
fn finish<M: hmac_crate::Mac>(mut mac: M, seq: &[u8], data: &[u8], len: usize) -> Tag {
    mac.update(seq);
    mac.update(data);
    Tag::new(&mac.finalize().into_bytes(), len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The plain HMAC of `data` (no sequence number): split off the first four bytes
    /// as the "sequence number" of [`PacketMac::packet`].
    fn hmac_of(alg: MacAlg, key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut padded = vec![0u8; 4];
        padded.extend_from_slice(data);
        // Only usable when data has at least 4 bytes: then seq ‖ rest == data.
        assert!(data.len() >= 4);
        let seq = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        let mac = PacketMac::new(alg, key).unwrap();
        mac.packet(seq, &data[4..]).as_ref().to_vec()
    }

    /// RFC 4231 §4.2–§4.8 (test case 5, a truncated output, is covered by the prefix
    /// check below).
    #[test]
    fn rfc4231_vectors() {
        let big_key = vec![0xaa; 131];
        let cases: Vec<(Vec<u8>, Vec<u8>, &str, &str)> = vec![
            (vec![0x0b; 20], b"Hi There".to_vec(),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
             "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
            (b"Jefe".to_vec(), b"what do ya want for nothing?".to_vec(),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
             "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
            (vec![0xaa; 20], vec![0xdd; 50],
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
             "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"),
            ((1..=25).collect(), vec![0xcd; 50],
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
             "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"),
            (vec![0x0c; 20], b"Test With Truncation".to_vec(),
             "a3b6167473100ee06e0c796c2955552b",
             "415fad6271580a531d4179bc891d87a6"),
            (big_key.clone(), b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
             "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"),
            (big_key, b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
             "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"),
        ];
        for (i, (key, data, h256, h512)) in cases.iter().enumerate() {
            for (alg, want) in [(MacAlg::HmacSha256, h256), (MacAlg::HmacSha512Etm, h512)] {
                let got = hmac_of(alg, key, data);
                assert_eq!(got.len(), alg.mac_len());
                let want = hex(want);
                assert_eq!(&got[..want.len()], &want[..], "case {}", i + 1);
            }
        }
    }

    /// RFC 2202 (HMAC-MD5 and HMAC-SHA1 test cases 1–3, 6) and RFC 2286
    /// (HMAC-RIPEMD160 test cases 1–3, 6); the `-96` forms are the first 12 bytes.
    #[cfg(all(
        feature = "hmac-sha1",
        feature = "hmac-md5",
        feature = "hmac-ripemd160"
    ))]
    #[test]
    fn rfc2202_and_rfc2286_vectors() {
        let big = vec![0xaa; 80];
        type Case = (Vec<u8>, Vec<u8>, &'static str, &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (
                vec![0x0b; 16],
                b"Hi There".to_vec(),
                "9294727a3638bb1c13f48ef8158bfc9d",
                "",
                "",
            ),
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "",
                "b617318655057264e28bc0b6fb378c8ef146be00",
                "24cb4bd67d20fc1a5d2ed7732dcc39377f0a5668",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "750c783e6ab0b503eaa86e310a5db738",
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
                "dda6c0213a485a9e24f4742064a7f033b43c4069",
            ),
            (
                vec![0xaa; 16],
                vec![0xdd; 50],
                "56be34521d144c88dbb8c733f0e8b3f6",
                "",
                "",
            ),
            (
                vec![0xaa; 20],
                vec![0xdd; 50],
                "",
                "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
                "b0b105360de759960ab4f35298e116e295d8e7c1",
            ),
            (
                big,
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
                "aa4ae5e15272d00e95705637ce8a3b55ed402112",
                "6466ca07ac5eac29e1bd523e5ada7605b791fd8b",
            ),
        ];
        for (key, data, md5, sha1, rmd) in &cases {
            for (full, short, want) in [
                (MacAlg::HmacMd5, Some(MacAlg::HmacMd5_96Etm), md5),
                (MacAlg::HmacSha1Etm, Some(MacAlg::HmacSha1_96), sha1),
                (MacAlg::HmacRipemd160, None, rmd),
                (MacAlg::HmacRipemd160OpenSsh, None, rmd),
            ] {
                if want.is_empty() {
                    continue;
                }
                let want = hex(want);
                assert_eq!(hmac_of(full, key, data), want, "{full}");
                if let Some(short) = short {
                    assert_eq!(hmac_of(short, key, data), want[..12], "{short}");
                }
            }
        }
    }

    /// The keyed state of every HMAC is wiped when a [`PacketMac`] (or a per-packet
    /// copy of its state) is dropped: RustCrypto's by `ZeroizeOnDrop` types, checked
    /// at compile time; aws-lc-rs's `HMAC_CTX` by its `Drop` (`HMAC_CTX_cleanup`, an
    /// `OPENSSL_cleanse` of the whole context), of which only the existence can be
    /// checked here.
    #[test]
    fn keyed_state_is_zeroized_on_drop() {
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        #[cfg(feature = "hmac-md5")]
        {
            // `Hmac<Md5>` is an `HmacCore` (inner and outer `Md5Core`) and a block
            // buffer.
            zeroize_on_drop::<md5::block_api::Md5Core>();
            zeroize_on_drop::<
                hmac_crate::digest::block_api::Buffer<hmac_crate::block_api::HmacCore<md5::Md5>>,
            >();
        }
        #[cfg(feature = "hmac-ripemd160")]
        {
            zeroize_on_drop::<ripemd::block_api::Ripemd160Core>();
            zeroize_on_drop::<
                hmac_crate::digest::block_api::Buffer<
                    hmac_crate::block_api::HmacCore<ripemd::Ripemd160>,
                >,
            >();
        }
        // UMAC's PDF key schedule (its derived keys are wiped by `Umac`'s own Drop).
        zeroize_on_drop::<aes::Aes128>();
        assert!(std::mem::needs_drop::<hmac::Key>());
        assert!(std::mem::needs_drop::<hmac::Context>());
    }

    #[test]
    fn packet_mac_covers_the_sequence_number() {
        for &alg in MacAlg::ALL {
            let mac = PacketMac::new(alg, &vec![7; alg.key_len()]).unwrap();
            let tag = mac.packet(5, b"packet");
            assert_eq!(tag.as_ref().len(), alg.mac_len(), "{alg}");
            assert!(mac.verify(5, b"packet", tag.as_ref()), "{alg}");
            assert!(!mac.verify(6, b"packet", tag.as_ref()), "{alg}");
            assert!(!mac.verify(5, b"packet!", tag.as_ref()), "{alg}");
            let n = alg.mac_len();
            assert!(!mac.verify(5, b"packet", &tag.as_ref()[..n - 1]), "{alg}");
            let mut bad = tag.as_ref().to_vec();
            bad[n - 1] ^= 1;
            assert!(!mac.verify(5, b"packet", &bad), "{alg}");
        }
    }

    #[test]
    fn umac_packet_mac_is_rfc4418_with_the_sequence_number_as_nonce() {
        let key = b"abcdefghijklmnop";
        // "bcdefghi" as a big-endian u64 does not fit a u32 sequence number, so check
        // the composition directly against the core.
        let u = Umac::new(key, 8).unwrap();
        let mac = PacketMac::new(MacAlg::Umac64, key).unwrap();
        let want = u.tag(b"payload", &7u64.to_be_bytes()).unwrap();
        assert_eq!(mac.packet(7, b"payload").as_ref(), &want[..8]);
        assert!(PacketMac::new(MacAlg::Umac128Etm, &key[..15]).is_none());
    }
}
