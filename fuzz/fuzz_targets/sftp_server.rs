//! The SFTP server over an in-memory filesystem fed arbitrary bytes after an INIT,
//! in chunks whose size the first byte picks, with options the second byte picks:
//! it never panics, and its buffered output stays below the documented bound and
//! is always whole packets.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sisu_sftp::message::{Request, Response};
use sisu_sftp::{MemFs, NullSink, Options, Server, MAX_BUFFERED_OUTPUT};

fuzz_target!(|data: &[u8]| {
    let (chunk, flags, rest) = match data {
        [c, f, rest @ ..] => (usize::from(*c) + 1, *f, rest),
        _ => return,
    };
    let mut fs = MemFs::new();
    fs.set_max_bytes(1 << 20);
    let _ = fs.mkdir_all(b"/home/u/d");
    let _ = fs.write_file(b"/home/u/f", b"0123456789");
    let _ = fs.symlink_at(b"f", b"/home/u/l");
    fs.add_user(1000, "u", b"/home/u");
    let _ = fs.set_cwd(b"/home/u");
    let mut args = Vec::new();
    if flags & 1 != 0 {
        args.push("-R".to_string());
    }
    if flags & 2 != 0 {
        args.extend(["-P".to_string(), "write,remove,copy-data".to_string()]);
    }
    if flags & 4 != 0 {
        args.extend(["-u".to_string(), "022".to_string()]);
    }
    let Ok(opts) = Options::parse(&args) else {
        return;
    };
    let opts = opts.with_session("u", 1000, "/home/u", "192.0.2.1");
    let mut server = Server::new(fs, &opts, NullSink);
    let mut input = Request::Init {
        version: u32::from(flags >> 4),
    }
    .frame();
    input.extend_from_slice(rest);
    let mut pos = 0;
    while pos < input.len() {
        let end = (pos + chunk).min(input.len());
        let Ok(n) = server.handle_input(&input[pos..end]) else {
            break;
        };
        pos += n;
        assert!(server.pending_output().len() <= MAX_BUFFERED_OUTPUT);
        if n == 0 || flags & 8 != 0 {
            let out = server.take_output();
            let (_, used) = Response::split_frames(&out);
            assert_eq!(used, out.len());
        }
    }
    server.finish();
});
