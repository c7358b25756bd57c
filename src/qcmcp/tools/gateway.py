"""What tools need at call time: the caller's QuantConnect client and the settings.

Today the credentials come from the environment (local mode) or the sandbox's local
user. The multi-tenant security layer replaces :meth:`Gateway.credentials` with a
per-tenant vault lookup; the pool already keeps one client per credential set, so
tenants never share one.
"""

from __future__ import annotations

import httpx

from qcmcp import log
from qcmcp.backend import open_backend
from qcmcp.config import Settings
from qcmcp.qc.client import ClientPool, Credentials, QuantConnectClient


class Gateway:
    """Owns the pooled API clients for the lifetime of the server."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pypi_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.pypi_transport = pypi_transport
        self.backend = open_backend(settings, transport)
        log.protect(*self.secrets())
        self.pool = ClientPool(
            lambda credentials: QuantConnectClient(
                credentials,
                base_url=self.backend.base_url,
                timeout=settings.timeout_seconds,
                max_retries=settings.max_retries,
                transport=self.backend.transport,
            )
        )

    @property
    def is_sandbox(self) -> bool:
        return self.backend.kind == "sandbox"

    def credentials(self) -> Credentials | None:
        return self.backend.credentials

    def default_organization(self) -> str | None:
        """QUANTCONNECT_ORGANIZATION_ID, or in the sandbox the caller's own organization."""
        return self.settings.organization_id or self.backend.organization_id

    def client(self) -> QuantConnectClient:
        """The caller's client; raises CredentialsMissingError when none is configured."""
        return self.pool.get(self.credentials())

    def secrets(self) -> list[str]:
        credentials = self.backend.credentials
        return [*self.settings.secrets(), *([credentials.api_token] if credentials else [])]

    def redact(self, text: str) -> str:
        """Mask every configured secret in ``text`` (last line of defence for messages)."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return text

    async def aclose(self) -> None:
        await self.pool.aclose()
        self.backend.close()
