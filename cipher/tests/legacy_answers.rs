//! Known answers for the legacy suites and protocol 1's ciphers, computed
//! independently of Sisu by `tests/kat/legacy_vectors.py` (Python's `cryptography`,
//! i.e. OpenSSL, for the ciphers, Python's `hmac` for the MACs, composed by hand into
//! SSH packets; protocol 1's 3DES from three single-DES CBC layers, its Blowfish from
//! big-endian Blowfish with each 32-bit word byte-swapped around it).
#![cfg(all(
    feature = "aes-cbc",
    feature = "3des",
    feature = "blowfish",
    feature = "cast128",
    feature = "arcfour",
    feature = "hmac-sha1",
    feature = "hmac-md5",
    feature = "hmac-ripemd160",
    feature = "v1"
))]

use sisu_cipher::v1::{V1Cipher, V1Crypt, V1Error};
use sisu_cipher::{new_opener, new_sealer, CipherAlg, DirectionKeys, MacAlg};
use sisu_wire::packet::{PacketDecoder, PacketEncoder};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn keys() -> DirectionKeys {
    DirectionKeys {
        iv: (0..16).map(|i| 0x10 + i).collect(),
        key: (0..64u32).map(|i| (i * 7 + 1) as u8).collect(),
        mac_key: (0..64).map(|i| 0x30 + i).collect(),
    }
}

/// The payloads of `legacy_vectors.py`, sealed in sequence (0, 1, 2).
fn payloads() -> Vec<Vec<u8>> {
    vec![
        b"\x05\x00\x00\x00\x0cssh-userauth".to_vec(),
        (0..40).collect(),
        vec![2; 100],
    ]
}

