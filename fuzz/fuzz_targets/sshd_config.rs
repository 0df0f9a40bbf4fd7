//! sshd_config text: parsed or refused with a line number, never a panic; and what
//! parses prints (`-T`) as a configuration that parses again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_daemon::config::{parse_config, AlgorithmSets, Algs};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let a = Algs::new(&["a", "b-c@d"], &["a"]);
    let algs = AlgorithmSets {
        ciphers: a.clone(),
        macs: a.clone(),
        kex: a.clone(),
        host_key: a.clone(),
        pubkey: a.clone(),
        ca_signature: a,
    };
    if let Ok((cfg, _)) = parse_config(text, Path::new("fuzz"), &[], &algs) {
        let dumped = cfg.dump();
        if let Err(e) = parse_config(&dumped, Path::new("dump"), &[], &algs) {
            panic!("-T output does not parse again: {e}\n{dumped}");
        }
    }
});
