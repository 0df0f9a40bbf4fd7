//! `cargo run --release -p sisu-knownhosts --example bench`: parse and look up in a
//! generated 100,000-line known_hosts file (half plain, half hashed); prints timings.

use sisu_knownhosts::hashed::HashedName;
use sisu_knownhosts::{HostKey, KnownHosts, LookupKey};
use std::time::Instant;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm";

fn main() {
    let n = 100_000;
    let mut text = String::new();
    for i in 0..n {
        let name = format!("host{i}.example.com");
        if i % 2 == 0 {
            text.push_str(&format!(
                "{name},10.{}.{}.{} {KEY}\n",
                i >> 16,
                (i >> 8) & 255,
                i & 255
            ));
        } else {
            let salt = [(i % 251) as u8; 20];
            text.push_str(&format!("{} {KEY}\n", HashedName::with_salt(&name, salt)));
        }
    }
    let t = Instant::now();
    let kh = KnownHosts::parse(&text);
    let parse = t.elapsed();
    let key = match &kh.entries().next().unwrap().1.key {
        HostKey::Ssh(k) => k.clone(),
        HostKey::Rsa1(_) => unreachable!(),
    };
    let t = Instant::now();
    let status = kh.lookup(
        &format!("host{}.example.com", n - 1),
        22,
        LookupKey::Plain(&key),
    );
    let lookup = t.elapsed();
    let t = Instant::now();
    let listed = kh.entries_for("missing.example.com").count();
    let miss = t.elapsed();
    println!("known_hosts: {n} lines, {} bytes", text.len());
    println!(
        "parse: {parse:?} ({:.0} lines/s)",
        n as f64 / parse.as_secs_f64()
    );
    println!("lookup (last line, hashed): {lookup:?} -> {status:?}");
    println!("lookup (no match, full scan): {miss:?} -> {listed} entries");
}
