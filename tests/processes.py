"""Helpers for tests that start a server process on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import time

# A stand-in for the QuantConnect API in its own process (python -c MOCK_API PORT): every POST gets the same
# /account/read answer at once, so what a load test measures is qcmcp itself.
MOCK_API = """
import asyncio, sys
BODY = b'{"organizationId":"mock-org","creditBalance":10.0,"success":true}'
ANSWER = (b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: %d\\r\\n\\r\\n" % len(BODY)) + BODY

async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            length = 0
            for line in head.split(b"\\r\\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            writer.write(ANSWER)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=512)
    await server.serve_forever()

try:
    import uvloop
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
"""


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
