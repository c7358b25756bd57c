"""The API client's connection pool (qcmcp.qc.pool): many calls in flight share few connections, every call is
answered, and a connection the server closed while it was idle is replaced, not used."""

from __future__ import annotations

import asyncio

import httpx

from qcmcp.qc.pool import LeanConnectionPool, LeanTransport

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}"


async def serve(close_after: int | None = None) -> tuple[asyncio.Server, list[int]]:
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
                writer.write(ANSWER)
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
