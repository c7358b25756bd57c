"""Resolves the caller of each request once, from its bearer token (see :mod:`qcmcp.caller`).

The MCP middleware here runs first for every request and makes the :class:`Caller` current for everything after
it (audit, scope guard, policy, tenancy); the HTTP scope challenge, which runs before MCP, uses the same
:func:`resolve_caller`.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from fastmcp.server.auth import AccessToken
from fastmcp.server.dependencies import get_access_token
from fastmcp.server.middleware import Middleware, MiddlewareContext

from qcmcp.caller import LOCAL, Caller, current_caller, reset_current_caller, set_current_caller
from qcmcp.security.scopes import ROLES


# The access token the current caller was resolved from: a caller is reused only for that very token.
_resolved_from: ContextVar[AccessToken | None] = ContextVar("qcmcp_caller_token", default=None)


def resolve_caller(token: AccessToken | None, tenant_claim: str) -> Caller:
    """Subject, tenant, role and scopes of a token; the local user without one."""
    if token is None:
        return LOCAL
    claims = token.claims or {}
    scopes = frozenset(token.scopes or ())
    role = claims.get("role")
    if not isinstance(role, str):  # tokens from an IdP may carry only scopes: a role is an exact scope bundle
        role = next((name for name, bundle in ROLES.items() if bundle == scopes), None)
    tenant = claims.get(tenant_claim)
    return Caller(subject=str(claims.get("sub") or token.client_id), tenant=tenant if isinstance(tenant, str) and
                  tenant.strip() else None, role=role, scopes=scopes, token=True)


def caller_now(tenant_claim: str) -> Caller:
    """The request's resolved caller (resolving it if this request has not been through the middleware)."""
    return current_caller() or resolve_caller(get_access_token(), tenant_claim)


class IdentityMiddleware(Middleware):
    """Outermost: resolve the caller once per request and make it current for the rest of the chain."""

    def __init__(self, tenant_claim: str) -> None:
        self.tenant_claim = tenant_claim

    async def on_message(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        access = get_access_token()
        if current_caller() is not None and _resolved_from.get() is access:
            return await call_next(context)  # the chain runs again inside a request it already resolved
        token, source = set_current_caller(resolve_caller(access, self.tenant_claim)), _resolved_from.set(access)
        try:
            return await call_next(context)
        finally:
            _resolved_from.reset(source)
            reset_current_caller(token)
