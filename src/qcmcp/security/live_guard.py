"""The live-money guard: nothing that can move money runs without explicit confirmation.

Tools that deploy, stop or liquidate live algorithms, send them commands or authorise a
brokerage declare in the catalog which parameter confirms them. A server-wide switch
(QCMCP_LIVE_TRADING, off by default in shared mode) blocks them all. Otherwise the user is
asked through MCP elicitation when the client supports it, and an agent filling in the
``confirm`` argument itself is not enough; clients without elicitation must repeat the
project (or organization, or brokerage) id in ``confirm``. The scope check (ScopeGuard) and
the agent policy (PolicyGuard) run before this.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from fastmcp.exceptions import ToolError
from fastmcp.server.middleware import Middleware, MiddlewareContext
from fastmcp.tools.base import InputRequiredToolResult
from mcp.types import ClientCapabilities, ElicitationCapability
from mcp_types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult

from qcmcp.config import Settings
from qcmcp.log import REDACTOR
from qcmcp.tools.arguments import ArgumentError, validate_arguments
from qcmcp.tools.catalog import BY_NAME
from qcmcp.tools.schema import parameters_schema
from qcmcp.tools.spec import ToolSpec

log = logging.getLogger("qcmcp.security")
ELICIT_KEY = "qcmcp-live-confirmation"
CONFIRM_SCHEMA = {"type": "object", "properties": {"value": {"type": "boolean", "title": "Go ahead"}},
                  "required": ["value"]}


def live_trading_enabled(settings: Settings, shared: bool) -> bool:
    """``auto`` means on for one local user, off for a shared deployment."""
    return settings.live_trading == "on" or (settings.live_trading == "auto" and not shared)


def _refuse(message: str) -> ToolError:
    return ToolError(message, log_level=logging.INFO)


def _can_elicit(fastmcp_context: Any) -> bool:
    try:
        return bool(fastmcp_context.session.check_client_capability(
            ClientCapabilities(elicitation=ElicitationCapability())))
    except Exception:  # no session (e.g. a background task): fall back to the confirm argument
        return False


def _digest(name: str, arguments: dict[str, Any]) -> str:
    """Binds a user's answer to the exact call it was asked about."""
    return hashlib.sha256(json.dumps([name, arguments], sort_keys=True, default=str).encode()).hexdigest()


class LiveGuard(Middleware):
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        spec = BY_NAME.get(context.message.name)
        if spec is None or spec.confirm is None:
            return await call_next(context)
        if not self.enabled:
            raise _refuse(f"Live trading is switched off on this server (QCMCP_LIVE_TRADING=off), so {spec.name} "
                          "is blocked for everyone. Nothing was done. The operator can enable it with "
                          "QCMCP_LIVE_TRADING=on.")
        arguments = dict(context.message.arguments or {})
        confirmation = arguments.pop("confirm", None)
        try:  # never ask anyone to confirm a call that cannot run
            validate_arguments(spec, parameters_schema(spec), arguments)
        except ArgumentError as error:
            raise _refuse(REDACTOR.redact(str(error))) from None
        expected = arguments[spec.confirm]
        fastmcp_context = context.fastmcp_context
        if _can_elicit(fastmcp_context):
            asked = await self._ask_user(fastmcp_context, spec, expected, arguments)
            if asked is not None:
                return asked  # 2026-07-28 protocol: the question goes back as this call's result
        elif confirmation is None:
            raise _refuse(f"{spec.name} can move real money, so it needs explicit confirmation, and this client "
                          f"cannot show the user a confirmation prompt. Nothing was done. Once the user has agreed, "
                          f"call {spec.name} again with confirm set to the {spec.confirm} ({expected}).")
        elif str(confirmation).strip() != str(expected):
            raise _refuse(f"confirm does not repeat the {spec.confirm} of this call, so {spec.name} was not run. "
                          f"Set confirm to exactly the {spec.confirm} ({expected}).")
        log.warning("live-money action confirmed", extra={"tool": spec.name, spec.confirm: str(expected)})
        message = context.message.model_copy(update={"arguments": arguments})
        return await call_next(context.copy(message=message))

    async def _ask_user(self, fastmcp_context: Any, spec: ToolSpec, expected: object,
                        arguments: dict[str, Any]) -> InputRequiredToolResult | None:
        """Ask the user; None once they said yes. Raises when they did not."""
        summary = spec.description.split(". ")[0].rstrip(".")
        question = f"Confirm a live-money action: {spec.name} for {spec.confirm} {expected}. {summary}."
        declined = _refuse(f"The user did not confirm {spec.name} for {spec.confirm} {expected}. Nothing was done.")
        if fastmcp_context._is_modern_protocol():
            # Multi-round-trip: return the question; the client retries with the answer and our sealed state.
            state = _digest(spec.name, arguments)
            answer = (fastmcp_context.input_responses or {}).get(ELICIT_KEY)
            if answer is None:
                request = ElicitRequest(params=ElicitRequestFormParams(message=question, requested_schema=CONFIRM_SCHEMA))
                return InputRequiredToolResult(InputRequiredResult(input_requests={ELICIT_KEY: request},
                                                                   request_state=state))
            if fastmcp_context.request_state != state:
                raise _refuse(f"The confirmation was given for a different {spec.name} call. Nothing was done.")
            if getattr(answer, "action", None) != "accept" or (getattr(answer, "content", None) or {}).get("value") \
                    is not True:
                raise declined
            return None
        try:
            reply = await fastmcp_context.elicit(question, response_type=bool, response_title="Go ahead")
        except ToolError:
            raise _refuse(f"{spec.name} needs the user's confirmation and the prompt could not be shown. "
                          f"Nothing was done.") from None
        if reply.action != "accept" or reply.data is not True:
            raise declined
        return None
