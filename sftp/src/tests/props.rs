//! Property tests: chunking does not change output; random input never panics and
//! output stays bounded; encodings round-trip.

use super::*;
use crate::ext::ExtRequest;
use proptest::prelude::*;

fn path() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        "a.txt", "b", "d", "d/e", "/home", "..", ".", "l", "", "/", "~",
    ])
    .prop_map(|s| s.as_bytes().to_vec())
}

fn handle() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u32..4).prop_map(|i| i.to_be_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..6)
    ]
}

fn attrs() -> impl Strategy<Value = Attrs> {
    (
        prop::option::of(0u64..100_000),
        prop::option::of(any::<(u32, u32)>()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<(u32, u32)>()),
        prop::collection::vec(
            (
                prop::collection::vec(any::<u8>(), 0..5),
                prop::collection::vec(any::<u8>(), 0..5),
            ),
            0..3,
        ),
    )
        .prop_map(|(size, uid_gid, permissions, times, extended)| Attrs {
            size,
            uid_gid,
            permissions,
            times,
            extended,
        })
}

fn request() -> impl Strategy<Value = Request> {
    let id = 0u32..1000;
    prop_oneof![
        (id.clone(), path(), 0u32..64, attrs()).prop_map(|(id, path, pflags, attrs)| {
            Request::Open {
                id,
                path,
                pflags,
                attrs,
            }
        }),
        (id.clone(), handle()).prop_map(|(id, handle)| Request::Close { id, handle }),
        (id.clone(), handle(), 0u64..20, any::<u32>()).prop_map(|(id, handle, offset, len)| {
            Request::Read {
                id,
                handle,
                offset,
                len,
            }
        }),
        (
            id.clone(),
            handle(),
            0u64..20,
            prop::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(id, handle, offset, data)| Request::Write {
                id,
                handle,
                offset,
                data
            }),
        (id.clone(), path()).prop_map(|(id, path)| Request::Lstat { id, path }),
        (id.clone(), handle()).prop_map(|(id, handle)| Request::Fstat { id, handle }),
        (id.clone(), path(), attrs()).prop_map(|(id, path, attrs)| Request::Setstat {
            id,
            path,
            attrs
        }),
        (id.clone(), handle(), attrs()).prop_map(|(id, handle, attrs)| Request::Fsetstat {
            id,
            handle,
            attrs
        }),
        (id.clone(), path()).prop_map(|(id, path)| Request::Opendir { id, path }),
        (id.clone(), handle()).prop_map(|(id, handle)| Request::Readdir { id, handle }),
        (id.clone(), path()).prop_map(|(id, path)| Request::Remove { id, path }),
        (id.clone(), path(), attrs()).prop_map(|(id, path, attrs)| Request::Mkdir {
            id,
            path,
            attrs
        }),
        (id.clone(), path()).prop_map(|(id, path)| Request::Rmdir { id, path }),
        (id.clone(), path()).prop_map(|(id, path)| Request::Realpath { id, path }),
        (id.clone(), path()).prop_map(|(id, path)| Request::Stat { id, path }),
        (id.clone(), path(), path()).prop_map(|(id, old, new)| Request::Rename { id, old, new }),
        (id.clone(), path()).prop_map(|(id, path)| Request::Readlink { id, path }),
        (id.clone(), path(), path()).prop_map(|(id, target, link)| Request::Symlink {
            id,
            target,
            link
        }),
        (id.clone(), path(), path()).prop_map(|(id, old, new)| ExtRequest::PosixRename {
            old,
            new
        }
        .to_request(id)),
        (id.clone(), path(), path())
            .prop_map(|(id, old, new)| ExtRequest::Hardlink { old, new }.to_request(id)),
        (id.clone(), path()).prop_map(|(id, path)| ExtRequest::ExpandPath { path }.to_request(id)),
        (id.clone(), handle(), 0u64..20, 0u64..20, handle(), 0u64..20).prop_map(
            |(id, from, from_offset, len, to, to_offset)| {
                ExtRequest::CopyData {
                    from,
                    from_offset,
                    len,
                    to,
                    to_offset,
                }
                .to_request(id)
            }
        ),
        (
            id.clone(),
            prop::collection::vec(0u32..2000, 0..4),
            prop::collection::vec(0u32..2000, 0..4)
        )
            .prop_map(|(id, uids, gids)| ExtRequest::UsersGroupsById { uids, gids }.to_request(id)),
        id.clone().prop_map(|id| ExtRequest::Limits.to_request(id)),
        (id, handle()).prop_map(|(id, handle)| ExtRequest::Fsync { handle }.to_request(id)),
    ]
}

