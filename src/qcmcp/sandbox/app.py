"""The sandbox: an ASGI emulator of the QuantConnect REST API v2.

Same paths, same request and response shapes, same failure behaviour (HTTP 200 with
``success: false`` and a helpful error). Requests are authenticated like the cloud's:
HTTP Basic ``user_id : sha256("<token>:<timestamp>")`` for a registered user. Every
answer carries ``"sandbox": true`` so nobody mistakes it for QuantConnect itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

# Importing the endpoint modules registers their routes.
from qcmcp.sandbox import backtests, builds, files, live, objects, optimizations, projects  # noqa: F401
from qcmcp.sandbox.api import ROUTES, Context, Route, validate
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.jail import Jail
from qcmcp.sandbox.limits import (MAX_ERROR_CHARS, MAX_JSON_BODY_BYTES, MAX_JSON_DEPTH, MAX_MULTIPART_BODY_BYTES,
                                  MAX_STRING_CHARS, check_body)
from qcmcp.sandbox.live_runner import LiveRunner
from qcmcp.sandbox.runner import BacktestRunner
from qcmcp.sandbox.store import SandboxStore

log = logging.getLogger("qcmcp.sandbox")
MAX_CLOCK_SKEW_SECONDS = 7200
API_PREFIX = "/api/v2"


class AuthFailure(Exception):
    pass


def authenticate(store: SandboxStore, request: Request) -> tuple[str, str]:
    """Return (user id, organization id) or raise AuthFailure with the reason."""
    header, stamp = request.headers.get("authorization", ""), request.headers.get("timestamp", "")
    # Headers arrive as latin-1 text: a timestamp must be ASCII digits (not "²"), of a sane length.
    if not header.lower().startswith("basic ") or not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise AuthFailure("Missing QuantConnect authentication: send HTTP Basic user_id:sha256('<token>:<timestamp>') "
                          "and the same unix time in a Timestamp header.")
    try:
        user_id, _, digest = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):  # binascii.Error, or non-ASCII text in the header
        raise AuthFailure("Malformed Authorization header.") from None
    user = store.user(user_id)
    if user is None:
        raise AuthFailure(f"Unknown sandbox user {user_id}: register it first (qcmcp sandbox --user-id ... --api-token ...).")
    if abs(time.time() - int(stamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise AuthFailure("Timestamp is too far from the current time; check the clock.")
    expected = hashlib.sha256(f"{user['token']}:{stamp}".encode()).hexdigest()
    if not hmac.compare_digest(expected, digest):
        raise AuthFailure("Hash doesn't match.")
    return user_id, user["org_id"]


def answer(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse({**body, "sandbox": True}, status_code=status)


MULTIPART_HELP = ("Send multipart/form-data (with its boundary) with the fields organizationId, key and objectData "
                  "(the file's bytes).")


async def _read_capped(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it grows past ``limit`` bytes (never read whole first)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise SandboxError(f"The request body is {int(declared)} bytes; the sandbox accepts at most {limit}.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise SandboxError(f"The request body is over {limit} bytes; the sandbox accepts at most {limit}.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_form(request: Request, raw: bytes) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise SandboxError(f"This endpoint takes a form, not {content_type or 'a body without a Content-Type'}. "
                           + MULTIPART_HELP)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(request.scope, receive).form(max_files=4, max_fields=16, max_part_size=MAX_STRING_CHARS)
    except (HTTPException, MultiPartException) as error:
        detail = getattr(error, "detail", None) or getattr(error, "message", "")
        raise SandboxError(f"The multipart form could not be read ({detail}). {MULTIPART_HELP}") from None
    body: dict[str, Any] = {}
    try:
        for name, value in form.multi_items():
            body[name] = await value.read() if hasattr(value, "read") else value
    finally:
        await form.close()
    return body


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


async def read_body(request: Request, multipart: bool) -> dict[str, Any]:
    """The request body as a dict: a JSON object, or the fields of a form; anything else is refused clearly."""
    if multipart:
        return await _read_form(request, await _read_capped(request, MAX_MULTIPART_BODY_BYTES))
    raw = await _read_capped(request, MAX_JSON_BODY_BYTES)
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw, parse_constant=_refuse_constant)
    except ValueError:
        raise SandboxError("The request body must be JSON.") from None
    except RecursionError:
        raise SandboxError(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.") from None
    if not isinstance(parsed, dict):
        raise SandboxError("The request body must be a JSON object.")
    return parsed


def handle(route: Route, ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Bound and validate the body, then run the handler: nothing unchecked reaches it."""
    check_body(body)
    return route.handler(ctx, validate(route.request, body, strict=not route.multipart))


def create_app(store: SandboxStore, base_url: str = "http://sandbox.qcmcp", *, runner: BacktestRunner | None = None,
               data_folder: Path | None = None, live_clock_speed: float = 3600.0, jail: Jail | None = None) -> Starlette:
    """The emulator over ``store``; ``base_url`` is where download links point. ``jail`` decides how algorithms
    run (default: in bubblewrap when it works here, otherwise unconfined with a warning)."""
    if jail is None:
        jail = Jail.detect(required=False, data_folders=(data_folder,) if data_folder else ())
    if not jail.confined:
        (log.error if jail.required else log.warning)("algorithm jail: " + jail.describe())
    runner = runner or BacktestRunner(store, data_folder, jail=jail)
    live_runner = LiveRunner(store, data_folder, jail=jail, clock_speed=live_clock_speed)

    async def api(request: Request) -> Response:
        path = "/" + request.path_params["path"]
        try:
            user_id, org_id = authenticate(store, request)
        except AuthFailure as failure:
            return answer({"success": False, "errors": [str(failure)]}, 401)
        route = ROUTES.get(path)
        if route is None:
            return answer({"success": False, "errors": [f"Unknown API endpoint {path}."]}, 404)
        ctx = Context(store, user_id, org_id, base_url.rstrip("/") + API_PREFIX, runner, live_runner)
        try:
            body = await read_body(request, route.multipart)
            # Checking a large body takes a moment, and handlers touch SQLite and may start processes:
            # keep both off the event loop.
            result = await run_in_threadpool(handle, route, ctx, body)
        except SandboxError as error:
            message = error.message
            if len(message) > MAX_ERROR_CHARS:  # it quoted something long the caller sent
                message = message[:MAX_ERROR_CHARS] + " [...]"
            return answer({"success": False, "errors": [message]})
        except Exception:
            log.exception("sandbox handler failed", extra={"endpoint": path})
            return answer({"success": False, "errors": ["The sandbox hit an internal error; see its log."]}, 500)
        return answer({**result, "success": True})

    async def download(request: Request) -> Response:
        data = objects.download_zip(store, request.path_params["job_id"])
        if data is None:
            return answer({"success": False, "errors": ["Unknown download job."]}, 404)
        return Response(data, media_type="application/zip")

    app = Starlette(routes=[
        StarletteRoute(f"{API_PREFIX}/object/download/{{job_id}}", download, methods=["GET"]),
        StarletteRoute(f"{API_PREFIX}/{{path:path}}", api, methods=["POST"]),
    ])
    app.state.runner = runner
    app.state.live = live_runner
    return app
