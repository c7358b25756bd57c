"""A connection pool for the API client that stays cheap with many calls in flight.

httpcore's pool re-plans every request on every change (a request queued, one finished): for each queued request it
lists every connection twice, and it asks every idle connection whether its socket is readable (a system call).
With 100 calls in flight over 32 connections that is thousands of method calls and dozens of system calls per
request, and several queued requests are handed the same idle connection, so all but one fail and plan again.
This pool plans the same way (reuse an idle connection of the origin, else open one, else replace an idle one of
another origin; close idle connections beyond the keep-alive count) in one pass over requests and connections, hands
each idle connection to one request, and checks a connection's socket only when it is about to be used; expired
idle connections are swept at most every ``SWEEP_SECONDS``.

Connections are opened in an empty ``contextvars`` context: the event loop's transport keeps the context it was
created in for as long as the connection lives, and the calling request's context holds its MCP session, so every
pooled connection used to keep alive the session (and its streams) that happened to open it, long after that session
was closed.

Only HTTP/1.1 without a proxy is handled here; anything else keeps httpcore's own pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend

SWEEP_SECONDS = 1.0


class LeanConnectionPool(httpcore.AsyncConnectionPool):
    _last_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        connections = self._connections
        # A closed connection (the server said Connection: close, or a request failed on it) leaves at once: it
        # still counts against max_connections, and the queue would wait for one that never frees. A state check.
        connections[:] = [connection for connection in connections if not connection.is_closed()]
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_SECONDS:  # has_expired polls the socket (a system call): not every pass
            self._last_sweep = now
            for connection in list(connections):
                if connection.has_expired():  # idle past keep-alive, or closed by the server
                    connections.remove(connection)
                    closing.append(connection)
        taken = {id(request.connection) for request in self._requests if request.connection is not None}
        idle = [c for c in connections if id(c) not in taken and c.is_available()]
        queued = [request for request in self._requests if request.connection is None]
        for request in queued:
            origin = request.request.url.origin
            connection = None
            for index, candidate in enumerate(idle):
                if candidate.can_handle_request(origin):
                    del idle[index]
                    connection = candidate
                    break
            while connection is not None and (connection.is_closed() or connection.has_expired()):
                connections.remove(connection)  # checked now, as it is about to be used
                if not connection.is_closed():
                    closing.append(connection)
                connection = next((c for c in idle if c.can_handle_request(origin)), None)
                if connection is not None:
                    idle.remove(connection)
            if connection is None:
                if len(connections) >= self._max_connections:
                    if not idle:
                        break  # every connection is busy: the rest wait for one to finish
                    replaced = idle.pop(0)  # an idle connection to another origin makes room
                    connections.remove(replaced)
                    closing.append(replaced)
                connection = self.create_connection(origin)
                connections.append(connection)
            request.assign_to_connection(connection)
        surplus = len(idle) - self._max_keepalive_connections
        for connection in idle[:max(surplus, 0)]:
            connections.remove(connection)
            closing.append(connection)
        return closing

    async def _close_connections(self, closing: list[Any]) -> None:
        if closing:
            await super()._close_connections(closing)


class CleanContextBackend(AutoBackend):
    """Opens TCP connections in a task of their own with an empty context (see the module docstring)."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Any = None) -> Any:
        connect = super().connect_tcp(host, port, timeout=timeout, local_address=local_address,
                                      socket_options=socket_options)
        # Awaiting the task passes a cancellation of this request on to it.
        return await asyncio.get_running_loop().create_task(connect, context=contextvars.Context())


class LeanTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with :class:`LeanConnectionPool` (proxies and HTTP/2 keep httpcore's)."""

    def __init__(self, *, limits: httpx.Limits, **options: Any) -> None:
        super().__init__(limits=limits, **options)
        if type(self._pool) is httpcore.AsyncConnectionPool and not options.get("http2"):
            self._pool.__class__ = LeanConnectionPool
            self._pool._network_backend = CleanContextBackend()
