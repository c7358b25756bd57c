"""Who is calling: one value per request, resolved once from the bearer token and read by everyone after.

Audit, agent policy, scope checks and tenancy all need the caller's subject, tenant and role; each used to work
them out on its own, with different fallbacks. Now ``security.identity`` resolves a :class:`Caller` once, at the
start of each MCP request, and puts it here; the audit log, the policy guard and the gateway's tenant lookup
read :func:`current_caller`. This module is plain data so every layer may import it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Caller:
    """The identity a request acts with."""

    subject: str  # the token's ``sub`` (or client id); ``local`` for the local stdio user
    tenant: str | None = None  # the tenant claim, when it is a non-empty string
    role: str | None = None  # the ``role`` claim, or the role whose scope bundle the token carries exactly
    scopes: frozenset[str] = field(default_factory=frozenset)
    token: bool = False  # a bearer token was presented (shared mode)

    @property
    def tenant_label(self) -> str:
        """The tenant as audit rows record it (``local`` when there is none)."""
        return self.tenant or "local"


LOCAL = Caller("local")
_current: ContextVar[Caller | None] = ContextVar("qcmcp_caller", default=None)


def current_caller() -> Caller | None:
    """The caller resolved for this request, or None outside a request (or before resolution)."""
    return _current.get()


def set_current_caller(caller: Caller) -> object:
    """Make ``caller`` current for this request; returns the token :func:`reset_current_caller` takes."""
    return _current.set(caller)


def reset_current_caller(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
