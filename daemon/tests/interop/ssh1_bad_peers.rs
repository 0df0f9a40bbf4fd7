//! Bad SSH-1 peers over raw TCP against `Protocol 2,1`: a huge length, a bad CRC, a
//! session key whose padding is wrong (the server goes on exactly as for a good one,
//! so the next packet fails its CRC: no Bleichenbacher oracle), and a CRC-32
//! compensation attack packet. Each connection is closed within a bound with a log
//! line naming its port, and the server goes on serving.
//!
//! The packets are built here by hand (length, padding, type, data, CRC-32), so that
//! this test does not lean on the codec it tests.

use crate::common::{raw_connect, read_ident, read_until_closed, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const CLOSE_BOUND: Duration = Duration::from_secs(10);

/// SSH-1's CRC-32 (the IEEE polynomial, reflected, but starting from 0 and not
/// inverted at the end, as the original's `crc32()`), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// An unencrypted SSH-1 packet (zero padding), its CRC XORed with `crc_xor`.
fn packet(msg_type: u8, data: &[u8], crc_xor: u32) -> Vec<u8> {
    let len = 1 + data.len() + 4;
    let pad = 8 - len % 8;
    let mut body = vec![0u8; pad];
    body.push(msg_type);
    body.extend_from_slice(data);
    let crc = crc32(&body) ^ crc_xor;
    let mut out = (len as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// Connects as an SSH-1 client and reads the server's SSH_SMSG_PUBLIC_KEY: the
/// socket, its local port, and the anti-spoofing cookie.
fn connect(server: &Server) -> (TcpStream, u16, [u8; 8]) {
    let mut s = raw_connect(server, CLOSE_BOUND);
    let port = s.local_addr().unwrap().port();
    s.write_all(b"SSH-1.5-BadPeer_1.0\n").unwrap();
    let ident = read_ident(&mut s);
    assert!(ident.starts_with("SSH-1.99-"), "server ident: {ident:?}");
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let len = u32::from_be_bytes(len) as usize;
    let mut body = vec![0u8; (len + 8) & !7];
    s.read_exact(&mut body).unwrap();
    let pad = body.len() - len;
    assert_eq!(body[pad], 2, "SSH_SMSG_PUBLIC_KEY");
    let mut cookie = [0u8; 8];
    cookie.copy_from_slice(&body[pad + 1..pad + 9]);
    (s, port, cookie)
}

/// SSH_CMSG_SESSION_KEY for 3DES with the integer 1 as the "encrypted" key: its
/// padding cannot be right, and the server must not be able to tell.
fn session_key(cookie: &[u8; 8], crc_xor: u32) -> Vec<u8> {
    let mut data = vec![3u8];
    data.extend_from_slice(cookie);
    data.extend_from_slice(&[0, 1, 1]);
    data.extend_from_slice(&0u32.to_be_bytes());
    packet(3, &data, crc_xor)
}

/// The connection is closed within the bound, the log names its port with `line`,
/// and an SSH-2 login still works.
fn closed_with(server: &Server, s: &mut TcpStream, port: u16, line: &str) {
    let (_, closed) = read_until_closed(s, CLOSE_BOUND);
    assert!(closed, "server did not close within {CLOSE_BOUND:?}");
    let tag = format!("port {port}");
    let logged = server.wait_log_line(Duration::from_secs(5), |l| {
        l.contains(&tag) && l.contains(line)
    });
    assert!(logged.is_some(), "no {line:?} for {tag}:\n{}", server.log());
    let out = server.ssh().run("echo alive");
    out.assert_success();
    assert_eq!(out.stdout_str(), "alive\n");
}

fn server(name: &str) -> Server {
    Server::builder(name)
        .host_key(crate::common::HostKeyType::Rsa)
        .config("Protocol 2,1")
        .start()
}

/// A length of 256 MiB: refused before anything is allocated.
pub fn ssh1_huge_packet_length() {
    let server = server("ssh1-huge");
    let (mut s, port, _) = connect(&server);
    let mut p = 0x1000_0000u32.to_be_bytes().to_vec();
    p.extend_from_slice(&[0u8; 64]);
    let _ = s.write_all(&p);
    closed_with(&server, &mut s, port, "Bad packet length 268435456.");
}

/// A session-key packet with a wrong CRC.
pub fn ssh1_bad_crc() {
    let server = server("ssh1-crc");
    let (mut s, port, cookie) = connect(&server);
    let _ = s.write_all(&session_key(&cookie, 1));
    closed_with(&server, &mut s, port, "Corrupted check bytes on input.");
}

/// A session key whose PKCS#1 padding is wrong: the server answers as for any key
/// (an encrypted SSH_SMSG_SUCCESS), and the next packet fails its CRC.
pub fn ssh1_wrong_session_key_padding() {
    let server = server("ssh1-padding");
    let (mut s, port, cookie) = connect(&server);
    s.write_all(&session_key(&cookie, 0)).unwrap();
    let mut reply = [0u8; 12];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(
        u32::from_be_bytes([reply[0], reply[1], reply[2], reply[3]]),
        5,
        "an SSH_SMSG_SUCCESS-sized packet"
    );
    let mut p = 5u32.to_be_bytes().to_vec();
    p.extend_from_slice(&[0x42; 8]);
    let _ = s.write_all(&p);
    closed_with(&server, &mut s, port, "Corrupted check bytes on input.");
    assert!(
        !server.log().contains("Packet integrity error"),
        "{}",
        server.log()
    );
}

/// Positions, in a packet of 40 blocks, where one repeated block makes the
/// compensation pattern's CRC cancel (see sisu-wire's deattack tests, where they
/// were computed independently with Python's zlib).
const CANCELLING_40: [usize; 15] = [0, 6, 9, 10, 16, 20, 21, 22, 24, 25, 27, 28, 30, 31, 32];

/// After the keys: a packet whose ciphertext repeats one block where a CRC-32
/// compensation attack would (CVE-2001-0144).
pub fn ssh1_compensation_attack_packet() {
    let server = server("ssh1-deattack");
    let (mut s, port, cookie) = connect(&server);
    s.write_all(&session_key(&cookie, 0)).unwrap();
    let mut reply = [0u8; 12];
    s.read_exact(&mut reply).unwrap();
    let mut p = 312u32.to_be_bytes().to_vec();
    for i in 0..40usize {
        if CANCELLING_40.contains(&i) {
            p.extend_from_slice(b"\xde\xad\xbe\xef\x01\x02\x03\x04");
        } else {
            let mut b = [0x5a; 8];
            b[..4].copy_from_slice(&(i as u32).to_be_bytes());
            p.extend_from_slice(&b);
        }
    }
    let _ = s.write_all(&p);
    closed_with(
        &server,
        &mut s,
        port,
        "crc32 compensation attack: network attack detected",
    );
}
