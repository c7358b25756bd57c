"""What tools reach the API through: the backend, the caller's credentials and one pooled client per credential set.

Credentials are the caller's: the server's own in local mode; in a shared deployment, those of the tenant the
request's :class:`~qcmcp.caller.Caller` names — from the credential store (the vault, handed in by
``server.py``) on the cloud, or the tenant's own sandbox account, which the backend creates. A shared cloud
deployment without a vault is single-tenant: every caller uses the server's credentials. The pool keeps one
client per credential set, so tenants never share a client. Nothing here imports security code: identity
arrives as a resolved ``Caller``, the vault as a :class:`CredentialSource`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx

from qcmcp import log
from qcmcp.backend import Backend, open_backend
from qcmcp.caller import current_caller
from qcmcp.config import Settings
from qcmcp.qc.client import ClientHooks, ClientPool, Credentials, QuantConnectClient, tls_context
from qcmcp.qc.errors import QCError

CACHE_SECONDS = 5.0  # how long a credential lookup is reused: removals and rotations apply within this

logger = logging.getLogger("qcmcp.gateway")


class CredentialLookupError(Exception):
    """The credential store could not be read (its message is for the operator's log, not the caller)."""


class StoredCredentials(Protocol):
    @property
    def credentials(self) -> Credentials: ...

    @property
    def organization_id(self) -> str | None: ...


class CredentialSource(Protocol):
    """Tenants' QuantConnect credentials (the vault): ``get`` raises CredentialLookupError when it cannot read."""

    def get(self, tenant: str) -> StoredCredentials | None: ...

    def close(self) -> None: ...


class TenantError(QCError):
    """The caller's tenant cannot be resolved to credentials."""


@dataclass(frozen=True)
class Account:
    """The QuantConnect account a request acts with."""

    tenant: str | None
    credentials: Credentials | None
    organization_id: str | None


class Gateway:
    """Owns the backend, the tenant accounts and the pooled API clients for the lifetime of the server."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        pypi_transport: httpx.AsyncBaseTransport | None = None,
        vault: CredentialSource | None = None,
        hooks: ClientHooks | None = None,
    ) -> None:
        self.settings = settings
        self.pypi_transport = pypi_transport
        self.backend = open_backend(settings, transport)
        self.vault = vault
        self._local = Account(None, self.backend.credentials,
                              settings.organization_id or self.backend.organization_id)
        self._accounts: dict[str, tuple[float, Account]] = {}
        # Readiness checks, set by server.py (they span the audit log too), read by the health_check tool.
        self.readiness: Callable[[], Awaitable[dict[str, Any]]] | None = None
        self.tool_count = 0
        self._lock = threading.Lock()
        log.protect(*self.secrets())
        if self.backend.transport is None:
            tls_context()  # built now, at start-up, rather than inside the first caller's request
        self.pool = ClientPool(
            lambda credentials: QuantConnectClient(
                credentials,
                base_url=self.backend.base_url,
                timeout=settings.timeout_seconds,
                max_retries=settings.max_retries,
                transport=self.backend.transport,
                hooks=hooks,  # metrics, circuit breaker, Retry-After and read cache, shared by every client
            )
        )

    @property
    def is_sandbox(self) -> bool:
        return self.backend.kind == "sandbox"

    @property
    def per_tenant(self) -> bool:
        """Whether a token's tenant selects the account (otherwise every caller is the server's own user)."""
        return self.vault is not None or self.is_sandbox

    def account(self) -> Account:
        """The current request's account: the local one, or its caller's tenant's."""
        caller = current_caller()
        if caller is None or not caller.token or not self.per_tenant:
            return self._local
        if caller.tenant is None:
            claim = self.settings.auth_tenant_claim
            raise TenantError(f"This token carries no '{claim}' claim, so the server cannot tell whose QuantConnect "
                              f"account to use. Ask the operator for a token that names your tenant.")
        return self.tenant_account(caller.tenant)

    def tenant_account(self, tenant: str) -> Account:
        now = time.monotonic()
        with self._lock:
            cached = self._accounts.get(tenant)
            if cached is not None and cached[0] > now:
                return cached[1]
        account = self._resolve(tenant)
        with self._lock:
            self._accounts[tenant] = (now + CACHE_SECONDS, account)
        return account

    def _resolve(self, tenant: str) -> Account:
        stored = None
        if self.vault is not None:
            try:
                stored = self.vault.get(tenant)
            except CredentialLookupError as error:
                logger.error("vault lookup failed", extra={"tenant": tenant, "reason": str(error)})
                raise TenantError("The server could not read this tenant's credentials from its vault; "
                                  "the operator has been told (see the server log).") from None
            if stored is None:
                raise TenantError(f"Tenant '{tenant}' has no QuantConnect credentials on this server. The operator "
                                  f"adds them with `qcmcp tenant add {tenant}`.")
            log.protect(stored.credentials.api_token)
        if not self.is_sandbox:
            assert stored is not None
            return Account(tenant, stored.credentials, stored.organization_id)
        credentials, organization = self.backend.sandbox_account(tenant, stored.credentials if stored else None)
        return Account(tenant, credentials, stored.organization_id if stored and stored.organization_id
                       else organization)

    async def check_backend(self) -> None:
        """Raise unless the API answers the server's own account (readiness)."""
        if self._local.credentials is None:
            if self.vault is not None:
                return  # tenants bring their own credentials; there is no server account to try
            raise TenantError("no QuantConnect credentials are configured (QUANTCONNECT_USER_ID / _API_TOKEN)")
        await self.pool.get(self._local.credentials).post("/account/read", idempotent=True)

    def check_jail(self) -> None:
        """Raise when algorithms would be refused here (shared mode on the sandbox without bubblewrap)."""
        jail = self.backend.jail
        if jail is not None and jail.required and not jail.confined:
            raise TenantError(f"algorithms cannot run: {jail.reason}")

    def credentials(self) -> Credentials | None:
        return self.account().credentials

    def default_organization(self) -> str | None:
        """The caller's organization: QUANTCONNECT_ORGANIZATION_ID locally, the tenant's in shared mode."""
        return self.account().organization_id

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
