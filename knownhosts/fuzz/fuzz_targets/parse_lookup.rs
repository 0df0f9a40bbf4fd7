//! Any bytes: parse as a known_hosts file, look a name up, and re-parse every
//! printed entry.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kh = sisu_knownhosts::KnownHosts::parse_bytes(data);
    let _ = kh.entries_for("[host.example]:2222").count();
    for (_, e) in kh.entries() {
        let text = e.to_string();
        let back = sisu_knownhosts::Entry::parse(&text).expect("printed entry parses");
        assert_eq!(back.as_ref(), Some(e));
    }
});
