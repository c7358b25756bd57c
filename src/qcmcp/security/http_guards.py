"""Checks on every HTTP request before it reaches MCP: Host and Origin (DNS rebinding), and body size.

A browser page on another site can make a victim's browser POST to a server on 127.0.0.1 (or, through DNS
rebinding, make the server's address answer to the attacker's name). The MCP transport specification requires
servers to validate ``Origin`` and refuse a foreign one with 403. fastmcp's Host/Origin guard does the matching;
:func:`host_origin_options` decides what is allowed: the loopback names, the host and origin of
``QCMCP_PUBLIC_URL``, and whatever ``QCMCP_ALLOWED_HOSTS`` / ``QCMCP_ALLOWED_ORIGINS`` add. A wrong ``Host`` gets
421, a foreign ``Origin`` 403; clients that send no ``Origin`` (every non-browser MCP client) are unaffected.

:class:`RequestBodyLimit` refuses a body over ``QCMCP_MAX_REQUEST_BYTES`` with 413, from ``Content-Length`` when
it is given and by counting otherwise, so no request makes the server buffer more than the cap.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qcmcp.config import ConfigurationError, Settings


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def refuse_open_insecure(host: str) -> None:
    """``--insecure-no-auth`` is for a server only this machine can reach."""
    if host not in LOOPBACK:
        raise ConfigurationError("Refusing --insecure-no-auth on a non-loopback address: anyone who can reach it "
                                 "could act on your QuantConnect account. Bind to 127.0.0.1 or configure "
                                 "QCMCP_AUTH_*.")


def host_origin_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for fastmcp's HTTP transport: strict Host and Origin validation."""
    hosts = list(settings.allowed_host_list)
    origins = list(settings.allowed_origin_list)
    if settings.public_url:
        public = urlsplit(settings.public_url)
        if public.hostname:
            hosts.append(public.netloc.rsplit("@", 1)[-1])
            hosts.append(public.hostname)
            origins.append(f"{public.scheme}://{public.netloc.rsplit('@', 1)[-1]}")
    return {"host_origin_protection": True, "allowed_hosts": list(dict.fromkeys(hosts)),
            "allowed_origins": list(dict.fromkeys(origins)) or None}


class RequestBodyLimit:
    """413 for a request body over ``max_bytes``, before anything downstream reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        # Read the body here, counting, then hand it on: nothing downstream ever holds more than the cap.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        payload = json.dumps({"error": "request_too_large", "error_description":
                              f"The request body is over the server's limit of {self.max_bytes} bytes "
                              "(QCMCP_MAX_REQUEST_BYTES); send less per call."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})
