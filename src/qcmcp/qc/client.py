"""One pooled async client per QuantConnect credential set.

The official server opens a new HTTP client for every request; we keep one
``httpx.AsyncClient`` per credential set so connections (and TLS sessions) are reused.
The client turns every way a call can fail into one of the typed errors in
:mod:`qcmcp.qc.errors`, retries only what is safe to repeat, and honours ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import hashlib
import logging
import math
import random
import ssl
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from qcmcp import __version__
from qcmcp.qc.auth import QuantConnectAuth
from qcmcp.qc.pool import LeanTransport
from qcmcp.qc.errors import (
    APIError,
    AuthenticationError,
    CredentialsMissingError,
    InvalidResponseError,
    TransportError,
)

log = logging.getLogger("qcmcp.qc")

# Statuses that mean "try again later" rather than "this request is wrong".
RETRYABLE_STATUS = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER_SECONDS = 30.0
DOWNLOAD_SECONDS = 120  # a whole download link transfer, however slowly the bytes come
# As many kept alive as may be open: httpcore closes an idle connection whenever more than
# max_keepalive_connections are open (busy or not), so a smaller number churns connections under load.
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32)
AUTH_ERROR_HINTS = ("hash doesn't match", "hash does not match", "invalid token", "timestamp")


@dataclass(frozen=True)
class Credentials:
    """A QuantConnect user id and API token; the token is never printed."""

    user_id: str
    api_token: str

    def fingerprint(self) -> str:
        """A stable, non-reversible key for pooling clients per credential set."""
        return hashlib.sha256(f"{self.user_id}:{self.api_token}".encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Credentials(user_id={self.user_id!r}, api_token='***')"


def _retry_after_seconds(response: httpx.Response, cap: float = MAX_RETRY_AFTER_SECONDS) -> float | None:
    """Parse ``Retry-After`` (seconds or HTTP date), capped so a call cannot hang."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, cap))


class ClientHooks(Protocol):
    """What the operations layer sees of each call (metrics, circuit breaker, Retry-After, read cache).

    Handed in by the gateway (built in ``server.py``); this module only calls it. ``account`` is the credential
    fingerprint, so cached answers never cross credential sets.
    """

    async def before_attempt(self, endpoint: str) -> None:
        """Wait or raise :class:`NotSentError` before a request is sent (breaker open, Retry-After pending)."""

    def after_attempt(self, endpoint: str, status: int | None, seconds: float, retry_after: float | None) -> None:
        """One attempt ended: its HTTP status, or None when no answer came."""

    def retrying(self, endpoint: str, reason: str) -> None: ...

    def cached(self, account: str, endpoint: str, payload: dict[str, Any]) -> dict[str, Any] | None: ...

    def answered(self, account: str, endpoint: str, payload: dict[str, Any], body: dict[str, Any], size: int) -> None:
        """A successful answer (a cache may keep it)."""

    def written(self, account: str, endpoint: str, payload: dict[str, Any]) -> None:
        """A call that may have changed something was attempted (a cache drops what it touched)."""


