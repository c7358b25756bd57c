"""Helpers for tests that start a server process on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(process: subprocess.Popen, port: int, timeout: float = 30.0) -> None:
    """Block until the process listens on ``port``; fail fast if it exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert process.poll() is None, "server exited early"
            assert time.monotonic() < deadline, "server did not start listening"
            time.sleep(0.1)
