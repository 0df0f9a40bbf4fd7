//! Path canonicalization for REALPATH and `expand-path@openssh.com`, done over the
//! [`Filesystem`] so every implementation gets the same semantics.

use crate::fs::{Errno, Filesystem};

/// The longest path REALPATH returns (Linux `PATH_MAX`).
pub const PATH_MAX: usize = 4096;
/// Symbolic links followed in one canonicalization before `ELOOP`.
pub const MAX_SYMLINKS: usize = 32;

/// Joins `name` to directory `dir` with one slash.
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// The absolute path with no ".", ".." or symbolic link components, as BSD
/// `realpath(3)` (and so OpenSSH) computes it. A missing final component is
/// allowed (the path of a file about to be created); a missing directory is not.
pub fn realpath<F: Filesystem + ?Sized>(fs: &mut F, path: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut resolved: Vec<u8> = if path.starts_with(b"/") {
        b"/".to_vec()
    } else {
        fs.cwd()?
    };
    if !resolved.starts_with(b"/") {
        return Err(Errno::ENOENT);
    }
    let mut pending: Vec<Vec<u8>> = components(path);
    pending.reverse(); // a stack: next component last
    let mut links = 0;
    while let Some(c) = pending.pop() {
        if c == b".." {
            if let Some(i) = resolved.iter().rposition(|&b| b == b'/') {
                resolved.truncate(i.max(1));
            }
            continue;
        }
        let candidate = join(&resolved, &c);
        if candidate.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        match fs.lstat(&candidate) {
            Err(Errno::ENOENT) if pending.is_empty() => return Ok(candidate),
            Err(e) => return Err(e),
            Ok(m) if m.is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = fs.readlink(&candidate)?;
                if target.starts_with(b"/") {
                    resolved = b"/".to_vec();
                }
                let mut more = components(&target);
                more.reverse();
                pending.extend(more);
                if pending.len() > PATH_MAX {
                    return Err(Errno::ENAMETOOLONG);
                }
            }
            Ok(m) => {
                if !pending.is_empty() && !m.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                resolved = candidate;
            }
        }
    }
    Ok(resolved)
}

fn components(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memfs::MemFs;

    #[test]
    fn canonicalizes() {
        let mut fs = MemFs::new();
        fs.mkdir_all(b"/a/b").unwrap();
        fs.write_file(b"/a/b/f", b"x").unwrap();
        fs.symlink_at(b"b", b"/a/l").unwrap();
        fs.symlink_at(b"/a/b/f", b"/abs").unwrap();
        fs.symlink_at(b"loop", b"/loop").unwrap();
        fs.set_cwd(b"/a").unwrap();
        let mut rp = |p: &[u8]| realpath(&mut fs, p).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(rp(b"."), Ok("/a".into()));
        assert_eq!(rp(b"b/../b/./f"), Ok("/a/b/f".into()));
        assert_eq!(rp(b"l/f"), Ok("/a/b/f".into()));
        assert_eq!(rp(b"/abs"), Ok("/a/b/f".into()));
        assert_eq!(rp(b"/../../a"), Ok("/a".into()));
        assert_eq!(rp(b"/"), Ok("/".into()));
        assert_eq!(rp(b"new"), Ok("/a/new".into()));
        assert_eq!(rp(b"nodir/new"), Err(Errno::ENOENT));
        assert_eq!(rp(b"b/f/x"), Err(Errno::ENOTDIR));
        assert_eq!(rp(b"/loop"), Err(Errno::ELOOP));
        assert_eq!(join(b"/", b"x"), b"/x".to_vec());
        assert_eq!(join(b"/a", b"x"), b"/a/x".to_vec());
    }
}