fn run(input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut s = Server::new(fs(), &opts(&["-l", "DEBUG3"]), VecSink::default());
    let mut out = Vec::new();
    let mut pos = 0;
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    bounds.push(input.len());
    bounds.sort_unstable();
    for b in bounds {
        while pos < b {
            let n = s.handle_input(&input[pos..b]).unwrap();
            pos += n;
            out.extend_from_slice(&s.take_output());
        }
    }
    s.handle_input(&[]).unwrap();
    out.extend_from_slice(&s.take_output());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn chunking_does_not_change_output(
        reqs in prop::collection::vec(request(), 1..30),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let mut input = Request::Init { version: 3 }.frame();
        for r in &reqs {
            input.extend_from_slice(&r.frame());
        }
        let whole = run(&input, &[]);
        let chunked = run(&input, &cuts);
        let bytewise: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(&whole, &chunked);
        prop_assert_eq!(&whole, &run(&input, &bytewise));
        // One reply per request, plus VERSION.
        let (frames, used) = Response::split_frames(&whole);
        prop_assert_eq!(used, whole.len());
        prop_assert_eq!(frames.len(), reqs.len() + 1);
    }

    #[test]
    fn random_packets_never_panic_and_output_stays_bounded(
        packets in prop::collection::vec((any::<u8>(), prop::collection::vec(any::<u8>(), 0..64)), 0..40),
        raw in prop::collection::vec(any::<u8>(), 0..64),
        drain_every in 1usize..8,
    ) {
        let mut s = Server::new(fs(), &opts(&["-l", "DEBUG3"]), VecSink::default());
        let mut input = Request::Init { version: 3 }.frame();
        for (t, body) in &packets {
            // Known types get a valid id prefix more often than not.
            let mut p = vec![*t % 24 + if *t > 128 { 0 } else { 1 }];
            if *t == 255 { p[0] = 200; }
            p.extend_from_slice(body);
            input.extend_from_slice(&crate::message::frame(&p));
        }
        input.extend_from_slice(&raw);
        let mut pos = 0;
        let mut calls = 0;
        while pos < input.len() {
            let end = (pos + 50).min(input.len());
            match s.handle_input(&input[pos..end]) {
                Ok(n) => pos += n,
                Err(_) => break,
            }
            prop_assert!(s.pending_output().len() <= MAX_BUFFERED_OUTPUT);
            calls += 1;
            if calls % drain_every == 0 || !s.wants_input() {
                let out = s.take_output();
                let (_, used) = Response::split_frames(&out);
                prop_assert_eq!(used, out.len(), "output is whole packets");
            }
        }
        prop_assert!(s.open_handles() <= crate::MAX_OPEN_HANDLES);
        s.finish();
    }

    #[test]
    fn attrs_round_trip(a in attrs()) {
        let enc = a.encode();
        prop_assert_eq!(Attrs::parse(&enc), Some((a.clone(), enc.len())));
        // Any truncation fails rather than misparsing.
        for cut in 0..enc.len() {
            prop_assert_eq!(Attrs::parse(&enc[..cut]), None);
        }
    }

    #[test]
    fn requests_round_trip(r in request()) {
        let enc = r.encode();
        // Paths with NUL are never generated, so every request parses back.
        prop_assert_eq!(Request::parse(&enc), Ok(r.clone()));
        if let Request::Extended { name, data, .. } = &r {
            let e = ExtRequest::parse(name, data);
            prop_assert!(e.is_some());
            prop_assert_eq!(e.map(|e| e.to_request(0).encode()[5..].to_vec()), Some(enc[5..].to_vec()));
        }
    }

    #[test]
    fn responses_round_trip(id in any::<u32>(), code in 0u32..9, msg in "[a-z ]{0,20}", data in prop::collection::vec(any::<u8>(), 0..40), a in attrs()) {
        for r in [
            Response::Status { id, code, message: msg.clone(), lang: String::new() },
            Response::Handle { id, handle: data.clone() },
            Response::Data { id, data: data.clone() },
            Response::Attrs { id, attrs: a.clone() },
            Response::ExtendedReply { id, data: data.clone() },
            Response::Name { id, entries: vec![crate::message::NameEntry { filename: data.clone(), longname: msg.clone().into_bytes(), attrs: a.clone() }] },
        ] {
            prop_assert_eq!(Response::parse(&r.encode()), Some(r.clone()));
        }
    }
}
