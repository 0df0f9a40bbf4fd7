//! Known answers for the exchange hash, the key derivation and a Diffie-Hellman
//! exchange in RFC 3526 group 14, each computed independently with Python's `hashlib`
//! and built-in `pow` from the same inputs (script in the test's comments).
//!
//! ```text
//! v_c = b"SSH-2.0-client"; v_s = b"SSH-2.0-server"
//! i_c = b"\x14" + bytes(range(16)); i_s = b"\x14" + bytes(range(16, 32))
//! k_s = string(b"ssh-ed25519") + string(bytes(32))
//! x = int("0123456789abcdef" * 8, 16); y = int("fedcba9876543210" * 8, 16)
//! e = pow(2, x, p14); f = pow(2, y, p14); K = pow(e, y, p14)
//! H = HASH(string(v_c) string(v_s) string(i_c) string(i_s) string(k_s) mpint(e) mpint(f) mpint(K))
//! C = HASH(mpint(K) H "C" H) ‖ HASH(mpint(K) H C1) ‖ …  (100 bytes, session_id = H)
//! ```

use sisu_kex::derive::{derive, exchange_hash, HashAlg, HashPrefix};
use sisu_kex::method::dh::{modpow, shared_secret, DhSecret};
use sisu_kex::moduli::DhGroup;
use sisu_wire::Writer;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const ANSWERS: &[(HashAlg, &str, &str)] = &[
    (
        HashAlg::Sha1,
        "dc620be53e7ed5f2af8800b2586970d2ece10dfa",
        "acd2879ee5a44fa04690de3bdb5d75c548f7cc1b1e98f2880ba980f872948601e973ff6844773688905c0e3423218f0ae3a109d12d8117beec24662c29d15885975318bbbdeb03869baa2ba9e196ceef32dff39df61ee9602d0745e85d9936900f6154a1",
    ),
    (
        HashAlg::Sha256,
        "1fc987ee3362a7d330d1af8f12a670eead5f0c0de737cab2d30fc973adc2c160",
        "b3eeee74b2bb960dc2a34146e2858376d7a30b6e6675dffeb11f448114d5b7058dc2a346be82fac8842787737a67b4500847d7745150cdc88c3a339eaa54ed6238699a6c563baa39f81ac1e88158a2c51cd6f3f35452c098a1c3d7da3e25ea31985983f2",
    ),
    (
        HashAlg::Sha384,
        "50804169e165c03c3a9920aa249f14ab5dc15408a4928707c1e5fb20683769aae6ad0a5eb10458359afec9affe67be45",
        "06078fe9c907563076f104612411e0bc4f2a72c5120a9b4dcd66b433cc05009f24b9fdba9844075308f4635aa1f9194074612712c08019c27987d85335b5ffdefa79b39fe5ff3bf79e240005a2e1b83bee6bdfea7ba287e63c8d61f0556ca13a58e0b5f0",
    ),
    (
        HashAlg::Sha512,
        "f864c18d31fa46a9202f4e3fafb7b09db8d86c210396ca66b561d6677dbf2f8cd42843b4ee97c59dfd999ac4437d168d93f9b086eaba112da8daa2759298f442",
        "c7ed738f1a03cbcaab2cd0347e682305775d2e821804b7482f7912bbc6d6e45a96aea7b29413a36aaee37abec4b1d730fb8e3bb6792b3eb36b03e3de15a91ccf88968dbc106b02e79d2e6d8dad39bc1164fb74891e0b6e130efce2145688b595f7de6c27",
    ),
];

#[test]
fn group14_exchange_hash_and_derivation() {
    let group = DhGroup::group14();
    let x = DhSecret::from_bytes(&unhex(&"0123456789abcdef".repeat(8)));
    let y = DhSecret::from_bytes(&unhex(&"fedcba9876543210".repeat(8)));
    let e = modpow(group.g(), &x, group.p());
    let f = modpow(group.g(), &y, group.p());
    assert_eq!(
        hex(&f[..32]),
        "a9110b2ddce141f845502ca4808200a45c676f5586e65026f7145f30262f5d12"
    );
    let k = shared_secret(&group, &y, &e).unwrap();
    assert_eq!(k, shared_secret(&group, &x, &f).unwrap());
    assert_eq!(
        hex(&HashAlg::Sha256.digest(&[&k])),
        "3d2a89009adab584af1364fd5ce3d11b2a227a62cc13ae9fda0133d025b4c235"
    );
    let mut k_s = Writer::new();
    k_s.str("ssh-ed25519").string(&[0u8; 32]);
    let i_c: Vec<u8> = std::iter::once(20).chain(0..16).collect();
    let i_s: Vec<u8> = std::iter::once(20).chain(16..32).collect();
    let prefix = HashPrefix {
        v_c: b"SSH-2.0-client",
        v_s: b"SSH-2.0-server",
        i_c: &i_c,
        i_s: &i_s,
        k_s: k_s.as_slice(),
    };
    let mut middle = Writer::new();
    middle.mpint(&e).mpint(&f);
    for (alg, h_hex, c_hex) in ANSWERS {
        let h = exchange_hash(*alg, &prefix, middle.as_slice(), &k);
        assert_eq!(hex(&h), *h_hex, "{alg:?}");
        assert_eq!(h.len(), alg.len());
        let c = derive(*alg, &k, &h, b'C', &h, 100);
        assert_eq!(hex(&c), *c_hex, "{alg:?}");
    }
}
