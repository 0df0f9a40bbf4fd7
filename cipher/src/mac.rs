//! HMAC-SHA2 (RFC 2104, RFC 6668) as SSH uses it: `mac = MAC(key, sequence_number ‖
//! data)` (RFC 4253 §6.4), with a constant-time check.

use crate::MacAlg;
use ring::hmac;
use subtle::ConstantTimeEq;

/// A keyed HMAC for one direction. ring keeps the pre-hashed key state.
pub(crate) struct PacketMac {
    key: hmac::Key,
    len: usize,
}

impl PacketMac {
    /// Keys `alg` with `key` (any length: RFC 2104 hashes keys longer than a block).
    pub(crate) fn new(alg: MacAlg, key: &[u8]) -> Self {
        let algorithm = match alg {
            MacAlg::HmacSha256 | MacAlg::HmacSha256Etm => hmac::HMAC_SHA256,
            MacAlg::HmacSha512 | MacAlg::HmacSha512Etm => hmac::HMAC_SHA512,
        };
        PacketMac {
            key: hmac::Key::new(algorithm, key),
            len: alg.mac_len(),
        }
    }

    /// Bytes of MAC.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The HMAC of the concatenation of `parts`.
    pub(crate) fn compute(&self, parts: &[&[u8]]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        for p in parts {
            ctx.update(p);
        }
        ctx.sign()
    }

    /// The MAC of a packet: HMAC(key, uint32 sequence_number ‖ data).
    pub(crate) fn packet(&self, seq: u32, data: &[u8]) -> hmac::Tag {
        self.compute(&[&seq.to_be_bytes(), data])
    }

    /// Whether `tag` is the MAC of `data` at `seq`, compared in constant time.
    pub(crate) fn verify(&self, seq: u32, data: &[u8], tag: &[u8]) -> bool {
        let want = self.packet(seq, data);
        tag.len() == self.len && bool::from(want.as_ref().ct_eq(tag))
    }
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
                let mac = PacketMac::new(alg, key);
                // Split the data to check that the parts are concatenated.
                let (a, b) = data.split_at(data.len() / 3);
                let got = mac.compute(&[a, b]);
                assert_eq!(got.as_ref().len(), alg.mac_len());
                let want = hex(want);
                assert_eq!(&got.as_ref()[..want.len()], &want[..], "case {}", i + 1);
            }
        }
    }

    #[test]
    fn packet_mac_covers_the_sequence_number() {
        let mac = PacketMac::new(MacAlg::HmacSha256, &[7; 32]);
        let tag = mac.packet(5, b"packet");
        let direct = mac.compute(&[&[0, 0, 0, 5], b"packet"]);
        assert_eq!(tag.as_ref(), direct.as_ref());
        assert!(mac.verify(5, b"packet", tag.as_ref()));
        assert!(!mac.verify(6, b"packet", tag.as_ref()));
        assert!(!mac.verify(5, b"packet!", tag.as_ref()));
        assert!(!mac.verify(5, b"packet", &tag.as_ref()[..31]));
        let mut bad = tag.as_ref().to_vec();
        bad[31] ^= 1;
        assert!(!mac.verify(5, b"packet", &bad));
    }
}
