//! `cargo run --release -p sisu-authkeys --example bench`: parse and authorize in a
//! generated 100,000-line authorized_keys file; prints timings.

use sisu_authkeys::{parse_file, ConnectionInfo};
use std::time::{Duration, Instant, UNIX_EPOCH};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGgiVQbiF3lY3jYKSC9qbLSdMcTWcjyY0V/35xEuuzPm";
const OTHER: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEYYk0xThPnd2yI7A4oWjP0nnSQb8Es2MWRhBsLt0VIY";

fn main() {
    let n = 100_000;
    let mut text = String::new();
    for i in 0..n - 1 {
        text.push_str(&format!(
            "from=\"10.{}.0.0/16,!10.{}.0.1\",no-pty,command=\"run {i}\" {OTHER} user{i}@example\n",
            i % 256,
            i % 256
        ));
    }
    text.push_str(&format!("restrict,pty {KEY} last\n"));
    let t = Instant::now();
    let file = parse_file(&text);
    let parse = t.elapsed();
    assert_eq!(file.entries.len(), n);
    let key = file.entries[n - 1].entry.key.key_data().unwrap().clone();
    let conn = ConnectionInfo::new(
        "10.1.2.3".parse().unwrap(),
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    );
    let t = Instant::now();
    let auth = file.authorize(&key, &conn).unwrap();
    let found = t.elapsed();
    println!("authorized_keys: {n} lines, {} bytes", text.len());
    println!(
        "parse: {parse:?} ({:.0} lines/s)",
        n as f64 / parse.as_secs_f64()
    );
    println!(
        "authorize (key on the last line): {found:?} -> line {}",
        auth.line
    );
}
