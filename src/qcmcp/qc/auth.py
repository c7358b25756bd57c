"""QuantConnect request signing.

QuantConnect authenticates each request with HTTP Basic ``user_id : sha256("<token>:<ts>")``
plus a ``Timestamp`` header carrying the same unix time. Signing happens in an
``httpx.Auth`` flow so every attempt, including retries, gets a fresh timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Generator

import httpx


def sign(user_id: str, api_token: str, timestamp: int) -> dict[str, str]:
    """Return the two authentication headers for one request."""
    digest = hashlib.sha256(f"{api_token}:{timestamp}".encode()).hexdigest()
    basic = base64.b64encode(f"{user_id}:{digest}".encode()).decode("ascii")
    return {"Authorization": f"Basic {basic}", "Timestamp": str(timestamp)}


class QuantConnectAuth(httpx.Auth):
    """Signs each outgoing request; never exposes the token in its repr."""

    def __init__(self, user_id: str, api_token: str, clock: Callable[[], float] = time.time) -> None:
        self._user_id = user_id
        self._api_token = api_token
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(sign(self._user_id, self._api_token, int(self._clock())))
        yield request

    def __repr__(self) -> str:
        return f"QuantConnectAuth(user_id={self._user_id!r})"
