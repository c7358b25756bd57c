"""What tools need at call time: the caller's QuantConnect client and the settings.

Credentials are the caller's: the server's own in local mode, the token's tenant's in a
shared deployment (see :mod:`qcmcp.security.tenancy`). The pool keeps one client per
credential set, so tenants never share a client.
"""

from __future__ import annotations

import httpx

from qcmcp import log
from qcmcp.backend import open_backend
from qcmcp.config import Settings
from qcmcp.qc.client import ClientPool, Credentials, QuantConnectClient
from qcmcp.security.tenancy import TenantDirectory, open_vault


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
        self.vault = open_vault(settings)
        self.tenants = TenantDirectory(settings, self.backend, self.vault)
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
        return self.tenants.current().credentials

    def default_organization(self) -> str | None:
        """The caller's organization: QUANTCONNECT_ORGANIZATION_ID locally, the tenant's in shared mode."""
        return self.tenants.current().organization_id

    def client(self) -> QuantConnectClient:
        """The caller's client; raises CredentialsMissingError when none is configured."""
        return self.pool.get(self.credentials())

    def secrets(self) -> list[str]:
        credentials = self.backend.credentials
        return [*self.settings.secrets(), *([credentials.api_token] if credentials else [])]

    def redact(self, text: str) -> str:
        """Mask every known secret in ``text``, tenants' included (last line of defence for messages)."""
        return log.REDACTOR.redact(text)

    async def aclose(self) -> None:
        await self.pool.aclose()
        self.backend.close()
        if self.vault is not None:
            self.vault.close()
