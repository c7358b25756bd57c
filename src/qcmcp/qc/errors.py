"""Typed failures of QuantConnect API calls.

Every message is written for the person or agent reading it: what went wrong and what
to do next. None of them ever includes credentials, request headers or local paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class QCError(Exception):
    """Base class: a QuantConnect API call did not produce a usable answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CredentialsMissingError(QCError):
    """No QuantConnect credentials are configured for this caller."""

    def __init__(self) -> None:
        super().__init__(
            "QuantConnect credentials are not configured. Set QUANTCONNECT_USER_ID and "
            "QUANTCONNECT_API_TOKEN (and optionally QUANTCONNECT_ORGANIZATION_ID) in the "
            "server's environment, then restart it. Run `qcmcp doctor` to check them."
        )


class AuthenticationError(QCError):
    """QuantConnect rejected the credentials (HTTP 401/403 or an auth error body)."""

    def __init__(self, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(
            "QuantConnect rejected the credentials"
            f"{suffix}. Check that QUANTCONNECT_USER_ID is your numeric user id and "
            "QUANTCONNECT_API_TOKEN is the API token from your account page, and that "
            "this machine's clock is correct (requests are signed with a timestamp)."
        )


class APIError(QCError):
    """The API answered but reported failure (``success: false``)."""

    def __init__(self, endpoint: str, errors: list[str], messages: list[str] | None = None) -> None:
        self.endpoint = endpoint
        self.errors = errors
        self.messages = messages or []
        details = "; ".join([*errors, *self.messages]) or "no error details were given"
        super().__init__(f"QuantConnect API error from {endpoint}: {details}")


class TransportError(QCError):
    """The request failed on the way: connection, timeout or an unexpected HTTP status.

    ``outcome_unknown`` is true when the request was not idempotent and may have reached
    the API (a 5xx, a timeout or a broken connection after sending): the message then
    says it may have been carried out and which tool shows whether it was.
    """

    def __init__(self, endpoint: str, reason: str, status_code: int | None = None, *,
                 outcome_unknown: bool = False) -> None:
        self.endpoint = endpoint
        self.status_code = status_code
        self.outcome_unknown = outcome_unknown
        message = f"Could not complete {endpoint}: {reason}"
        super().__init__(message + (check_before_retry(endpoint) if outcome_unknown else ""))


class NotSentError(TransportError):
    """The request was not sent at all: the circuit breaker to the API is open, or QuantConnect's own
    ``Retry-After`` has not passed. Nothing was carried out, so retrying later is always safe."""

    def __init__(self, endpoint: str, reason: str, retry_after: float) -> None:
        super().__init__(endpoint, reason, 503)
        self.retry_after = retry_after
        self.message = (f"Did not call {endpoint}: {reason} Nothing was sent; retry after "
                        f"{max(1, math.ceil(retry_after))} s.")
        self.args = (self.message,)


class InvalidResponseError(QCError):
    """The API answered with something that is not a JSON object.

    For a create, an unreadable success answer leaves its outcome unknown, exactly like a
    timeout does (see :class:`TransportError`).
    """

    def __init__(self, endpoint: str, reason: str, *, outcome_unknown: bool = False) -> None:
        self.endpoint = endpoint
        self.outcome_unknown = outcome_unknown
        message = f"QuantConnect returned an unreadable answer for {endpoint}: {reason}"
        super().__init__(message + (check_before_retry(endpoint) if outcome_unknown else ""))


@dataclass(frozen=True)
class RetryCheck:
    """How to find out whether a create whose answer was lost was carried out."""

    # The catalog tool to call, or None when no tool can tell and repeating is harmless.
    tool: str | None
    # What to look for with it (or why repeating is harmless), as a sentence fragment.
    advice: str


CHECK_BEFORE_RETRY: dict[str, RetryCheck] = {
    "/projects/create": RetryCheck("list_projects", "look for a project with the name you gave"),
    "/compile/create": RetryCheck(
        "read_compile",
        "it needs the compileId, so if this call gave you none, just compile again (a second compile only "
        "builds the project's current files again)",
    ),
    "/backtests/create": RetryCheck("list_backtests", "look for a backtest of the project with the name you gave"),
    "/optimizations/create": RetryCheck(
        "list_optimizations", "look for an optimization of the project with the name you gave (a second one costs QCC)"
    ),
    "/live/create": RetryCheck(
        "list_live_algorithms", "look for a running deployment of the project (a second deployment can trade twice)"
    ),
    "/live/commands/create": RetryCheck(
        "read_live_logs", "see whether the algorithm received the command, and read_live_orders if it places orders"
    ),
    "/live/commands/broadcast": RetryCheck(
        "read_live_logs",
        "see whether the running algorithms received the command, and read_live_orders if it places orders",
    ),
    "/object/get": RetryCheck(
        None, "repeating it is harmless: it only starts another download job for the same keys"
    ),
    # The catalog marks these two idempotent (as upstream does), so they are normally retried
    # automatically; the entries apply when a caller sends them as not idempotent.
    "/files/create": RetryCheck("read_file", "read the file by name; if it exists, change it with "
                                "update_file_contents instead of creating it again"),
    "/object/set": RetryCheck("list_object_store_files", "look for the key under its folder"),
}
"""Non-idempotent endpoint -> the read or list tool that shows whether a lost create happened.

The client sends a create once and never repeats it after it may have reached QuantConnect,
since a repeat could make a second project, backtest, optimization or live deployment (some
cost credit; a second deployment can trade twice). So the agent must check before retrying,
and every such error names the check. Kept here as data, in one place, because the client
knows only the endpoint; tests/test_ambiguous_creates.py holds it to the catalog (every
non-retry-safe tool has an entry, and every tool named exists and is itself safe to call).
"""


def check_before_retry(endpoint: str) -> str:
    """The sentences added to an error when a create may have been carried out."""
    text = (
        ". The request may have been carried out: it may have reached QuantConnect even though no clear "
        "answer came back, so it was not retried automatically."
    )
    check = CHECK_BEFORE_RETRY.get(endpoint)
    if check is not None and check.tool is None:
        return f"{text} {check.advice[0].upper()}{check.advice[1:]}."
    text += " Repeating it could create a duplicate: before retrying, check"
    if check is None:
        return text + " its result with the matching read or list tool."
    return f"{text} with {check.tool}: {check.advice}."