/// `(cipher, mac, [sealed packet 0, 1, 2])`: padding bytes are 0xa0, 0xa1, ...
const SUITES: &[(&str, &str, [&str; 3])] = &[
    ("aes128-cbc", "hmac-sha1", [
        "585be1c0335421b43ca8716c2f2571197c2c0c2fcf8e46836916b9cc012be9fcb3cc23ddbb94d992c3543dbbaf3e1f4d24d536d9",
        "ae8b8aeedad6de9ecf6318de2d86972976ff19b08dd49e854b018f62591af831634729ef6882908047109242899e946ca412c32e3b270081540f0c1f812afd7fe136f9411d355b42bcc592b0005c2b1f4a2d90b4",
        "702c152b9dbfd8eb69f4d6e2d30922ba34b0fd79f80662c2f266c6dbc72880b1f36e83a78d9ef006979ec8f5a29b7b553ef5e297c78945e6df8533c648daae8f5437eecd02d423dcfe02ceee2a63153177e3b77f206a71bceb3c60f5319992be8077903a6169c30e6e33690ddf490db8dafc5fdf8f19c5827fe307ddbfe3a6b73a2694d5",
    ]),
    ("aes192-cbc", "hmac-sha1-96", [
        "9b59e092ee49c2a035d0462ac7e2db8042917fcc3bf4be8717431664c25a45f4b3cc23ddbb94d992c3543dbb",
        "cc2fc2e30f97766dcae7a5cd1dd218ed67fd9053791b9b21ea9af5ebb21b04586492a16e7686dc1570d4d399ce7feaecd2ee959f71cd0fbdf464ac6d5753ba14e136f9411d355b42bcc592b0",
        "8424babab578d4138b355f2b386d07111a38c27a4ad98ca5c1bf2a2fefee063b0e768ebb6c73ad38f0fa8633c0c7d980b584b5a936b52d76cc2d0da45672ebc65c72a6a5bd0128ec90f7020525dfa13cf5773df761b4de0d40fb38f8797a85babc0cdcf85436a326713463e8f231d78ddafc5fdf8f19c5827fe307dd",
    ]),
    ("aes256-cbc", "hmac-md5", [
        "b62c4a3dc4bffb7564551e13a3cb72c3a42b037f0bb1715d5cabd8c7bf6fad79c65d7df031b05cc2a49cf8b98696767c",
        "fd978761e6d7ebf25c31c6092a60878216bf4107b0173b0dde3d1a7714be68b0106c849af04533e7fcbf06d355ec27205cbaba02ecdb4c2bef36e7d32739b78a293ba9616c4b286fb2c3142170bfe5c2",
        "89f59c4d30852c3532bc390fb4ad14eb478a3d979f97e48a135958082a631eee9f78718158f49510452b70b2697a6ff2346964796a782e3703e5c6daf7dddc706b463747743e4fdb31ca27331fef5d9b5d799926940f0ba99c1b841b2a90635430447c699c3b427c37442b67d067ccfaf40a7ab4593dfee6e3a6753cea99b9c5",
    ]),
    ("rijndael-cbc@lysator.liu.se", "hmac-md5-96-etm@openssh.com", [
        "000000202e510ed5ffb41068ef2a9e30b6f220ee5c8957d447d3097d00b5979e735539f336ae8d99b625553847609bbf",
        "00000030466a26f9c5c2bef0a7b460cc77424d3e991de63eb6e713e399f7da2c7e0d3cf6986fffdf7e49e73759c3135cc04b0d27290302a094e85d48b4988dff",
        "0000007052905869f3e3fca6f4028c472ef0e9f709f784293f6ef313594be7897f8c88a987ac8764c3396d74eebd1547e8ff16c6a4ca1ad92d318c3d593d3208f044c430a7a3d6e5683f295fa83d8191269e90a0ee513991c987a67fd9345fb18032ebeeeafeffe52710e9510b71ba22282aade779cc6ab0cdb7db283246b328",
    ]),
    ("3des-cbc", "hmac-ripemd160", [
        "c200b24126d4415f723562a30fc23e0347e7a4e9b6d6d4ca34bb770527c77b6457ee1453babf492a1d99966e699943d917b54ffc",
        "5f62f3cf0c2b796829c1381b27fac4c8db3ccea7b7cc1303af6263d244c432f0682c3e587cc533f507da41f5349497f8cee82416bb0a660824aa6e3a1b9201940cd3947dc873f5468e67fcc9",
        "f7417a8914da85112003d0e110f49ca3b99d28aad6eebbc1f012f64131581013a6fe4037268b439e8b4bd2c4d8a1157f836f72fb531e0cd91313e4fc1fcca053ddd5a5055da5e5c555c51360f83624b6ffe47f4a1e72d340f2b8e015ef736c19e8df70c0eeb5ddbfd50ab08ecb9b686e10bb2e6dd1a3ad045de609abbfa0090907878855",
    ]),
    ("blowfish-cbc", "hmac-sha2-256", [
        "21475abc58d0430ba9f5cd3afd445dc87fd44a79f7a7ff2972d547100031805b086d367bf4ab2c7f8f4239ad4e6a940cea729d39463f905126bb4a7b61ae8448",
        "2caafc47de6b639171537c2b27a3cc01c2dc6191823847b74a0155dd246c62425e08da839f2157668e2001d40c1d43fd9a95eb9a700020df90c7869ad6b6923f67beb0536f8e2044a831176ba261f8240a4fa4e698aa8701",
        "ea300cc425fa4e3e938c908e585faefd462cc8e26d17d7e41e7957627e1a9dda6a8a123c0f02655e1c4bd554a3fa637eed7cb1000b3403449a751ed61ec2e0b6918b6ae131503bdd3a5464d4c57cc84c7ef5f61a921ad8e6fc9816f5451a04ce6e96b6401da8ad2963863e149856f440a6825fd25c3e0d62de3fbc973c8babbb935c9362bc8ca8d4f608bf4608e46c56",
    ]),
    ("cast128-cbc", "hmac-sha1-etm@openssh.com", [
        "000000184d899ea5c5aa89f6d7eee1cc0211bb86674d511673ba4b5b7b8db1d367589073e71ec0c9c8ad654565920fd7",
        "000000303d53144dcea1c150ed940937ec2632dae2eb52c1a9eb3f2f637b1fdb4c39087f3e4911344c53247766d938e0dc6520176d4e89952d6848af39b6397d827835e2f5c606f4",
        "0000007084773ac94b24be587ec95da5bfc258861c26598e51081d32eb21ccf2b65ea7af576da45e035e5060191d8bdf2706480ac53a9e7c09dfbf17f83eda4c3fd56efb55e00dbf3d1c3c81495b45439b3f27a6e1d24f7fcab96a45a6f781161b106f5c33735bd137449f9cb72e593fef8c4d2c6b89c59801acb95fbb57d6c35dd22f31d5741fe8",
    ]),
    ("arcfour", "hmac-md5-etm@openssh.com", [
        "0000001843c5f2872ccfaf9f4d308cba1881d5c176de47bdcb4796f4601d58f0d2c2a92ab4b78dfc1dba1003",
        "00000030ba95c2e447c01a5c4e909b426c8eeff3b1cda6fbb4d07b32d20bf150cbda24cf3785df64d8c36bb38096dcd9fac5739cc1623dc8ebb1016b68fac421ffdfe4d1",
        "0000007055464644f3d9e839e5ac6db40ab6bbf5d4e7280e034e03fa7fa1f5b21e271838578b4727d7f3f1e9153b5a22ddc60175374e26e08a3dc4e6b9acb3eabba3923c7d2c0b8acd81858c7410e2b6fd0e80f2fb03c79454438ea92a527cd2c1c322fd6ee94239e95a1ea30f54ff3dde885aec6d73a560489e964447ba11899c309308",
    ]),
    ("arcfour128", "hmac-sha1", [
        "2104a7e3fc6943215311dc29a1cb99179cedc2a86c46620f6b1d527c39dea026b3cc23ddbb94d992c3543dbbaf3e1f4d24d536d9",
        "a7e50eab9cf47bca4b533ae5d67d265747da71ca1b80c1e07fd0e3bf2a8c1ccfe1cd70e3ce9d1d770d73b9c5031f3fb2e1e0a65ad85994cd9ca5a3049bb90e3e466fcdcb823e6cec6dfe1310",
        "9e883263d82c7f13374cb67c9f2447989dbd4bc7366d6a0114a73732bc482c9e1a58e749cb4c43e427af415fd6485adeca4a35d84415aa8882932b99a0e4a77a1cc2c30b3e5f74d041c8581bb2f5b5abad46bf63561662a5341ea819842845a706b219231ef84d95dd8a72257a6aeb70dafc5fdf8f19c5827fe307ddbfe3a6b73a2694d5",
    ]),
    ("arcfour256", "hmac-ripemd160-etm@openssh.com", [
        "000000185d1bc2ea7aad32fa12f9a306b0139e8680cd19bad4d31a2484b73fc2251294fa8b8cd44cee8326b0c31ebd46",
        "00000030c612d018d5a1008b11aa7e79a3ff3dcdbcf7a3ef273ae2ed45238838341973062e1ed24b01dcd60a1f8b82d2c06d562d5ef4138868cc549f517fe020239b7a6d2c4b0350",
        "00000070070b0ad072c3030db0550aea299832d8718198b8930388697e8922dcec14a1513d8a5689e402e113431f38d76ee52b853f2a25bbdd6c41c24c9a51f3192c42298a9a308d9ac8c7e753107e3465f4165073c63c3b44b3a73cc79dae9b6dff39c0711760794c995e9a517bfdc80cd09587670fe0fffefff48c1e0fb464af80e9d4e8333a54",
    ]),
];

