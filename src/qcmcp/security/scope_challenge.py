"""HTTP 403 ``insufficient_scope`` for a tool call the token's scopes do not cover.

The MCP authorization specification asks a resource server to answer a request whose token
lacks a scope with HTTP 403 and a ``WWW-Authenticate: Bearer error="insufficient_scope",
scope="…"`` challenge, so a client can step up its authorization. This ASGI middleware runs
after token verification and before the MCP endpoint; it reads a POSTed ``tools/call`` and
answers 403 naming the scope (and the roles that carry it) without the call ever reaching a
tool. The ScopeGuard middleware behind it still refuses anything that slips past.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qcmcp.log import REDACTOR
from qcmcp.security.audit import AuditLog
from qcmcp.security.guard import roles_with
from qcmcp.security.identity import resolve_caller
from qcmcp.tools.catalog import BY_NAME

MAX_INSPECTED_BYTES = 64 * 1024 * 1024  # larger bodies pass through to the endpoint's own checks


class InsufficientScopeChallenge:
    def __init__(self, app: ASGIApp, resource_metadata_url: str | None = None, audit: AuditLog | None = None,
                 tenant_claim: str = "tenant") -> None:
        self.app = app
        self.resource_metadata_url = resource_metadata_url
        self.audit = audit
        self.tenant_claim = tenant_claim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = getattr(scope.get("user"), "access_token", None) if scope["type"] == "http" else None
        if token is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        messages, body = await self._read_body(receive)
        missing = self._missing_scope(body, set(token.scopes or ()))
        if missing is None:
            await self.app(scope, self._replay(messages, receive), send)
            return
        request_id, tool, needed, arguments = missing
        description = (f"{tool} needs the scope '{needed}', which this token does not carry. "
                       f"Roles that include it: {', '.join(roles_with(needed))}.")
        if self.audit is not None:  # refused before the MCP layer, so recorded here
            caller = resolve_caller(token, self.tenant_claim)
            self.audit.append(request_id=uuid.uuid4().hex, subject=caller.subject,
                              tenant=caller.tenant_label, tool=tool,
                              arguments=arguments if isinstance(arguments, dict) else {}, outcome="error",
                              error=f"Forbidden (403): needs {needed}", latency_ms=0.0, secrets=REDACTOR.secrets)
        challenge = f'Bearer error="insufficient_scope", scope="{needed}", error_description="{description}"'
        if self.resource_metadata_url:
            challenge += f', resource_metadata="{self.resource_metadata_url}"'
        payload = json.dumps({"jsonrpc": "2.0", "id": request_id,
                              "error": {"code": -32001, "message": f"Forbidden (403): {description}"}}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"www-authenticate", challenge.encode())]})
        await send({"type": "http.response.body", "body": payload})

    @staticmethod
    async def _read_body(receive: Receive) -> tuple[list[Message], bytes]:
        messages: list[Message] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body") or size > MAX_INSPECTED_BYTES:
                break
        return messages, b"".join(chunks) if size <= MAX_INSPECTED_BYTES else b""

    @staticmethod
    def _missing_scope(body: bytes, scopes: set[str]) -> tuple[Any, str, str, Any] | None:
        if b"tools/call" not in body:  # most requests: no JSON parsing on top of the endpoint's own
            return None
        try:
            request = json.loads(body)
        except ValueError:
            return None
        if not isinstance(request, dict) or request.get("method") != "tools/call":
            return None
        params = request.get("params") if isinstance(request.get("params"), dict) else {}
        name = params.get("name")
        spec = BY_NAME.get(name) if isinstance(name, str) else None
        if spec is None or not spec.scope or spec.scope in scopes:
            return None
        return request.get("id"), spec.name, spec.scope, params.get("arguments")

    @staticmethod
    def _replay(messages: list[Message], receive: Receive) -> Receive:
        pending = list(messages)

        async def replay() -> Message:
            return pending.pop(0) if pending else await receive()

        return replay
