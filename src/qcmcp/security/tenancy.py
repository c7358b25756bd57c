"""Whose QuantConnect credentials a request acts with.

Local mode (stdio, or HTTP without tokens): the server's own credentials. Shared mode: the
tenant named by the bearer token's tenant claim, looked up in the credential vault (or, in
the sandbox, the tenant's own sandbox user). A shared cloud deployment without a vault is a
single-tenant deployment: every caller uses the server's credentials, and start-up says so.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastmcp.server.dependencies import get_access_token

from qcmcp import log as qlog
from qcmcp.backend import Backend
from qcmcp.config import Settings
from qcmcp.qc.client import Credentials
from qcmcp.qc.errors import QCError

if TYPE_CHECKING:  # the vault (SQLAlchemy, cryptography) is imported only when one is configured
    from qcmcp.security.vault import CredentialVault

log = logging.getLogger("qcmcp.security")

CACHE_SECONDS = 5.0  # how long a vault lookup is reused: removals and rotations apply within this


def open_vault(settings: Settings) -> CredentialVault | None:
    """The configured vault, or None without a vault key (then its libraries are never imported)."""
    if settings.vault_key is None and not settings.vault_key_file:
        return None
    from qcmcp.security.vault import CredentialVault

    return CredentialVault.from_settings(settings)


class TenantError(QCError):
    """The caller's tenant cannot be resolved to credentials."""


@dataclass(frozen=True)
class Caller:
    tenant: str | None
    credentials: Credentials | None
    organization_id: str | None


class TenantDirectory:
    def __init__(self, settings: Settings, backend: Backend, vault: CredentialVault | None) -> None:
        self.settings = settings
        self.backend = backend
        self.vault = vault
        self._local = Caller(None, backend.credentials, settings.organization_id or backend.organization_id)
        self._cache: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    @property
    def per_tenant(self) -> bool:
        """Whether tokens select credentials (otherwise every caller is the server's own user)."""
        return self.vault is not None or self.backend.kind == "sandbox"

    def current(self) -> Caller:
        token = get_access_token()
        if token is None or not self.per_tenant:
            return self._local
        claim = self.settings.auth_tenant_claim
        tenant = (token.claims or {}).get(claim)
        if not isinstance(tenant, str) or not tenant.strip():
            raise TenantError(f"This token carries no '{claim}' claim, so the server cannot tell whose QuantConnect "
                              f"account to use. Ask the operator for a token that names your tenant.")
        return self.lookup(tenant)

    def lookup(self, tenant: str) -> Caller:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(tenant)
            if cached is not None and cached[0] > now:
                return cached[1]
        caller = self._resolve(tenant)
        with self._lock:
            self._cache[tenant] = (now + CACHE_SECONDS, caller)
        return caller

    def _resolve(self, tenant: str) -> Caller:
        entry = None
        if self.vault is not None:
            from qcmcp.security.vault import VaultError

            try:
                entry = self.vault.get(tenant)
            except VaultError as error:
                log.error("vault lookup failed", extra={"tenant": tenant, "reason": str(error)})
                raise TenantError("The server could not read this tenant's credentials from its vault; "
                                  "the operator has been told (see the server log).") from None
            if entry is None:
                raise TenantError(f"Tenant '{tenant}' has no QuantConnect credentials on this server. The operator "
                                  f"adds them with `qcmcp tenant add {tenant}`.")
            qlog.protect(entry.credentials.api_token)
        if self.backend.kind == "cloud":
            assert entry is not None
            return Caller(tenant, entry.credentials, entry.organization_id)
        from qcmcp.sandbox.store import SandboxStore, organization_for

        store = self.backend.store
        assert isinstance(store, SandboxStore)
        if entry is not None:
            store.register_user(entry.credentials.user_id, entry.credentials.api_token)
            credentials = entry.credentials
        else:
            user = store.tenant_user(tenant)
            credentials = Credentials(user["user_id"], user["token"])
        return Caller(tenant, credentials, entry.organization_id if entry and entry.organization_id
                      else organization_for(credentials.user_id))
