//! `sisu-sshd`: the Sisu SSH server.
//!
//! With no configuration file at the default path (`/etc/sisu/sshd_config`) it runs on
//! built-in defaults and generates ed25519 and RSA host keys (see `hostkeys`). Flags are
//! OpenSSH sshd's: `-D -d -e -f -p -h -o -t -T -E -i -4 -6 -q -Q -V -C`.
//!
//! One binary, five roles, chosen by the command line: the listener (the default), a
//! session's monitor (`-R` from the listener, or `-i`), and the monitor's two children
//! (`-Z preauth`, `-Z postauth`); `-t`, `-T`, `-Q` and `-V` answer and exit.
#![deny(unsafe_code)]

use sisu_daemon::cli::{self, Args, Role, TestMode};
use sisu_daemon::config::{self, Config};
use sisu_daemon::conn::Endpoints;
use sisu_daemon::{agent, algs, fatal, hostkeys, listener, monitor, os, verbose};
use std::os::fd::AsFd;
use std::process::ExitCode;

fn main() -> ExitCode {
    os::ignore_sigpipe();
    let argv: Vec<String> = std::env::args().collect();
    let args = match cli::parse_args(argv.iter().cloned()) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(1);
        }
    };
    // A session process re-executed by the listener finds its start-up notification
    // pipe on fd 3 (a monitor's child has its channel there); take it before anything
    // else opens a descriptor.
    let startup_notify = if args.rexeced && args.role.is_none() {
        os::take_startup_notify()
    } else {
        None
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
    let handed_bytes = if args.rexeced {
        os::take_config_bytes()
    } else {
        None
    };
    let handed = handed_bytes.as_deref().and_then(config::Bundle::decode);
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
    match args.role {
        Some(Role::Preauth) => {
            os::set_process_name(os::PREAUTH_NAME);
            return sisu_daemon::preauth::child::main(&cfg);
        }
        Some(Role::Postauth) => {
            os::set_process_name(os::POSTAUTH_NAME);
            return sisu_daemon::postauth::child::main(&cfg);
        }
        None => {}
    }
    init_logging(&args, &cfg);
    for w in &warnings {
        sisu_daemon::log::log(sisu_daemon::log::Level::Info, w);
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
    // Protocol 1 (`Protocol 2,1`): its RSA host key must be there before anything runs.
    let v1_host = if cfg.protocol.contains(&config::ProtocolVersion::V1) {
        match sisu_daemon::v1::keys::load_host_key(&cfg.host_keys, &host_keys) {
            Ok(k) => Some(k),
            Err(e) => {
                fatal!("{e}");
                return 255;
            }
        }
    } else {
        None
    };
    match args.test {
        Some(TestMode::Check) => return 0,
        Some(TestMode::Print) | Some(TestMode::PrintUnchecked) => {
            print!("{}", effective(&cfg, &args).dump());
            return 0;
        }
        None => {}
    }
    if args.inetd {
        let bundle = match handed_bytes {
            Some(b) => b,
            None => recorder.into_bundle().encode(),
        };
        let child_args = session_child_args(argv);
        return serve_stdio(
            &cfg,
            host_keys,
            v1_host,
            args.rexeced,
            startup_notify,
            &bundle,
            child_args,
        );
    }
    if os::is_root() && !monitor::privsep::privsep_user_exists() {
        verbose!(
            "Privilege separation user {} does not exist; the pre-authentication process runs as {}",
            monitor::privsep::PRIVSEP_USER,
            monitor::privsep::FALLBACK_USER
        );
    }
    let server_key = match &v1_host {
        Some(host) => {
            use rsa::traits::PublicKeyParts;
            let bits =
                sisu_daemon::v1::keys::server_key_bits(cfg.server_key_bits, host.n().bits() as u32);
            let interval = Some(cfg.key_regeneration_interval).filter(|d| !d.is_zero());
            match sisu_daemon::v1::server_key::ServerKeys::generate(bits, interval) {
                Ok(k) => Some(k),
                Err(e) => {
                    fatal!("server key: {e}");
                    return 255;
                }
            }
        }
        None => None,
    };
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
        server_key,
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
    use sisu_daemon::log;
    let level = log::level_of(cfg);
    let target = if let Some(f) = &args.log_file {
        log::Target::File(f.as_path())
    } else if args.logs_to_stderr() {
        log::Target::Stderr
    } else {
        log::Target::Syslog(cfg.syslog_facility.code())
    };
    log::init(level, target);
}

/// The arguments a session's children get: the session's own, marked as re-executed
/// so that they read the configuration from fd 4.
fn session_child_args(argv: &[String]) -> Vec<String> {
    let mut a: Vec<String> = argv.iter().skip(1).cloned().collect();
    if !a.iter().any(|x| x == "-R") {
        a.push("-R".into());
    }
    a
}

fn serve_stdio(
    cfg: &Config,
    host_keys: Vec<sisu_kex::HostKey>,
    v1_host: Option<rsa::RsaPrivateKey>,
    from_listener: bool,
    startup_notify: Option<std::fs::File>,
    bundle: &[u8],
    child_args: Vec<String>,
) -> i32 {
    let ends = Endpoints::of_socket(std::io::stdin().as_fd());
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
    let socket = match os::stdio_files() {
        Ok(s) => s,
        Err(e) => {
            fatal!("stdio: {e}");
            return 255;
        }
    };
    let settings = algs::session_settings_for(cfg, host_keys, &ends);
    let v1 = match v1_host {
        Some(host) => match sisu_daemon::v1::keys::session_keys(host, cfg) {
            Ok(k) => Some(k),
            Err(e) => {
                fatal!("{e}");
                return 255;
            }
        },
        None => None,
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    os::set_process_name(os::MONITOR_NAME);
    monitor::run(monitor::MonitorArgs {
        settings,
        socket,
        ends,
        startup_notify,
        config: bundle,
        child_args,
        exe,
        v1,
    })
}
