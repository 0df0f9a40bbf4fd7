//! Any bytes: parse as an authorized_keys file, print every entry and parse it back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = sisu_authkeys::parse_file_bytes(data);
    for e in &file.entries {
        let text = e.entry.to_string();
        let back = sisu_authkeys::Entry::parse(&text).expect("printed entry parses");
        assert_eq!(back.as_ref(), Some(&e.entry));
    }
});
