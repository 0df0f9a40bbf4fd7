//! Differential tests: our fingerprints against `ssh-keygen -l` (and `ssh-keygen1 -l`
//! for protocol-1 lines) on a generated corpus. Skipped, with a message, when the
//! tools are absent (Debian packages `openssh-client` and `openssh-client-ssh1`).

use base64::Engine;
use sisu_authkeys::{parse_file, Entry, EntryKey};
use std::path::{Path, PathBuf};
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-?").output().is_ok()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sisu-authkeys-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn keygen(dir: &Path, args: &[&str]) {
    let st = Command::new("ssh-keygen")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "ssh-keygen {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

fn read(dir: &Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f))
        .unwrap()
        .trim_end()
        .to_string()
}

/// `ssh-keygen -l` on a one-line file: the fingerprint, or None if it rejects it.
fn keygen_fp(tool: &str, dir: &Path, line: &str) -> Option<String> {
    let f = dir.join("one");
    std::fs::write(&f, format!("{line}\n")).unwrap();
    let out = Command::new(tool)
        .arg("-l")
        .arg("-f")
        .arg(&f)
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().nth(1).map(str::to_string)
}

fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// The SSH strings of a blob.
fn ssh_strings(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    while b.len() >= 4 {
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        v.push(b[4..4 + n].to_vec());
        b = &b[4 + n..];
    }
    v
}

#[test]
fn fingerprints_agree_with_ssh_keygen() {
    if !have("ssh-keygen") {
        eprintln!("SKIPPED: ssh-keygen not found (install Debian package openssh-client)");
        return;
    }
    let d = tmpdir("fp");
    let mut keys = Vec::new();
    for (name, args) in [
        ("ed", vec!["-t", "ed25519"]),
        ("e256", vec!["-t", "ecdsa", "-b", "256"]),
        ("e384", vec!["-t", "ecdsa", "-b", "384"]),
        ("e521", vec!["-t", "ecdsa", "-b", "521"]),
        ("rsa", vec!["-t", "rsa", "-b", "1024"]),
        ("dsa", vec!["-t", "dsa"]),
    ] {
        let mut a = vec!["-q", "-N", "", "-C", "a comment", "-f", name];
        a.extend(args);
        keygen(&d, &a);
        keys.push(read(&d, &format!("{name}.pub")));
    }
    // certificates signed by two different CAs
    keygen(
        &d,
        &["-q", "-s", "ed", "-I", "id1", "-n", "alice,bob", "rsa.pub"],
    );
    keygen(
        &d,
        &["-q", "-s", "rsa", "-I", "id2", "-n", "carol", "e384.pub"],
    );
    keygen(
        &d,
        &["-q", "-s", "e256", "-I", "id3", "-n", "dave", "ed.pub"],
    );
    keys.push(read(&d, "rsa-cert.pub"));
    keys.push(read(&d, "e384-cert.pub"));
    keys.push(read(&d, "ed-cert.pub"));
    // FIDO keys, built from the plain ones (sshd and ssh-keygen check no token)
    let b64 = base64::engine::general_purpose::STANDARD;
    let ed = ssh_strings(&b64.decode(keys[0].split(' ').nth(1).unwrap()).unwrap());
    let mut sk = Vec::new();
    ssh_string(&mut sk, b"sk-ssh-ed25519@openssh.com");
    ssh_string(&mut sk, &ed[1]);
    ssh_string(&mut sk, b"ssh:");
    keys.push(format!(
        "sk-ssh-ed25519@openssh.com {} sk ed",
        b64.encode(&sk)
    ));
    let ec = ssh_strings(&b64.decode(keys[1].split(' ').nth(1).unwrap()).unwrap());
    let mut sk = Vec::new();
    ssh_string(&mut sk, b"sk-ecdsa-sha2-nistp256@openssh.com");
    ssh_string(&mut sk, &ec[1]);
    ssh_string(&mut sk, &ec[2]);
    ssh_string(&mut sk, b"ssh:");
    keys.push(format!(
        "sk-ecdsa-sha2-nistp256@openssh.com {} sk ec",
        b64.encode(&sk)
    ));

    let option_sets = [
        "",
        "restrict ",
        "no-pty,command=\"echo \\\"a b\\\"\" ",
        "from=\"10.0.0.0/8,!10.0.0.1,*.example.com\",expiry-time=\"20991231Z\" ",
        "environment=\"A=b c\",permitopen=\"h:22\",permitlisten=\"8080\",tunnel=\"any\" ",
        "cert-authority,principals=\"alice\" ",
    ];
    let mut corpus = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        for (j, o) in option_sets.iter().enumerate() {
            let line = format!("{o}{k}");
            corpus.push(match (i + j) % 3 {
                0 => line,
                1 => format!("  {line}\r"),
                _ => line
                    .rsplitn(3, ' ')
                    .nth(2)
                    .unwrap()
                    .to_string()
                    .replace(' ', "\t"),
            });
        }
        // broken blobs: truncated, garbage, wrong type name
        let (ty, rest) = k.split_once(' ').unwrap();
        let blob = rest.split(' ').next().unwrap();
        corpus.push(format!("{ty} {}", &blob[..blob.len() / 2]));
        corpus.push(format!(
            "{ty} {}",
            b64.encode(b"\0\0\0\x0bssh-ed25519garbage")
        ));
        let other = if ty == "ssh-rsa" {
            "ssh-ed25519"
        } else {
            "ssh-rsa"
        };
        corpus.push(format!("{other} {blob}"));
    }
    let mut compared = 0;
    for line in &corpus {
        let ours = Entry::parse(line).unwrap_or(None);
        let theirs = keygen_fp("ssh-keygen", &d, line);
        match (&ours, &theirs) {
            (Some(e), Some(fp)) => {
                assert_eq!(&e.key.fingerprint(), fp, "{line}");
                compared += 1;
            }
            (None, None) => {}
            _ => panic!(
                "disagree on {line:?}: ours {:?}, ssh-keygen {theirs:?}",
                ours.map(|e| e.key.fingerprint())
            ),
        }
    }
    assert!(compared >= keys.len() * option_sets.len(), "{compared}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn protocol1_fingerprints_agree_with_ssh_keygen1() {
    if !have("ssh-keygen1") {
        eprintln!("SKIPPED: ssh-keygen1 not found (install Debian package openssh-client-ssh1)");
        return;
    }
    let d = tmpdir("fp1");
    let mut lines = Vec::new();
    for (i, bits) in ["1024", "2048", "1024"].iter().enumerate() {
        let name = format!("r{i}");
        let out = Command::new("ssh-keygen1")
            .args([
                "-q", "-t", "rsa1", "-b", bits, "-N", "", "-C", "rsa1 key", "-f", &name,
            ])
            .current_dir(&d)
            .output()
            .unwrap();
        assert!(out.status.success());
        let k = read(&d, &format!("{name}.pub"));
        lines.push(k.clone());
        lines.push(format!("no-pty,from=\"*\" {k}"));
    }
    let file = parse_file(&lines.join("\n"));
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    for (fe, line) in file.entries.iter().zip(&lines) {
        assert!(matches!(fe.entry.key, EntryKey::Rsa1(_)));
        let theirs = keygen_fp("ssh-keygen1", &d, line).expect("ssh-keygen1 reads it");
        assert_eq!(fe.entry.key.fingerprint(), theirs, "{line}");
        assert_eq!(&fe.entry.to_string(), line);
    }
    let _ = std::fs::remove_dir_all(&d);
}