#[test]
fn legacy_suites_match_independent_composition() {
    let keys = keys();
    for (cipher, mac, want) in SUITES {
        let c = CipherAlg::from_name(cipher).unwrap();
        let m = MacAlg::from_name(mac).unwrap();
        let mut enc = PacketEncoder::new();
        enc.set_sealer(new_sealer(c, Some(m), &keys).unwrap());
        let mut dec = PacketDecoder::new();
        dec.set_opener(new_opener(c, Some(m), &keys).unwrap());
        for (i, payload) in payloads().iter().enumerate() {
            let mut out = Vec::new();
            enc.encode(
                payload,
                &mut |pad| {
                    for (j, b) in pad.iter_mut().enumerate() {
                        *b = 0xa0 + j as u8;
                    }
                },
                &mut out,
            )
            .unwrap();
            assert_eq!(out, hex(want[i]), "{cipher} {mac} packet {i}");
            dec.feed(&out);
            assert_eq!(
                dec.next_packet().unwrap(),
                Some((i as u32, payload.clone()))
            );
        }
    }
}

/// 48 bytes (0, 1, ..., 47) encrypted under the first bytes of the same 64-byte key.
const V1_ANSWERS: &[(&str, &str)] = &[
    ("3des", "e341179b99664458e2daad34ecd8733cef6b8e83aaf00d12af5fd0e979eca029962886d991b1ca48d33cfadfe8780ea5"),
    ("blowfish", "1c37753d35a9e49495ce8c79d27d81af5d33b55375b17dbcf899a364cc6d522365660b3a1cca237b8b533d8eb9d716f4"),
    ("des", "88cb99f5e3fb5edcf665497dda36f366c9ac4649d9dee93efb2e3ad6359cf4b322e704c7c2c551964cb184b8e1e2272b"),
];

