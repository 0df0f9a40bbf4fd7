#!/usr/bin/env python3
"""Run one exec with stdin through paramiko and print stdout, stderr and exit status as JSON.

Usage: paramiko_exec.py PORT USER KEY KNOWN_HOSTS COMMAND STDIN
Host keys are checked strictly against KNOWN_HOSTS; every step has a timeout.
"""
import json
import sys

import paramiko


def main() -> int:
    port, user, key, known_hosts, command, data = sys.argv[1:7]
    client = paramiko.SSHClient()
    client.load_host_keys(known_hosts)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        "127.0.0.1",
        port=int(port),
        username=user,
        key_filename=key,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        banner_timeout=10,
        auth_timeout=10,
    )
    try:
        stdin, stdout, stderr = client.exec_command(command, timeout=60)
        stdin.write(data)
        stdin.flush()
        stdin.channel.shutdown_write()
        out = stdout.read().decode()
        err = stderr.read().decode()
        status = stdout.channel.recv_exit_status()
    finally:
        client.close()
    print(json.dumps({"stdout": out, "stderr": err, "status": status}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
