//! `sisu-sshd`: the Sisu SSH server.
//!
//! With no configuration file at the default path (`/etc/sisu/sshd_config`) it runs on
//! built-in defaults and generates ed25519 and RSA host keys (see `hostkeys`). Flags are
//! OpenSSH sshd's: `-D -d -e -f -p -h -o -t -T -E -i -4 -6 -q -Q -V -C`.
#![deny(unsafe_code)]

#[macro_use]
mod log;
mod agent;
mod algs;
mod hostkeys;
mod listener;
mod session;

use sisu_daemon::cli::{self, Args, TestMode};
use sisu_daemon::config::{self, Config};
use sisu_daemon::os;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::process::ExitCode;

fn main() -> ExitCode {
    os::ignore_sigpipe();
    // A session process re-executed by the listener finds its start-up notification
    // pipe on fd 3; take it before anything else opens a descriptor.
    let startup_notify = if std::env::args().any(|a| a == "-R") {
        os::take_startup_notify()
    } else {
        None
    };
    let argv: Vec<String> = std::env::args().collect();
    let args = match cli::parse_args(argv.iter().cloned()) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(1);
        }
    };
    ExitCode::from(real_main(args, &argv, startup_notify) as u8)
}

fn real_main(args: Args, argv: &[String], startup_notify: Option<std::fs::File>) -> i32 {
    if args.version {
        eprintln!("{}", cli::version_line());
        return 0;
    }
    if let Some(q) = &args.query {
        return match algs::query(*q) {
            Some(list) => {
                for n in list {
                    println!("{n}");
                }
                0
            }
            None => {
                eprintln!("sshd: query {q:?} lists nothing yet");
                0
            }
        };
    }
    let algs = algs::sets();
    let explicit = args.config_file_given;
    let path = args.config_file.clone();
    // A session started by the listener runs on the configuration the listener loaded
    // (handed over as fd 4), not on the files as they are now.
    let handed = if args.rexeced {
        os::take_config_bytes().and_then(|b| config::Bundle::decode(&b))
    } else {
        None
    };
    let text = match &handed {
        Some(b) => b.main.clone(),
        None => match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                eprintln!("{}: {}", path.display(), e);
                return 255;
            }
        },
    };
    let overrides = args.overrides();
    let recorder = config::Recorder::new(&config::FsFiles, &text);
    let files: &dyn config::ConfigFiles = match &handed {
        Some(b) => b,
        None => &recorder,
    };
    let (cfg, warnings) = match config::parse_config_with(&text, &path, &overrides, &algs, files) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            eprintln!(
                "{}: terminating, 1 bad configuration options",
                path.display()
            );
            return 255;
        }
    };
    init_logging(&args, &cfg);
    for w in &warnings {
        crate::log::log(crate::log::Level::Info, w);
    }
    if matches!(args.test, Some(TestMode::PrintUnchecked)) {
        print!("{}", effective(&cfg, &args).dump());
        return 0;
    }
    let agent = cfg.host_key_agent.as_deref().and_then(agent::agent_socket);
    let host_keys = hostkeys::load_all(&cfg.host_keys, &cfg.host_certificates, agent.as_deref());
    if host_keys.is_empty() {
        fatal!("sshd: no hostkeys available -- exiting.");
        return 255;
    }
    match args.test {
        Some(TestMode::Check) => return 0,
        Some(TestMode::Print) | Some(TestMode::PrintUnchecked) => {
            print!("{}", effective(&cfg, &args).dump());
            return 0;
        }
        None => {}
    }
    if args.inetd {
        return serve_stdio(&cfg, host_keys, args.rexeced, startup_notify);
    }
    drop(host_keys);
    let mut session_args: Vec<String> = argv.iter().skip(1).cloned().collect();
    session_args.push("-R".into());
    let debug = args.debug > 0;
    listener::run(listener::ListenerSettings {
        addrs: cfg.listen_addrs(),
        max_startups: cfg.max_startups,
        per_source: cfg
            .per_source_max_startups
            .map(|n| (n, cfg.per_source_net_block_size)),
        pid_file: if debug { None } else { cfg.pid_file.clone() },
        detach: args.detach(),
        session_args,
        config: recorder.into_bundle().encode(),
        check_config: Box::new(move || {
            let text = std::fs::read_to_string(&path).or_else(|e| match e.kind() {
                std::io::ErrorKind::NotFound if !explicit => Ok(String::new()),
                _ => Err(format!("{}: {e}", path.display())),
            })?;
            config::parse_config_with_overrides(&text, &path, &overrides, &algs)
                .map(drop)
                .map_err(|e| e.to_string())
        }),
    })
}

