//! Differential tests against `ssh-keygen -F` (plain and after `ssh-keygen -H`) and
//! `ssh-keygen1 -F` for protocol-1 lines. Skipped, with a message, when the tools
//! are absent (Debian packages `openssh-client`, `openssh-client-ssh1`).

use sisu_knownhosts::{KnownHosts, Marker};
use std::path::{Path, PathBuf};
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-?").output().is_ok()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sisu-knownhosts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `(line, marker)` pairs that `tool -F name -f file` reports.
fn keygen_find(tool: &str, file: &Path, name: &str) -> Vec<String> {
    let out = Command::new(tool)
        .arg("-F")
        .arg(name)
        .arg("-f")
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("# Host {name} found: line ")))
        .map(|l| l.trim_end().to_string())
        .collect()
}

fn ours(kh: &KnownHosts, name: &str, ssh2_only: bool) -> Vec<String> {
    kh.entries_for(name)
        .filter(|(_, e)| !ssh2_only || matches!(e.key, sisu_knownhosts::HostKey::Ssh(_)))
        .map(|(n, e)| match e.marker {
            Some(Marker::CertAuthority) => format!("{n} CA"),
            Some(Marker::Revoked) => format!("{n} REVOKED"),
            None => n.to_string(),
        })
        .collect()
}

fn corpus(d: &Path) -> (String, Vec<&'static str>) {
    let mut keys = Vec::new();
    for (i, t) in ["ed25519", "ecdsa", "rsa"].iter().enumerate() {
        let f = format!("k{i}");
        let o = Command::new("ssh-keygen")
            .args(["-q", "-t", t, "-N", "", "-C", "", "-f", &f])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(o.status.success());
        let pubkey = std::fs::read_to_string(d.join(format!("{f}.pub"))).unwrap();
        keys.push(pubkey.split(' ').take(2).collect::<Vec<_>>().join(" "));
    }
    let hosts = [
        "example.com",
        "EXAMPLE.org,10.0.0.1",
        "*.example.com,!bad.example.com",
        "[git.example.com]:2222",
        "[*.example.com]:*",
        "db?.example.net",
        "10.0.0.*,!10.0.0.13",
        "*",
    ];
    let mut text = String::from("# generated\n\n");
    for (i, h) in hosts.iter().enumerate() {
        let k = &keys[i % keys.len()];
        let marker = match i % 5 {
            3 => "@cert-authority ",
            4 => "@revoked ",
            _ => "",
        };
        text.push_str(&format!("{marker}{h} {k} comment {i}\n"));
        text.push_str(&format!("  {h}\t{k}\r\n"));
    }
    text.push_str("bad-line-without-key\n@bogus example.com x\n");
    let names = vec![
        "example.com",
        "EXAMPLE.org",
        "example.org",
        "10.0.0.1",
        "www.example.com",
        "bad.example.com",
        "[git.example.com]:2222",
        "git.example.com",
        "[www.example.com]:22",
        "db1.example.net",
        "db12.example.net",
        "10.0.0.13",
        "10.0.0.14",
        "nowhere.invalid",
    ];
    (text, names)
}

