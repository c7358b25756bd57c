"""Streamable HTTP answers: one JSON body when the answer comes first, an event stream when anything else does.

The MCP transport lets a server answer a POSTed request either with ``application/json`` (the response alone) or
with ``text/event-stream`` (notifications and server requests, then the response). The SDK always opens an event
stream, whose machinery (sse-starlette's four tasks, a ping timer, chunked writes) costs about 1 ms of server CPU a
call, most of the difference between HTTP and stdio. :class:`PromptAnswer` stands in for that response on the MCP
endpoint's POSTs: it waits for the first message of the request's stream; when that is the response and nothing
came before it (the common case: a quick tool call), the answer is one JSON body; when it is a notification (progress,
logging) or a request to the client (elicitation: the live-money confirmation), or nothing has come within
``STREAM_AFTER`` seconds, it becomes the usual event stream from that message on, pings included, so a long call
keeps its connection alive through proxies and nothing the session sends is lost or delayed.

``QCMCP_HTTP_JSON_RESPONSE=true`` still answers every request with JSON alone (no back-channel at all).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

# Seconds to wait for the first message before the answer becomes an event stream (with its pings).
STREAM_AFTER = 1.0


def _is_response(event: Any) -> bool:
    """Whether an SSE event of the SDK's transport carries the JSON-RPC response (or error) to the request."""
    if not isinstance(event, dict) or "id" in event or event.get("event", "message") != "message":
        return False  # an event id means resumability is on: keep the event stream it was stored for
    try:
        message = json.loads(event.get("data") or "")
    except ValueError:
        return False
    return isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message)


class PromptAnswer:
    """Replaces ``EventSourceResponse`` in :mod:`mcp.server.streamable_http` (see :func:`install`)."""

    def __init__(self, content: Any, *, data_sender_callable: Any = None, headers: Mapping[str, str] | None = None,
                 **options: Any) -> None:
        self.content, self.sender, self.headers, self.options = content, data_sender_callable, dict(headers or {}), \
            options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST" or self.sender is None:
            await EventSourceResponse(self.content, data_sender_callable=self.sender, headers=self.headers,
                                      **self.options)(scope, receive, send)
            return
        first: list[Any] = []  # the first event, or None when the stream ended without one
        arrived = anyio.Event()

        async def take_first() -> None:
            try:
                first.append(await self.content.receive())
            except (anyio.EndOfStream, anyio.ClosedResourceError):
                first.append(None)
            arrived.set()

        async def events() -> AsyncIterator[Any]:
            await arrived.wait()
            if first[0] is None:
                return
            yield first[0]
            async for event in self.content:
                yield event

        async with anyio.create_task_group() as group:
            group.start_soon(self.sender)
            group.start_soon(take_first)  # its own task: a timeout never interrupts a receive, so nothing is lost
            with anyio.move_on_after(STREAM_AFTER):
                await arrived.wait()
            if arrived.is_set() and _is_response(first[0]):
                await self._json(first[0]["data"], send)
                return  # the sender ends by itself once it has handed over the response
            await EventSourceResponse(events(), headers=self.headers, **self.options)(scope, receive, send)
            group.cancel_scope.cancel()  # as sse-starlette does when its stream ends (or the client went away)

    async def _json(self, data: str, send: Send) -> None:
        body = data.encode()
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()
                   if name.lower() not in ("content-type", "connection")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def install() -> None:
    """Answer the MCP endpoint's POSTs with :class:`PromptAnswer` (this process's HTTP transport)."""
    import mcp.server.streamable_http as transport

    if getattr(transport, "EventSourceResponse", None) not in (EventSourceResponse, PromptAnswer):
        # The SDK no longer answers through sse-starlette's class by this name: replacing it would do nothing.
        raise RuntimeError("mcp.server.streamable_http.EventSourceResponse is not sse-starlette's: qcmcp.http_answers "
                           "needs updating for this mcp version")
    transport.EventSourceResponse = PromptAnswer  # type: ignore[misc,assignment]
