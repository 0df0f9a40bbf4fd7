//! The monitor's IPC decoders on arbitrary bytes: `ToMonitor::decode` is what the
//! monitor (root) reads from a child that may be compromised, `FromMonitor::decode` what
//! a child reads. Each must refuse or decode, never panic, and what it decodes encodes
//! to bytes that decode to the same message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_daemon::ipc::{FromMonitor, ToMonitor};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ToMonitor::decode(data) {
        assert_eq!(ToMonitor::decode(&m.encode()).as_ref(), Ok(&m));
    }
    if let Ok(m) = FromMonitor::decode(data) {
        assert_eq!(FromMonitor::decode(&m.encode()).as_ref(), Ok(&m));
    }
});
