"""Which QuantConnect API the server talks to: the cloud, or the embedded sandbox.

The sandbox speaks the same HTTP API, mounted in-process with ``httpx.ASGITransport``,
so nothing above the HTTP client knows which one it is talking to.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import httpx

from qcmcp.config import Settings
from qcmcp.qc.client import Credentials

if TYPE_CHECKING:  # the sandbox is imported only when it is the backend
    from qcmcp.sandbox.jail import Jail
    from qcmcp.sandbox.store import SandboxStore


class Closable(Protocol):
    def close(self) -> None: ...

SANDBOX_URL = "http://sandbox.qcmcp"
DEFAULT_SANDBOX_USER = "100001"


@dataclass
class Backend:
    kind: Literal["cloud", "sandbox"]
    base_url: str
    transport: httpx.AsyncBaseTransport | None
    credentials: Credentials | None
    store: SandboxStore | None = None  # the sandbox's state, closed with the backend
    organization_id: str | None = None  # known up front only in the sandbox
    runners: tuple[Closable, ...] = ()  # the sandbox's backtest and live runners: their workers end with it
    jail: Jail | None = None  # how the sandbox runs algorithms (None on the cloud)

    def sandbox_account(self, tenant: str, credentials: Credentials | None) -> tuple[Credentials, str]:
        """A shared deployment's tenant on the sandbox: the vault's credentials registered as a sandbox user,
        or the tenant's own sandbox user, created on first use. Returns the credentials and organization."""
        from qcmcp.sandbox.store import organization_for

        assert self.store is not None, "sandbox accounts exist only on the sandbox backend"
        if credentials is not None:
            self.store.register_user(credentials.user_id, credentials.api_token)
        else:
            user = self.store.tenant_user(tenant)
            credentials = Credentials(user["user_id"], user["token"])
        return credentials, organization_for(credentials.user_id)

    def close(self) -> None:
        for runner in self.runners:
            runner.close()
        if self.store is not None:
            self.store.close()


def default_sandbox_db() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("qcmcp")) / "sandbox.sqlite3"


def sandbox_credentials(store: SandboxStore, settings: Settings) -> Credentials:
    """Use the configured credentials if any; otherwise the sandbox's own local user."""
    if settings.has_credentials:
        assert settings.user_id and settings.api_token
        credentials = Credentials(settings.user_id, settings.api_token.get_secret_value())
        store.register_user(credentials.user_id, credentials.api_token)
        return credentials
    user = store.user(DEFAULT_SANDBOX_USER)
    if user is None:
        token = secrets.token_hex(20)
        store.register_user(DEFAULT_SANDBOX_USER, token)
        return Credentials(DEFAULT_SANDBOX_USER, token)
    return Credentials(user["user_id"], user["token"])


def sandbox_jail(settings: Settings, data_folder: Path | None) -> Jail:
    """The jail sandbox algorithms run in; ``QCMCP_JAIL=required`` (set for shared mode) refuses to run without."""
    from qcmcp.sandbox.jail import Jail

    return Jail.detect(required=settings.jail == "required", data_folders=(data_folder,) if data_folder else ())


def open_backend(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> Backend:
    """The backend QCMCP_BACKEND names (``Settings.resolved_backend``; a transport stands in for the cloud)."""
    if settings.resolved_backend == "cloud" or (settings.backend == "auto" and transport is not None):
        credentials = None
        if settings.has_credentials:
            assert settings.user_id and settings.api_token
            credentials = Credentials(settings.user_id, settings.api_token.get_secret_value())
        return Backend("cloud", settings.api_url, transport, credentials)
    from qcmcp.sandbox.app import create_app
    from qcmcp.sandbox.store import SandboxStore, organization_for

    store = SandboxStore(settings.sandbox_db or default_sandbox_db())
    data_folder = Path(settings.data_dir) if settings.data_dir else None
    jail = sandbox_jail(settings, data_folder)
    app = create_app(store, SANDBOX_URL, data_folder=data_folder, live_clock_speed=settings.live_clock_speed, jail=jail)
    credentials = sandbox_credentials(store, settings)
    return Backend("sandbox", f"{SANDBOX_URL}/api/v2", httpx.ASGITransport(app=app), credentials, store,
                   organization_for(credentials.user_id), (app.state.runner, app.state.live), jail)
