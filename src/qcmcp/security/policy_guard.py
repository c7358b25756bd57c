"""Applies the agent policy to every call (and to tools/list, so agents see only what they may use).

QCC caps count what an agent committed today (UTC) according to the audit log: the
``estimatedCost`` of each successful ``create_optimization`` — the QCC estimate QuantConnect's
create call itself carries — plus calls still in flight. A call whose estimate would pass
the cap is refused before it is sent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, time
from typing import Any

from fastmcp.exceptions import ToolError
from fastmcp.server.middleware import Middleware, MiddlewareContext

from qcmcp.security.audit import AuditLog
from qcmcp.caller import Caller
from qcmcp.security.identity import caller_now
from qcmcp.security.policy import Effective, PolicyFile
from qcmcp.tools.catalog import BY_NAME
from qcmcp.gateway import Gateway
from qcmcp.tools.schema import parameter_names
from qcmcp.tools.spec import ToolSpec

log = logging.getLogger("qcmcp.security")
QCC_ARGUMENT = {"create_optimization": "estimatedCost", "run_optimization": "estimatedCost"}  # tools that commit QCC, and the argument saying how much


def _forbidden(reason: str) -> ToolError:
    return ToolError(f"Forbidden by policy (403): {reason} Nothing was done; ask the operator if you need it.",
                     log_level=logging.INFO)


class PolicyGuard(Middleware):
    def __init__(self, policy: PolicyFile, gateway: Gateway, audit: AuditLog, tenant_claim: str) -> None:
        self.policy = policy
        self.gateway = gateway
        self.audit = audit
        self.tenant_claim = tenant_claim
        self._in_flight: dict[str, float] = defaultdict(float)

    def _effective(self) -> tuple[Caller, Effective]:
        caller = caller_now(self.tenant_claim)
        return caller, self.policy.current().effective(caller)

    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        tools = await call_next(context)
        _, effective = self._effective()
        return [tool for tool in tools if effective.tool_allowed(tool.name)]

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        spec = BY_NAME.get(context.message.name)
        if spec is None:
            return await call_next(context)
        identity, effective = self._effective()
        arguments = dict(context.message.arguments or {})
        reason = self._refusal(spec, arguments, effective)
        if reason:
            log.info("policy refused a call", extra={"tool": spec.name, "subject": identity.subject})
            raise _forbidden(reason)
        argument = QCC_ARGUMENT.get(spec.name)
        if effective.qcc_per_day is None or argument is None:
            return await call_next(context)
        amount = self._amount(arguments.get(argument))
        since = datetime.combine(datetime.now(UTC).date(), time(), UTC)
        committed = self.audit.committed(identity.subject, spec.name, argument, since) + self._in_flight[identity.subject]
        if committed + amount > effective.qcc_per_day:
            raise _forbidden(f"{spec.name} would commit {amount:g} QCC; this agent has committed {committed:g} of "
                             f"its {effective.qcc_per_day:g} QCC for today (UTC).")
        self._in_flight[identity.subject] += amount
        try:
            return await call_next(context)
        finally:  # the audit row (written right after, with no await between) takes over the count
            self._in_flight[identity.subject] -= amount

    @staticmethod
    def _amount(value: object) -> float:
        try:
            return max(float(value), 0.0)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 0.0  # the call's own validation reports the bad value

    def _refusal(self, spec: ToolSpec, arguments: dict[str, Any], effective: Effective) -> str | None:
        if not effective.tool_allowed(spec.name):
            return f"this agent may not use {spec.name}."
        if spec.confirm and not effective.live_trading:
            return f"live trading is forbidden for this agent, so {spec.name} is blocked."
        parameters = parameter_names(spec)
        project = arguments.get("projectId")
        if effective.projects is not None and "projectId" in parameters and project is not None:
            if str(project) not in {str(p) for p in effective.projects}:
                return f"this agent may only work on projects {', '.join(map(str, sorted(effective.projects)))}."
        if effective.organizations is not None and "organizationId" in parameters:
            organization = arguments.get("organizationId") or self.gateway.default_organization()
            if organization is None:
                return "this agent is restricted to certain organizations: pass organizationId."
            if organization not in effective.organizations:
                return "this agent may not act on that organization."
        return None