#[test]
fn find_agrees_with_ssh_keygen_plain_and_hashed() {
    if !have("ssh-keygen") {
        eprintln!("SKIPPED: ssh-keygen not found (install Debian package openssh-client)");
        return;
    }
    let d = tmpdir("find");
    let (text, names) = corpus(&d);
    let file = d.join("known_hosts");
    std::fs::write(&file, &text).unwrap();
    let kh = KnownHosts::parse(&text);
    let mut found = 0;
    for name in &names {
        let theirs = keygen_find("ssh-keygen", &file, name);
        assert_eq!(ours(&kh, name, true), theirs, "{name}");
        found += theirs.len();
    }
    // not two empty answers: the corpus has lines for most names
    assert!(found >= names.len(), "ssh-keygen -F found {found} lines");
    // hash the file with ssh-keygen -H (which refuses files with invalid lines);
    // look-ups by name must still agree
    let valid: String = text
        .lines()
        .filter(|l| !l.contains("bad-line") && !l.contains("@bogus"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, valid).unwrap();
    let o = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let hashed = std::fs::read_to_string(&file).unwrap();
    let kh = KnownHosts::parse(&hashed);
    assert!(kh
        .entries()
        .any(|(_, e)| matches!(e.hosts, sisu_knownhosts::Hosts::Hashed(_))));
    let mut found_hashed = 0;
    for name in &names {
        let theirs = keygen_find("ssh-keygen", &file, name);
        assert_eq!(ours(&kh, name, true), theirs, "hashed {name}");
        found_hashed += theirs.len();
    }
    assert!(
        found_hashed >= names.len(),
        "ssh-keygen -F found {found_hashed} lines"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn added_and_removed_entries_are_read_by_ssh_keygen() {
    if !have("ssh-keygen") {
        eprintln!("SKIPPED: ssh-keygen not found (install Debian package openssh-client)");
        return;
    }
    let d = tmpdir("write");
    let (text, _) = corpus(&d);
    // removal agrees with ssh-keygen -R, line for line
    let text: String = text
        .lines()
        .filter(|l| !l.contains("bad-line") && !l.contains("@bogus"))
        .map(|l| format!("{l}\n"))
        .collect();
    let rfile = d.join("kh_r");
    std::fs::write(&rfile, &text).unwrap();
    let o = Command::new("ssh-keygen")
        .args(["-R", "example.com", "-f"])
        .arg(&rfile)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut kh = KnownHosts::parse(&text);
    assert_eq!(kh.remove("example.com"), vec![3, 4, 17, 18]);
    assert_eq!(kh.to_string(), std::fs::read_to_string(&rfile).unwrap());
    let mut kh = KnownHosts::parse(&text);
    let key = match &kh.entries().next().unwrap().1.key {
        sisu_knownhosts::HostKey::Ssh(k) => k.clone(),
        _ => unreachable!(),
    };
    kh.add("plain.test", 22, &key, None);
    kh.add("hashed.test", 2200, &key, Some(&mut rand_core::OsRng));
    kh.remove("example.com");
    let file = d.join("kh2");
    std::fs::write(&file, kh.to_string()).unwrap();
    let back = KnownHosts::parse(&kh.to_string());
    for name in [
        "plain.test",
        "[hashed.test]:2200",
        "example.com",
        "www.example.com",
    ] {
        let theirs = keygen_find("ssh-keygen", &file, name);
        assert_eq!(ours(&back, name, true), theirs, "{name}");
    }
    assert_eq!(
        keygen_find("ssh-keygen", &file, "[hashed.test]:2200"),
        vec!["16"]
    ); // the "*" lines went with example.com
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn protocol1_lines_agree_with_ssh_keygen1() {
    if !have("ssh-keygen1") {
        eprintln!("SKIPPED: ssh-keygen1 not found (install Debian package openssh-client-ssh1)");
        return;
    }
    let d = tmpdir("find1");
    let o = Command::new("ssh-keygen1")
        .args([
            "-q", "-t", "rsa1", "-b", "1024", "-N", "", "-C", "", "-f", "r1",
        ])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(o.status.success());
    let k1 = std::fs::read_to_string(d.join("r1.pub"))
        .unwrap()
        .trim()
        .to_string();
    let (mut text, names) = corpus(&d);
    for h in [
        "example.com",
        "*.example.net,!db1.example.net",
        "[git.example.com]:2222",
    ] {
        text.push_str(&format!("{h} {k1}\n"));
    }
    let file = d.join("known_hosts");
    std::fs::write(&file, &text).unwrap();
    let kh = KnownHosts::parse(&text);
    let mut rsa1_found = 0;
    for name in &names {
        let theirs = keygen_find("ssh-keygen1", &file, name);
        assert_eq!(ours(&kh, name, false), theirs, "{name}");
        rsa1_found += theirs
            .iter()
            .filter(|l| l.parse::<usize>().is_ok_and(|n| n > 20))
            .count();
    }
    // the protocol-1 lines (21-23) were among the answers
    assert!(rsa1_found >= 3, "{rsa1_found}");
    let _ = std::fs::remove_dir_all(&d);
}
