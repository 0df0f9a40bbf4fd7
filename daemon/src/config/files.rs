//! Where `Include` finds its files: the file system, or a recording of what the
//! listener read at start-up.
//!
//! OpenSSH hands every connection the configuration it loaded at start-up (and only
//! SIGHUP reloads it), so a file changed on disk since then does not change new
//! sessions. Sisu's listener starts each session as a fresh process; it records what
//! its own parse read ([`Recorder`]), encodes it as a [`Bundle`], and the session
//! parses the same text again from it ([`Bundle`] is a [`ConfigFiles`] too), without
//! touching the disk.

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};

use super::MAX_CONFIG_BYTES;

/// What `Include` needs: the files a glob pattern names, and their text.
pub trait ConfigFiles {
    /// The paths `pattern` names, in lexical order; `Err` for a malformed pattern.
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String>;
    /// The text of the file at `path`.
    fn read(&self, path: &Path) -> io::Result<String>;
}

/// The file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsFiles;

impl ConfigFiles for FsFiles {
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let paths = glob::glob(pattern).map_err(|e| e.to_string())?;
        let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
        files.sort();
        Ok(files)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// The configuration as one parse saw it: the main file's text, and every glob and file
/// `Include` asked for, with the answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bundle {
    /// The main file's text.
    pub main: String,
    globs: Vec<(String, Vec<PathBuf>)>,
    files: Vec<(PathBuf, String)>,
}

/// Records what a parse reads through another [`ConfigFiles`].
pub struct Recorder<'a> {
    inner: &'a dyn ConfigFiles,
    bundle: RefCell<Bundle>,
}

impl<'a> Recorder<'a> {
    /// A recorder of what is read through `inner`, for a parse of `main`.
    pub fn new(inner: &'a dyn ConfigFiles, main: &str) -> Self {
        Recorder {
            inner,
            bundle: RefCell::new(Bundle {
                main: main.to_string(),
                ..Bundle::default()
            }),
        }
    }

    /// What was read.
    pub fn into_bundle(self) -> Bundle {
        self.bundle.into_inner()
    }
}

impl ConfigFiles for Recorder<'_> {
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        let r = self.inner.glob(pattern)?;
        self.bundle
            .borrow_mut()
            .globs
            .push((pattern.to_string(), r.clone()));
        Ok(r)
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        let text = self.inner.read(path)?;
        self.bundle
            .borrow_mut()
            .files
            .push((path.to_path_buf(), text.clone()));
        Ok(text)
    }
}

impl ConfigFiles for Bundle {
    fn glob(&self, pattern: &str) -> Result<Vec<PathBuf>, String> {
        Ok(self
            .globs
            .iter()
            .find(|(p, _)| p == pattern)
            .map(|(_, r)| r.clone())
            .unwrap_or_default())
    }

    fn read(&self, path: &Path) -> io::Result<String> {
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "not in the recorded configuration")
            })
    }
}

/// The magic at the start of an encoded [`Bundle`].
const MAGIC: &[u8; 8] = b"SISUCFG1";

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn path_bytes(p: &Path) -> &[u8] {
    std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str())
}

