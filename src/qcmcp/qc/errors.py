"""Typed failures of QuantConnect API calls.

Every message is written for the person or agent reading it: what went wrong and what
to do next. None of them ever includes credentials, request headers or local paths.
"""

from __future__ import annotations


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
    """The request failed on the way: connection, timeout or an unexpected HTTP status."""

    def __init__(self, endpoint: str, reason: str, status_code: int | None = None) -> None:
        self.endpoint = endpoint
        self.status_code = status_code
        super().__init__(f"Could not complete {endpoint}: {reason}")


class InvalidResponseError(QCError):
    """The API answered with something that is not a JSON object."""

    def __init__(self, endpoint: str, reason: str) -> None:
        self.endpoint = endpoint
        super().__init__(f"QuantConnect returned an unreadable answer for {endpoint}: {reason}")
