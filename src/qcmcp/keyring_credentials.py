"""Local mode's second source of QuantConnect credentials: the operating system's keyring.

Environment variables win; the keyring is consulted only when they are absent. On Linux
without a D-Bus session (servers, CI) there is no keyring to ask, so the lookup is skipped
rather than paying for keyring's backend discovery at every start.
"""

from __future__ import annotations

import os
import sys

from pydantic import SecretStr

from qcmcp.config import Settings

SERVICE = "qcmcp"
USER_ID, API_TOKEN = "quantconnect-user-id", "quantconnect-api-token"


def keyring_available() -> bool:
    if os.environ.get("QCMCP_KEYRING", "auto").lower() == "off":
        return False
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    return not sys.platform.startswith("linux") or bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))


def with_keyring_credentials(settings: Settings) -> Settings:
    """``settings`` with the keyring's user id and token filled in when the environment has none."""
    if settings.has_credentials or not keyring_available():
        return settings
    try:
        import keyring

        user_id, token = keyring.get_password(SERVICE, USER_ID), keyring.get_password(SERVICE, API_TOKEN)
    except Exception:  # no usable backend, locked keyring…: behave as if nothing were stored
        return settings
    if not user_id or not token:
        return settings
    return settings.model_copy(update={"user_id": user_id, "api_token": SecretStr(token)})


def store(user_id: str, token: str) -> None:
    import keyring

    keyring.set_password(SERVICE, USER_ID, user_id)
    keyring.set_password(SERVICE, API_TOKEN, token)


def forget() -> bool:
    import keyring
    from keyring.errors import PasswordDeleteError

    removed = False
    for name in (USER_ID, API_TOKEN):
        try:
            keyring.delete_password(SERVICE, name)
            removed = True
        except PasswordDeleteError:
            pass
    return removed