class NoHooks:
    """The default: nothing observed, nothing cached."""

    async def before_attempt(self, endpoint: str) -> None:
        return None

    def after_attempt(self, endpoint: str, status: int | None, seconds: float, retry_after: float | None) -> None:
        return None

    def retrying(self, endpoint: str, reason: str) -> None:
        return None

    def cached(self, account: str, endpoint: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def answered(self, account: str, endpoint: str, payload: dict[str, Any], body: dict[str, Any], size: int) -> None:
        return None

    def written(self, account: str, endpoint: str, payload: dict[str, Any]) -> None:
        return None


class QuantConnectClient:
    """Calls the QuantConnect REST API v2 with one credential set."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        hooks: ClientHooks | None = None,
    ) -> None:
        self._max_retries = max_retries
        self._hooks: ClientHooks = hooks or NoHooks()
        self._account = credentials.fingerprint()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            auth=QuantConnectAuth(credentials.user_id, credentials.api_token),
            timeout=timeout,
            transport=transport or _default_transport(),
            limits=LIMITS,
            headers={"User-Agent": f"qcmcp/{__version__}"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(
        self,
        endpoint: str,
        payload: dict[str, Any] | None = None,
        *,
        idempotent: bool,
        files: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST to ``endpoint`` and return the JSON object of a successful answer.

        ``idempotent`` says whether repeating the call is harmless. Calls that are not
        (creates) are retried only when the request provably never reached the server
        (connection refused, or an explicit 429) so a retry can never duplicate them.
        Any other failure of such a call (a 5xx, a timeout or broken connection after
        sending, an unreadable success answer) may have been carried out: its error has
        ``outcome_unknown`` set and says which tool to check with before retrying.
        """
        body_in = payload or {}
        if files is None:
            hit = self._hooks.cached(self._account, endpoint, body_in)
            if hit is not None:
                return hit
        try:
            response = await self._send(endpoint, payload, files=files, idempotent=idempotent)
            body = self._parse(endpoint, response, idempotent=idempotent)
        finally:
            self._hooks.written(self._account, endpoint, body_in)  # a no-op for reads
        if files is None:
            self._hooks.answered(self._account, endpoint, body_in, body, len(response.content))
        return body

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """GET a download link the API handed out (an Object Store file), at most ``max_bytes`` of it.

        No credentials go with it (it is a capability URL, often on another host), and only https links are
        followed, or plain http on the API's own host (the local sandbox serves its links itself).
        """
        endpoint = "/object/download"
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise InvalidResponseError(endpoint, "the download link is not a URL") from None
        if target.scheme != "https" and not (target.scheme == "http" and target.host == self._http.base_url.host):
            raise InvalidResponseError(endpoint, "the download link is not https")
        try:
            async with asyncio.timeout(DOWNLOAD_SECONDS), self._http.stream("GET", target, auth=None) as response:
                if response.status_code != 200:
                    raise TransportError(endpoint, f"the download link answered HTTP {response.status_code}",
                                         response.status_code)
                received = bytearray()
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if len(received) > max_bytes:
                        raise InvalidResponseError(endpoint, f"the download is larger than {max_bytes} bytes")
        except httpx.HTTPError as exc:
            raise TransportError(endpoint, _describe(exc)) from None
        except TimeoutError:
            raise TransportError(endpoint, f"the download took longer than {DOWNLOAD_SECONDS} s") from None
        return bytes(received)

    async def redirect_location(self, endpoint: str, payload: dict[str, Any]) -> str:
        """POST and return the ``Location`` of the redirect the API answers with."""
        response = await self._send(endpoint, payload, idempotent=True, follow_redirects=False)
        location = response.headers.get("Location")
        if response.is_redirect and location:
            return location
        body = self._parse(endpoint, response, idempotent=True)  # raises on an error body
        url = body.get("url") or body.get("redirect")
        if isinstance(url, str) and url:
            return url
        raise InvalidResponseError(endpoint, "expected a redirect with an authorisation URL")

    async def _send(
        self,
        endpoint: str,
        payload: dict[str, Any] | None,
        *,
        idempotent: bool,
        files: dict[str, Any] | None = None,
        follow_redirects: bool = True,
    ) -> httpx.Response:
        path = endpoint.lstrip("/")
        attempt = 0
        while True:
            attempt += 1
            await self._hooks.before_attempt(endpoint)  # raises NotSentError while the API must not be called
            started = time.perf_counter()
            try:
                if files is not None:
                    request = self._http.build_request("POST", path, data=payload, files=files)
                else:
                    request = self._http.build_request("POST", path, json=payload or {})
                response = await self._http.send(request, follow_redirects=follow_redirects)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left this process: repeating it is always safe.
                reason = _describe(exc)
                self._hooks.after_attempt(endpoint, None, time.perf_counter() - started, None)
                if attempt <= self._max_retries:
                    await self._backoff(endpoint, attempt, reason)
                    continue
                raise TransportError(endpoint, reason) from None
            except httpx.TimeoutException:
                reason = f"no answer within {self._http.timeout.read:g} s"
                self._hooks.after_attempt(endpoint, None, time.perf_counter() - started, None)
                if idempotent and attempt <= self._max_retries:
                    await self._backoff(endpoint, attempt, reason)
                    continue
                # Sent, but no answer: a create may have been carried out.
                raise TransportError(endpoint, reason, outcome_unknown=not idempotent) from None
            except httpx.HTTPError as exc:
                reason = _describe(exc)
                self._hooks.after_attempt(endpoint, None, time.perf_counter() - started, None)
                if idempotent and attempt <= self._max_retries:
                    await self._backoff(endpoint, attempt, reason)
                    continue
                raise TransportError(endpoint, reason, outcome_unknown=not idempotent) from None

            log.debug(
                "qc call",
                extra={
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "attempt": attempt,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            status = response.status_code
            # What QuantConnect asked for, uncapped up to an hour: it holds back every caller, not this one alone.
            retry_after = _retry_after_seconds(response, 3600.0) if status == 429 else None
            self._hooks.after_attempt(endpoint, status, time.perf_counter() - started, retry_after)
            if status in (401, 403):
                raise AuthenticationError(f"HTTP {status}")
            if status in RETRYABLE_STATUS:
                # 429 means the request was refused, not processed: safe for every call.
                may_retry = status == 429 or idempotent
                # A Retry-After longer than this call may wait is said, not slept through.
                too_long = retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS
                if may_retry and attempt <= self._max_retries and not too_long:
                    await self._backoff(endpoint, attempt, f"HTTP {status}", _retry_after_seconds(response))
                    continue
                hint = "the service had a problem" if status != 429 else "rate limited; wait and retry" \
                    if retry_after is None else f"rate limited; retry after {math.ceil(retry_after)} s"
                # A 5xx may come after the API acted on the request; a 429 never does.
                raise TransportError(endpoint, f"HTTP {status} ({hint})", status, outcome_unknown=not may_retry)
            return response

    async def _backoff(self, endpoint: str, attempt: int, reason: str, retry_after: float | None = None) -> None:
        delay = retry_after if retry_after is not None else min(8.0, 0.25 * 2 ** (attempt - 1))
        delay *= 1.0 if retry_after is not None else random.uniform(0.8, 1.2)
        log.warning("retrying %s after %s (attempt %d, waiting %.2f s)", endpoint, reason, attempt, delay)
        self._hooks.retrying(endpoint, reason)
        await self._sleep(delay)

    @staticmethod
    def _parse(endpoint: str, response: httpx.Response, *, idempotent: bool) -> dict[str, Any]:
        """The JSON object of a successful answer, or a typed error.

        A 4xx means the request was refused; a 5xx or an unreadable body does not say
        whether a create was carried out, so those leave the outcome of a create unknown.
        A clean ``success: false`` answer is never ambiguous.
        """
        status = response.status_code
        if status >= 400:
            raise TransportError(endpoint, f"HTTP {status}", status, outcome_unknown=not idempotent and status >= 500)
        try:
            body = response.json()
        except ValueError:  # includes a body that is not valid UTF-8
            kind = response.headers.get("Content-Type", "unknown type").split(";")[0]
            raise InvalidResponseError(endpoint, f"expected JSON, got {kind} ({len(response.content)} bytes)",
                                       outcome_unknown=not idempotent) from None
        if not isinstance(body, dict):
            raise InvalidResponseError(endpoint, f"expected a JSON object, got {type(body).__name__}",
                                       outcome_unknown=not idempotent)
        if body.get("success") is False:
            errors = [str(e) for e in body.get("errors") or []]
            messages = [str(m) for m in body.get("messages") or []]
            text = " ".join(errors + messages).lower()
            if any(hint in text for hint in AUTH_ERROR_HINTS):
                raise AuthenticationError("; ".join(errors + messages))
            raise APIError(endpoint, errors, messages)
        return body


def _describe(exc: httpx.HTTPError) -> str:
    """A short reason without URLs, headers or other request details."""
    name = type(exc).__name__
    return {
        "ConnectError": "could not connect to the QuantConnect API",
        "ConnectTimeout": "timed out connecting to the QuantConnect API",
        "PoolTimeout": "too many requests in flight",
        "RemoteProtocolError": "the connection was closed unexpectedly",
        "ReadError": "the connection failed while reading the answer",
        "WriteError": "the connection failed while sending the request",
    }.get(name, f"network error ({name})")


class ClientPool:
    """Hands out one long-lived client per credential set and closes them all on exit."""

    def __init__(self, factory: Callable[[Credentials], QuantConnectClient]) -> None:
        self._factory = factory
        self._clients: dict[str, QuantConnectClient] = {}

    def get(self, credentials: Credentials | None) -> QuantConnectClient:
        if credentials is None:
            raise CredentialsMissingError()
        key = credentials.fingerprint()
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._factory(credentials)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verified TLS context (httpx's: certifi, or SSL_CERT_FILE/SSL_CERT_DIR) for every client in the process.
    Building one parses the CA bundle — tens of milliseconds, seconds on a busy machine — and every tenant's
    client built its own on its first call (benchmarks/http_load.py: a worker's first calls waited 2–5 s)."""
    return httpx.create_ssl_context()


def _default_transport() -> httpx.AsyncBaseTransport | None:
    """The lean pool, unless the environment names a proxy (HTTPS_PROXY, …): httpx honours those only with its
    own transports, so it then builds them (None) and the calls go through the proxy as configured."""
    if any(urllib.request.getproxies().values()):
        return None
    return LeanTransport(limits=LIMITS, verify=tls_context())
