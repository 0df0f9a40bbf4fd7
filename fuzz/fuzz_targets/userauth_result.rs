//! The authentication-result decoder (`Authenticated::from_bytes`) on arbitrary bytes,
//! as the post-authentication side meets them from a compromised pre-auth child: it
//! must refuse or decode, never panic, and what it decodes encodes to bytes that decode
//! to the same result.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_userauth::Authenticated;

fuzz_target!(|data: &[u8]| {
    let Ok(a) = Authenticated::from_bytes(data) else {
        return;
    };
    let again = a.to_bytes().expect("a decoded key encodes");
    assert_eq!(Authenticated::from_bytes(&again).as_ref(), Ok(&a));
});
