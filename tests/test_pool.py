"""The API client's connection pool (qcmcp.qc.pool): many calls in flight share few connections, every call is
answered, and a connection the server closed while it was idle is replaced, not used."""

from __future__ import annotations

import asyncio

import httpx

from qcmcp.qc.pool import LeanConnectionPool, LeanTransport

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"


async def serve(close_after: int | None = None, answer: bytes = ANSWER) -> tuple[asyncio.Server, list[int]]:
    """A keep-alive HTTP/1.1 server on 127.0.0.1; counts connections, closes each after ``close_after`` answers."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        answered = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                await asyncio.sleep(0.002)
                writer.write(answer)
                await writer.drain()
                answered += 1
                if close_after is not None and answered >= close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, accepted


async def test_many_calls_in_flight_share_the_pool_and_all_are_answered():
    server, accepted = await serve()
    port = server.sockets[0].getsockname()[1]
    transport = LeanTransport(limits=httpx.Limits(max_connections=8, max_keepalive_connections=8))
    assert isinstance(transport._pool, LeanConnectionPool)
    async with server, httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}") as http:
        answers = await asyncio.gather(*(http.post("/x", json={"n": n}) for n in range(300)))
        assert all(a.status_code == 200 and a.json() == {"ok": True} for a in answers)
        assert len(accepted) <= 8  # no connection opened beyond the limit, none churned
        assert len(transport._pool.connections) <= 8


async def test_a_connection_the_server_closed_is_replaced():
    server, accepted = await serve(close_after=1)
    port = server.sockets[0].getsockname()[1]
    transport = LeanTransport(limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
    async with server, httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}") as http:
        for _ in range(5):
            answer = await http.post("/x", json={})
            assert answer.status_code == 200
            await asyncio.sleep(0.05)  # the server has closed the idle connection by now
        assert len(accepted) == 5


async def test_expired_idle_connections_are_closed():
    server, accepted = await serve()
    port = server.sockets[0].getsockname()[1]
    transport = LeanTransport(limits=httpx.Limits(max_connections=4, max_keepalive_connections=4,
                                                  keepalive_expiry=0.01))
    async with server, httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}") as http:
        await asyncio.gather(*(http.post("/x", json={}) for _ in range(4)))
        await asyncio.sleep(0.05)
        transport._pool._last_sweep = 0.0  # due for a sweep
        await http.post("/x", json={})
        assert len(transport._pool.connections) == 1 and len(accepted) == 5


def test_proxies_and_http2_keep_httpcores_pool():
    limits = httpx.Limits(max_connections=4)
    assert type(LeanTransport(limits=limits, proxy="http://127.0.0.1:9")._pool) is not LeanConnectionPool
    assert type(LeanTransport(limits=limits, http2=True)._pool) is not LeanConnectionPool


def test_a_pooled_connection_does_not_keep_its_openers_context_alive():
    """The event loop's transport keeps the context it was created in; that must not be the calling request's
    (whose MCP session it would keep alive). On uvloop, the HTTP server's loop; asyncio's own loop also captures the
    context of whoever reads next, so there a connection holds its last caller's until it is used again."""
    import contextvars
    import gc
    import weakref

    import uvloop

    held: contextvars.ContextVar[object] = contextvars.ContextVar("held")

    class Session:
        pass

    async def scenario() -> tuple[int, object]:
        server, _ = await serve()
        port = server.sockets[0].getsockname()[1]
        transport = LeanTransport(limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
        async with server, httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}") as http:
            async def call() -> weakref.ref:
                session = Session()
                held.set(session)
                assert (await http.post("/x", json={})).status_code == 200
                return weakref.ref(session)

            opener = await asyncio.get_running_loop().create_task(call(), context=contextvars.Context())
            await asyncio.sleep(0.01)  # the loop lets go of the finished task
            gc.collect()
            return len(transport._pool.connections), opener()

    pooled, session = uvloop.run(scenario())
    assert pooled == 1 and session is None  # the connection stays pooled, the session that opened it is gone


async def test_connections_the_server_closes_after_each_answer_never_stall_the_queue():
    """Connection: close on every answer: a closed connection leaves the pool at once, so queued calls get one."""
    server, accepted = await serve(close_after=1, answer=ANSWER.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n"))
    port = server.sockets[0].getsockname()[1]
    transport = LeanTransport(limits=httpx.Limits(max_connections=2, max_keepalive_connections=2))
    timeout = httpx.Timeout(5.0, pool=5.0)
    async with server, httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{port}",
                                         timeout=timeout) as http:
        answers = await asyncio.gather(*(http.post("/x", json={"n": n}) for n in range(40)))
    assert [a.status_code for a in answers] == [200] * 40
    assert len(accepted) >= 20  # one connection per answer or so: each closed one was replaced


def test_a_proxy_in_the_environment_is_honoured(monkeypatch):
    """httpx reads HTTPS_PROXY only with its own transports: with one set, the client leaves the transport to it."""
    from qcmcp.qc.client import Credentials, QuantConnectClient

    def mounts() -> dict:
        client = QuantConnectClient(Credentials("1", "t" * 64), base_url="https://api.example/api/v2")
        return {pattern.pattern: type(mounted).__name__ for pattern, mounted in client._http._mounts.items()
                if mounted is not None}, type(client._http._transport._pool).__name__

    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert mounts() == ({}, "LeanConnectionPool")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    proxied, pool = mounts()
    assert "https://" in proxied and pool == "AsyncConnectionPool"


def test_the_private_names_overridden_here_still_exist():
    """qcmcp.qc.pool and qcmcp.mcp_server override or call private names of httpcore and fastmcp (pinned in
    pyproject.toml): a new version without them fails here, not in production."""
    import inspect

    import httpcore
    from fastmcp import FastMCP
    from fastmcp.server import server

    assert list(inspect.signature(httpcore.AsyncConnectionPool._assign_requests_to_connections).parameters) == ["self"]
    assert list(inspect.signature(httpcore.AsyncConnectionPool._close_connections).parameters) == ["self", "closing"]
    assert inspect.iscoroutinefunction(server._component_auth_allows)
    assert callable(FastMCP._get_highest_version_result) and inspect.iscoroutinefunction(FastMCP._get_tool)