impl Bundle {
    /// The bundle as bytes: the magic, then length-prefixed strings (main text; the
    /// number of globs, each pattern and its paths; the number of files, each path and
    /// text).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put(&mut out, self.main.as_bytes());
        out.extend_from_slice(&(self.globs.len() as u32).to_be_bytes());
        for (pattern, paths) in &self.globs {
            put(&mut out, pattern.as_bytes());
            out.extend_from_slice(&(paths.len() as u32).to_be_bytes());
            for p in paths {
                put(&mut out, path_bytes(p));
            }
        }
        out.extend_from_slice(&(self.files.len() as u32).to_be_bytes());
        for (p, text) in &self.files {
            put(&mut out, path_bytes(p));
            put(&mut out, text.as_bytes());
        }
        out
    }

    /// Decodes [`Bundle::encode`]'s bytes; `None` for anything else (they come from our
    /// own listener, but are read as carefully as input from outside). At most
    /// [`MAX_CONFIG_BYTES`] of text in all.
    pub fn decode(bytes: &[u8]) -> Option<Bundle> {
        struct R<'a>(&'a [u8]);
        impl R<'_> {
            fn u32(&mut self) -> Option<usize> {
                let (h, t) = self.0.split_first_chunk::<4>()?;
                self.0 = t;
                Some(u32::from_be_bytes(*h) as usize)
            }
            fn bytes(&mut self) -> Option<&[u8]> {
                let n = self.u32()?;
                if n > self.0.len() {
                    return None;
                }
                let (h, t) = self.0.split_at(n);
                self.0 = t;
                Some(h)
            }
            fn text(&mut self) -> Option<String> {
                String::from_utf8(self.bytes()?.to_vec()).ok()
            }
            fn path(&mut self) -> Option<PathBuf> {
                let b = self.bytes()?;
                Some(PathBuf::from(std::ffi::OsStr::from_bytes(b)))
            }
        }
        use std::os::unix::ffi::OsStrExt;
        if bytes.len() > 2 * MAX_CONFIG_BYTES + 1024 * 1024 {
            return None;
        }
        let mut r = R(bytes.strip_prefix(MAGIC)?);
        let main = r.text()?;
        let mut b = Bundle {
            main,
            ..Bundle::default()
        };
        for _ in 0..r.u32()? {
            let pattern = r.text()?;
            let n = r.u32()?;
            if n > r.0.len() {
                return None;
            }
            let paths = (0..n).map(|_| r.path()).collect::<Option<Vec<_>>>()?;
            b.globs.push((pattern, paths));
        }
        for _ in 0..r.u32()? {
            let p = r.path()?;
            let text = r.text()?;
            b.files.push((p, text));
        }
        r.0.is_empty().then_some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_recorded_parse_replays_without_the_disk() {
        let dir = std::env::temp_dir().join(format!("sisu-bundle-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/a.conf"), "MaxAuthTries 4\n").unwrap();
        let main = format!("Include {}/d/*.conf\nPort 2022\n", dir.display());
        let rec = Recorder::new(&FsFiles, &main);
        let algs = super::super::AlgorithmSets::default();
        let (first, _) = super::super::parse_config_with(
            &main,
            Path::new("/m"),
            &super::super::Overrides::default(),
            &algs,
            &rec,
        )
        .unwrap();
        let bundle = Bundle::decode(&rec.into_bundle().encode()).unwrap();
        // The files change (or go) on disk: the bundle still gives the first answer.
        std::fs::remove_dir_all(&dir).unwrap();
        let (again, _) = super::super::parse_config_with(
            &bundle.main,
            Path::new("/m"),
            &super::super::Overrides::default(),
            &algs,
            &bundle,
        )
        .unwrap();
        assert_eq!(again, first);
        assert_eq!(again.max_auth_tries, 4);
    }

    proptest! {
        #[test]
        fn bundles_round_trip_and_garbage_is_refused(
            main in "(?s).{0,200}",
            globs in proptest::collection::vec(("[a-z*/]{0,20}", proptest::collection::vec("/[a-z]{1,10}", 0..4)), 0..4),
            files in proptest::collection::vec(("/[a-z]{1,10}", "(?s).{0,100}"), 0..4),
            garbage in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let b = Bundle {
                main,
                globs: globs.into_iter().map(|(p, v)| (p, v.into_iter().map(PathBuf::from).collect())).collect(),
                files: files.into_iter().map(|(p, t)| (PathBuf::from(p), t)).collect(),
            };
            let bytes = b.encode();
            prop_assert_eq!(Bundle::decode(&bytes), Some(b));
            // A truncated or extended bundle is refused, as is garbage after the magic.
            prop_assert_eq!(Bundle::decode(&bytes[..bytes.len() - 1]), None);
            let mut longer = bytes.clone();
            longer.push(0);
            prop_assert_eq!(Bundle::decode(&longer), None);
            let mut g = MAGIC.to_vec();
            g.extend_from_slice(&garbage);
            // Whatever decodes is canonical: it encodes back to the same bytes.
            if let Some(x) = Bundle::decode(&g) {
                prop_assert_eq!(x.encode(), g);
            }
        }
    }
}
