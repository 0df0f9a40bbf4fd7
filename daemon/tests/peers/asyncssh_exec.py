#!/usr/bin/env python3
"""Run one exec with stdin through AsyncSSH and print stdout, stderr and exit status as JSON.

Usage: asyncssh_exec.py PORT USER KEY KNOWN_HOSTS COMMAND STDIN
Host keys are checked strictly against KNOWN_HOSTS; the whole run has a timeout.
"""
import asyncio
import json
import sys

import asyncssh


async def run(port, user, key, known_hosts, command, data):
    async with asyncssh.connect(
        "127.0.0.1",
        port=int(port),
        username=user,
        client_keys=[key],
        known_hosts=known_hosts,
        agent_path=None,
        config=[],
        login_timeout=10,
    ) as conn:
        result = await conn.run(command, input=data, check=False)
        return {
            "stdout": result.stdout,
            "stderr": result.stderr,
            "status": result.exit_status,
        }


def main() -> int:
    args = sys.argv[1:7]
    result = asyncio.run(asyncio.wait_for(run(*args), timeout=60))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
