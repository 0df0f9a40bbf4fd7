//! Tests of the rules: token expansion, and `AuthenticationMethods` in memory.

use super::*;
use std::path::PathBuf;

fn expand_authorized_keys_path(pattern: &str, user: &UserInfo) -> PathBuf {
    let p = crate::config::authorized_keys_paths(
        &[pattern.to_string()],
        &user.name,
        user.uid,
        &user.home,
    );
    p.into_iter().next().expect("one path")
}

#[test]
fn token_expansion() {
    let u = UserInfo {
        name: "alice".into(),
        uid: 1001,
        gid: 1001,
        home: "/home/alice".into(),
        shell: "/bin/sh".into(),
        groups: vec![],
    };
    assert_eq!(
        expand_authorized_keys_path(".ssh/authorized_keys", &u),
        PathBuf::from("/home/alice/.ssh/authorized_keys")
    );
    assert_eq!(
        expand_authorized_keys_path("/etc/keys/%u.%U%%", &u),
        PathBuf::from("/etc/keys/alice.1001%")
    );
    assert_eq!(
        expand_authorized_keys_path("%h/k", &u),
        PathBuf::from("/home/alice/k")
    );
}

/// `AuthenticationMethods` as the rules apply it, in memory: no sequence of method
/// successes completes authentication unless one list's methods all succeeded, in
/// order (each list advances on its own, as in OpenSSH); the methods offered are
/// always the next ones of the open lists.
mod authentication_methods {
    use super::*;
    use proptest::prelude::*;

    const METHODS: [&str; 2] = ["publickey", "password"];

    fn rules(lists: Option<Vec<Vec<String>>>) -> Rules {
        let mut cfg = crate::config::Config::default_for(&crate::algs::sets());
        cfg.authentication_methods = lists;
        let ends = Endpoints {
            peer: None,
            local: None,
        };
        Rules::new(crate::algs::auth_settings(&cfg), ends, None)
    }

    fn key(seed: u8) -> PublicKey {
        let sk = ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]);
        PublicKey::from(ssh_key::public::Ed25519PublicKey::from(&sk.private))
    }

    /// Whether `done` (the methods that succeeded, in order) completes one of `lists`:
    /// as in OpenSSH every list advances on its own, by its first method, so a list is
    /// done when its methods are a subsequence of `done`, in order.
    fn completes(lists: &[Vec<String>], done: &[&str]) -> bool {
        lists.iter().any(|l| {
            let mut want = l.iter().peekable();
            for d in done {
                if want.peek().is_some_and(|w| w == d) {
                    want.next();
                }
            }
            want.peek().is_none()
        })
    }

    proptest! {
        #[test]
        fn only_a_whole_list_in_order_completes(
            lists in prop::collection::vec(prop::collection::vec(0usize..2, 1..4), 1..4),
            attempts in prop::collection::vec(0usize..2, 0..8),
        ) {
            let lists: Vec<Vec<String>> = lists
                .iter()
                .map(|l| l.iter().map(|&m| METHODS[m].to_string()).collect())
                .collect();
            let mut r = rules(Some(lists.clone()));
            let mut done: Vec<&str> = Vec::new();
            for (i, &m) in attempts.iter().enumerate() {
                let method = METHODS[m];
                let offered = r.methods("alice");
                // A method that is not offered is never tried by the daemon (the
                // machine fails it unasked), so it cannot succeed.
                if !offered.iter().any(|o| o.name() == method) {
                    continue;
                }
                let k = key(i as u8);
                let used = (method == "publickey").then_some(&k);
                let grant = Grant::unrestricted(method);
                match r.method_succeeded("alice", method, used, grant) {
                    Ok(Progress::Complete(_)) => {
                        done.push(method);
                        prop_assert!(completes(&lists, &done), "{lists:?} completed by {done:?}");
                        return Ok(());
                    }
                    Ok(Progress::Partial) => {
                        done.push(method);
                        prop_assert!(!completes(&lists, &done), "{lists:?}: {done:?} should complete");
                    }
                    Err(e) => prop_assert!(false, "{e}"),
                }
            }
        }
    }

    #[test]
    fn without_the_keyword_one_method_is_enough() {
        let mut r = rules(None);
        let names: Vec<&str> = r.methods("alice").iter().map(|m| m.name()).collect();
        assert_eq!(names, ["publickey", "password"]);
        assert!(matches!(
            r.method_succeeded("alice", "password", None, Grant::unrestricted("password")),
            Ok(Progress::Complete(_))
        ));
    }

    #[test]
    fn the_next_methods_are_offered() {
        let lists = vec![
            vec!["publickey".to_string(), "password".to_string()],
            vec![
                "password".to_string(),
                "publickey".to_string(),
                "publickey".to_string(),
            ],
        ];
        let mut r = rules(Some(lists));
        let offered = |r: &mut Rules| -> Vec<&'static str> {
            r.methods("alice").iter().map(|m| m.name()).collect()
        };
        assert_eq!(offered(&mut r), ["publickey", "password"]);
        assert!(matches!(
            r.method_succeeded("alice", "password", None, Grant::unrestricted("password")),
            Ok(Progress::Partial)
        ));
        assert_eq!(offered(&mut r), ["publickey"]);
        let k = key(1);
        assert!(matches!(
            r.method_succeeded("alice", "publickey", Some(&k), Grant::unrestricted("k")),
            Ok(Progress::Partial)
        ));
        // Both lists advanced: the first wants password next, the second publickey.
        assert_eq!(offered(&mut r), ["publickey", "password"]);
    }
}
