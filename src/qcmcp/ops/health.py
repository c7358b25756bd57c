"""Liveness and readiness: ``/healthz`` says the process is up; ``/readyz`` and the ``health_check`` tool run the
checks a deployment needs to serve (backend reachable, audit log writable, algorithm jail available where shared
mode requires it). Checks are plain async callables handed in by ``server.py``; each names only what failed,
never a secret or a path.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

Check = Callable[[], Awaitable[None]]  # raises with a short reason when the thing checked is not ready
CHECK_SECONDS = 5.0


async def run_checks(checks: dict[str, Check], timeout: float = CHECK_SECONDS) -> dict[str, Any]:
    """Run every check concurrently, each bounded in time; ``ok`` only when all pass."""

    async def one(name: str, check: Check) -> tuple[str, str, float]:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(check(), timeout)
            outcome = "ok"
        except TimeoutError:
            outcome = f"no answer within {timeout:g} s"
        except Exception as error:  # noqa: BLE001 - a failed check is a result, not a crash
            outcome = _reason(error)
        return name, outcome, round((time.perf_counter() - started) * 1000, 1)

    results = await asyncio.gather(*(one(name, check) for name, check in checks.items()))
    return {"ok": all(outcome == "ok" for _, outcome, _ in results),
            "checks": {name: {"status": outcome, "ms": ms} for name, outcome, ms in results}}


def _reason(error: Exception) -> str:
    """The first line of the failure, with known secrets masked and file-system paths reduced to their last part:
    ``/readyz`` answers without a token, so it must not show where the server keeps things."""
    from qcmcp.log import REDACTOR

    message = getattr(error, "message", None) or str(error) or type(error).__name__
    message = re.sub(r"(?<![\w])/(?:[\w.+-]+/)+([\w.+-]*)", r"…/\1", REDACTOR.redact(message.splitlines()[0]))
    return message[:200]


def probe_routes(readiness: Callable[[], Awaitable[dict[str, Any]]], version: str) -> dict[str, Any]:
    """Starlette handlers for ``/healthz`` (always 200 while the process serves) and ``/readyz`` (503 when a
    check fails), keyed by path. Both are unauthenticated, as load balancers and Kubernetes probe them."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": version})

    async def readyz(_: Request) -> JSONResponse:
        result = await readiness()
        return JSONResponse({"status": "ready" if result["ok"] else "not ready", **result},
                            status_code=200 if result["ok"] else 503)

    return {"/healthz": healthz, "/readyz": readyz}
