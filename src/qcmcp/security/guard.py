"""Say *why* a call is refused: a missing scope is named, not disguised as an unknown tool.

fastmcp hides a tool from callers whose token lacks its scope, so calling it would answer
"Unknown tool". This middleware answers first, with a 403-style error that names the
scope the token needs.
"""

from __future__ import annotations

import logging
from typing import Any

from fastmcp.exceptions import ToolError
from fastmcp.server.middleware import Middleware, MiddlewareContext

from qcmcp.security.identity import caller_now
from qcmcp.security.scopes import ROLES
from qcmcp.tools.catalog import BY_NAME
from qcmcp.tools.spec import scope

# Arguments that reach data another scope guards: a research tool's object_key reads the Object Store.
ARGUMENT_SCOPES = {"object_key": scope("objects", "read")}

log = logging.getLogger("qcmcp.security")


def roles_with(scope: str) -> list[str]:
    return [role for role, scopes in ROLES.items() if scope in scopes]


class ScopeGuard(Middleware):
    def __init__(self, tenant_claim: str = "tenant") -> None:
        self.tenant_claim = tenant_claim

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        spec = BY_NAME.get(context.message.name)
        caller = caller_now(self.tenant_claim)
        if spec is not None and spec.scope and caller.token and spec.scope not in caller.scopes:
            log.info("forbidden tool call", extra={"tool": spec.name, "subject": caller.subject, "needs": spec.scope})
            raise ToolError(f"Forbidden (403): {spec.name} needs the scope '{spec.scope}', which this token does "
                            f"not carry. Roles that include it: {', '.join(roles_with(spec.scope))}.",
                            log_level=logging.INFO)
        arguments = context.message.arguments or {}
        for name, needed in ARGUMENT_SCOPES.items():
            if spec is not None and caller.token and arguments.get(name) is not None and needed not in caller.scopes:
                log.info("forbidden argument", extra={"tool": spec.name, "subject": caller.subject, "needs": needed})
                raise ToolError(f"Forbidden (403): {spec.name} with {name} needs the scope '{needed}', which this "
                                f"token does not carry. Roles that include it: {', '.join(roles_with(needed))}.",
                                log_level=logging.INFO)
        return await call_next(context)
