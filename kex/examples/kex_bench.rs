//! Server CPU time per key exchange, for each method: many full in-memory exchanges
//! (server and client transports, an ed25519 host key so the signature costs little),
//! timing only the server's calls. Run by `cargo xtask bench kex`:
//!
//! ```text
//! cargo run --release -p sisu-kex --example kex_bench -- [ITERATIONS] [SECONDS_PER_METHOD]
//! ```
//!
//! Prints one line per method: `name  server_ms_per_kex  client_ms_per_kex  iterations`.
//! Single-threaded and without I/O, so wall time inside the server's calls is its CPU
//! time.

use rand_core::OsRng;
use sisu_kex::{HostKey, HostKeyAlg, KexAlg, Transport, TransportConfig};
use std::time::{Duration, Instant};

fn one(kex: KexAlg, key: &ssh_key::PrivateKey) -> (Duration, Duration) {
    let cfg = TransportConfig {
        kex: vec![kex],
        host_key_algs: vec![HostKeyAlg::Ed25519],
        ..TransportConfig::default()
    };
    let mut server_time = Duration::ZERO;
    let mut client_time = Duration::ZERO;
    let t = Instant::now();
    let mut client = Transport::client(cfg.clone(), Box::new(OsRng));
    client_time += t.elapsed();
    let t = Instant::now();
    let keys = vec![HostKey::new(key.clone()).expect("host key")];
    let mut server = Transport::server(cfg, keys, Box::new(OsRng));
    server_time += t.elapsed();
    for _ in 0..20 {
        if let Some(b) = client.poll_transmit() {
            let t = Instant::now();
            server.handle_input(&b).expect("server");
            server_time += t.elapsed();
        }
        if let Some(b) = server.poll_transmit() {
            let t = Instant::now();
            client.handle_input(&b).expect("client");
            client_time += t.elapsed();
        }
        if server.kex_count() > 0 && client.kex_count() > 0 {
            break;
        }
    }
    assert!(
        server.kex_count() == 1 && client.kex_count() == 1,
        "{kex:?}"
    );
    (server_time, client_time)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let budget = Duration::from_secs_f64(args.next().and_then(|a| a.parse().ok()).unwrap_or(3.0));
    let key = ssh_key::PrivateKey::random(&mut OsRng, ssh_key::Algorithm::Ed25519).unwrap();
    println!(
        "{:<40} {:>12} {:>12} {:>6}",
        "method", "server ms", "client ms", "runs"
    );
    for &kex in KexAlg::ALL {
        one(kex, &key); // warm up
        let (mut s, mut c, mut n) = (Duration::ZERO, Duration::ZERO, 0u32);
        let start = Instant::now();
        while n < iterations && (n < 5 || start.elapsed() < budget) {
            let (a, b) = one(kex, &key);
            s += a;
            c += b;
            n += 1;
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(n);
        println!(
            "{:<40} {:>12.3} {:>12.3} {:>6}",
            kex.name(),
            ms(s),
            ms(c),
            n
        );
    }
}
