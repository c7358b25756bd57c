"""The sandbox: an ASGI emulator of the QuantConnect REST API v2.

Same paths, same request and response shapes, same failure behaviour (HTTP 200 with
``success: false`` and a helpful error). Requests are authenticated like the cloud's:
HTTP Basic ``user_id : sha256("<token>:<timestamp>")`` for a registered user. Every
answer carries ``"sandbox": true`` so nobody mistakes it for QuantConnect itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

# Importing the endpoint modules registers their routes.
from qcmcp.sandbox import backtests, builds, files, live, objects, optimizations, projects  # noqa: F401
from qcmcp.sandbox.api import ROUTES, Context, validate
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.jail import Jail
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
    if not header.lower().startswith("basic ") or not stamp.isdigit():
        raise AuthFailure("Missing QuantConnect authentication: send HTTP Basic user_id:sha256('<token>:<timestamp>') "
                          "and the same unix time in a Timestamp header.")
    try:
        user_id, _, digest = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
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


async def read_body(request: Request, multipart: bool) -> dict[str, Any]:
    if multipart:
        form = await request.form()
        body: dict[str, Any] = {}
        for name, value in form.multi_items():
            body[name] = await value.read() if hasattr(value, "read") else value
        return body
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise SandboxError("The request body must be JSON.") from None
    if not isinstance(parsed, dict):
        raise SandboxError("The request body must be a JSON object.")
    return parsed


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
            # Handlers touch SQLite and may start processes: keep them off the event loop.
            result = await run_in_threadpool(route.handler, ctx, validate(route.request, body))
        except SandboxError as error:
            return answer({"success": False, "errors": [error.message]})
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
