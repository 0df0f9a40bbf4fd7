//! `cargo run -p sisu-knownhosts --example lookup -- FILE NAME`: one line per entry
//! that applies to NAME (`host` or `[host]:port`): its line number, then ` CA` for
//! @cert-authority and ` REVOKED` for @revoked entries.

use sisu_knownhosts::{KnownHosts, Marker};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, name] = args.as_slice() else {
        eprintln!("usage: lookup FILE NAME");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    let kh = KnownHosts::parse_bytes(&bytes);
    for (line, e) in kh.entries_for(name) {
        match e.marker {
            Some(Marker::CertAuthority) => println!("{line} CA"),
            Some(Marker::Revoked) => println!("{line} REVOKED"),
            None => println!("{line}"),
        }
    }
    ExitCode::SUCCESS
}
