//! Keepalives and timeouts: the client's ServerAliveInterval answered, ChannelTimeout
//! and UnusedConnectionTimeout.

use crate::background::{wait_until, Master};
use crate::common::Server;
use std::time::{Duration, Instant};

/// The client's keepalives (ServerAliveInterval) are answered: with one second and a
/// count of one, a silent three-second command would end in "Timeout, server not
/// responding" if they were not.
pub fn server_alive_interval_is_answered() {
    let server = Server::start("server-alive");
    let out = server
        .ssh()
        .option("ServerAliveInterval=1")
        .option("ServerAliveCountMax=1")
        .run("sleep 3; echo alive");
    out.assert_success();
    assert_eq!(out.stdout_str(), "alive\n");
}

/// ChannelTimeout closes a session idle for its type's interval (a busy one, and a
/// type the setting does not name, run on); UnusedConnectionTimeout ends a connection
/// that opens no channel.
pub fn channel_and_unused_connection_timeouts() {
    let server = Server::builder("timeouts")
        .config("LogLevel VERBOSE")
        .config("ChannelTimeout session:shell=1 session:command=2s")
        .config("UnusedConnectionTimeout 2")
        .start();
    let started = Instant::now();
    let out = server.ssh().run("sleep 10; echo late");
    let took = started.elapsed();
    assert!(!out.stdout_str().contains("late"), "not closed: {out:?}");
    assert!(took < Duration::from_secs(8), "closed after {took:?}");
    server.assert_logged("seconds of inactivity");
    // Output every half second keeps a command channel alive past its 2 s.
    let out = server
        .ssh()
        .run("for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.5; done; echo done");
    out.assert_success();
    assert!(out.stdout_str().ends_with("done\n"), "{}", out.stdout_str());
    // No channel at all: the connection ends.
    let started = Instant::now();
    let out = server
        .ssh()
        .arg("-N")
        .timeout(Duration::from_secs(20))
        .run("");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "connection kept {took:?}: {out:?}"
    );
    server.assert_logged("terminating inactive connection from");
    // The clock starts again when the last channel closes (a busy session holds it).
    let master = Master::start(&server);
    let out = master
        .ssh(&server)
        .run("for i in 1 2 3 4 5 6; do echo $i; sleep 0.5; done; echo session");
    out.assert_success();
    assert!(
        out.stdout_str().ends_with("session\n"),
        "{}",
        out.stdout_str()
    );
    wait_until(
        "the idle connection to end",
        Duration::from_secs(10),
        || !master.ctl.exists(),
    );
}