/// The configuration `-T` prints: with `-C`, after `Match` blocks.
/// The configuration `-T` prints: the `Match` blocks applied for the `-C` connection,
/// with the group database for `Match Group`. Without `-C`, as OpenSSH, for a connection
/// about which nothing is known: only `Match All` blocks apply.
fn effective(cfg: &Config, args: &Args) -> Config {
    let spec = args.connection_spec.clone().unwrap_or_default();
    cfg.for_connection_with(&spec, &algs::group_names)
}

fn init_logging(args: &Args, cfg: &Config) {
    let level = crate::log::Level::from_name(&format!("{:?}", cfg.log_level))
        .unwrap_or(crate::log::Level::Info);
    let target = if let Some(f) = &args.log_file {
        crate::log::Target::File(f.as_path())
    } else if args.logs_to_stderr() {
        crate::log::Target::Stderr
    } else {
        crate::log::Target::Syslog(cfg.syslog_facility.code())
    };
    crate::log::init(level, target);
}

fn endpoints_of_stdin() -> session::Endpoints {
    use nix::sys::socket::{getpeername, getsockname, SockaddrStorage};
    use std::os::fd::AsRawFd;
    let fd = std::io::stdin().as_fd().as_raw_fd();
    let conv = |s: Option<SockaddrStorage>| -> Option<SocketAddr> {
        let s = s?;
        if let Some(v4) = s.as_sockaddr_in() {
            return Some(SocketAddr::from((v4.ip(), v4.port())));
        }
        if let Some(v6) = s.as_sockaddr_in6() {
            return Some(SocketAddr::from((v6.ip(), v6.port())));
        }
        None
    };
    session::Endpoints {
        peer: conv(getpeername::<SockaddrStorage>(fd).ok()),
        local: conv(getsockname::<SockaddrStorage>(fd).ok()),
    }
}

fn serve_stdio(
    cfg: &Config,
    host_keys: Vec<sisu_kex::HostKey>,
    from_listener: bool,
    startup_notify: Option<std::fs::File>,
) -> i32 {
    let ends = endpoints_of_stdin();
    if from_listener {
        verbose!(
            "Connection from {} port {} on {} port {} rdomain \"\"",
            ends.peer_ip(),
            ends.peer_port(),
            ends.local_ip(),
            ends.local_port()
        );
    }
    // No Nagle on a TCP socket (inetd mode; the listener sets it on its own sockets):
    // a small reply must not wait for the peer's delayed ACK. TCPKeepAlive: the
    // kernel's keepalives, so a vanished peer is noticed. Both fail harmlessly on a
    // pipe (inetd mode through a ProxyCommand).
    let _ = nix::sys::socket::setsockopt(
        &std::io::stdin().as_fd(),
        nix::sys::socket::sockopt::TcpNoDelay,
        &true,
    );
    let _ = nix::sys::socket::setsockopt(
        &std::io::stdin().as_fd(),
        nix::sys::socket::sockopt::KeepAlive,
        &cfg.tcp_keep_alive,
    );
    let input = match std::io::stdin().as_fd().try_clone_to_owned() {
        Ok(fd) => std::fs::File::from(fd),
        Err(e) => {
            fatal!("stdin: {e}");
            return 255;
        }
    };
    let output = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => std::fs::File::from(fd),
        Err(e) => {
            fatal!("stdout: {e}");
            return 255;
        }
    };
    let settings = algs::session_settings_for(cfg, host_keys, &ends);
    session::serve(settings, input, output, ends, startup_notify)
}