#[test]
fn protocol_1_ciphers_match_independent_composition() {
    let key = keys().key.clone();
    let plain: Vec<u8> = (0..48).collect();
    for (name, want) in V1_ANSWERS {
        let c = V1Cipher::from_name(name).unwrap();
        // In three pieces: the chain runs on between calls.
        let mut enc = V1Crypt::encryptor(c, &key[..32]).unwrap();
        let mut data = plain.clone();
        let (a, rest) = data.split_at_mut(8);
        let (b, d) = rest.split_at_mut(24);
        enc.apply(a).unwrap();
        enc.apply(b).unwrap();
        enc.apply(d).unwrap();
        assert_eq!(data, hex(want), "{name}");
        let mut dec = V1Crypt::decryptor(c, &key[..32]).unwrap();
        let (a, b) = data.split_at_mut(16);
        dec.apply(a).unwrap();
        dec.apply(b).unwrap();
        assert_eq!(data, plain, "{name}");
    }
}

#[test]
fn protocol_1_names_numbers_and_errors() {
    let table: Vec<(&str, u8, usize)> = V1Cipher::ALL
        .iter()
        .map(|c| (c.name(), c.number(), c.key_len()))
        .collect();
    assert_eq!(table, [("3des", 3, 24), ("blowfish", 6, 32), ("des", 2, 8)]);
    for n in [0u8, 1, 4, 5, 7, 255] {
        assert_eq!(V1Cipher::from_number(n), None);
    }
    assert_eq!(V1Cipher::from_name("idea"), None);
    assert_eq!(
        V1Crypt::encryptor(V1Cipher::Blowfish, &[0; 31]).err(),
        Some(V1Error::ShortKey { need: 32, got: 31 })
    );
    assert_eq!(
        V1Crypt::decryptor(V1Cipher::ThreeDes, &[0; 16]).err(),
        Some(V1Error::ShortKey { need: 24, got: 16 })
    );
    let mut des = V1Crypt::encryptor(V1Cipher::Des, &[1; 8]).unwrap();
    assert_eq!(des.cipher(), V1Cipher::Des);
    assert_eq!(des.apply(&mut [0; 12]), Err(V1Error::Unaligned(12)));
    assert_eq!(des.apply(&mut []), Ok(()));
}

/// SSH-1's 3DES is not SSH-2's `3des-cbc`: the same key and a zero IV give different
/// ciphertext after the first block.
#[test]
fn inner_cbc_differs_from_outer_cbc() {
    let key = keys().key.clone();
    let mut v1 = V1Crypt::encryptor(V1Cipher::ThreeDes, &key).unwrap();
    let keys2 = DirectionKeys {
        iv: vec![0; 8],
        key: key[..24].to_vec(),
        mac_key: vec![0; 20],
    };
    let mut outer = new_sealer(CipherAlg::TripleDesCbc, Some(MacAlg::HmacSha1), &keys2).unwrap();
    let plain: Vec<u8> = (0..16).collect();
    let mut a = plain.clone();
    v1.apply(&mut a).unwrap();
    let mut b = plain.clone();
    outer.seal(0, &mut b);
    assert_eq!(a[..8], b[..8]);
    assert_ne!(a[8..16], b[8..16]);
}
