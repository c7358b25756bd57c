"""The one wrapper every catalog tool runs through.

It validates arguments against the request model, calls the API through the caller's
pooled client, checks the answer against the response model and maps every failure to
an MCP tool error with a message that says what went wrong and what to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastmcp.dependencies import CurrentContext
from fastmcp.exceptions import ToolError
from fastmcp.server.auth import require_scopes
from fastmcp.server.middleware import Middleware, MiddlewareContext
from fastmcp.tools import Tool, ToolResult
from fastmcp.utilities.types import Image
from fastmcp_tasks.context import get_task_context
from mcp.types import TextContent
from pydantic import PrivateAttr, ValidationError

from qcmcp.log import ALREADY_LOGGED
from qcmcp.ops.metrics import report_outcome
from qcmcp.ops.tasks import BACKGROUND
from qcmcp.qc.errors import InvalidResponseError, QCError, TransportError
from qcmcp.tools import handlers
from qcmcp.tools.arguments import ArgumentError, validate_arguments
from qcmcp.tools.rendering import cap_structured, render
from qcmcp.gateway import Gateway
from qcmcp.tools.schema import parameters_schema
from qcmcp.tools.spec import ToolSpec
from qcmcp.tools.summaries import summarize

log = logging.getLogger("qcmcp.tools")

# Wraps a tool body that runs later as a background task, doing for it what the request's middleware did for the
# call (whose caller it acts for, the audit row of its outcome): given the tool's name and its arguments.
BackgroundScope = Callable[[str, dict[str, Any]], AbstractAsyncContextManager[None]]


class CatalogTool(Tool):
    """An MCP tool built from a :class:`ToolSpec`."""

    _spec: ToolSpec = PrivateAttr()
    _gateway: Gateway = PrivateAttr()
    _background: BackgroundScope | None = PrivateAttr(default=None)

    @classmethod
    def build(cls, spec: ToolSpec, gateway: Gateway, *, check_scopes: bool = False,
              background: BackgroundScope | None = None) -> CatalogTool:
        """``check_scopes``: in shared mode the caller's token must carry the tool's scope to see or call it.
        ``background``: long tools (``spec.background``) may then run as MCP tasks, each body inside that scope."""
        tool = cls(
            name=spec.name,
            description=spec.description,
            parameters=parameters_schema(spec),
            annotations=spec.hints.advertised(),  # the full hints: spec.hints.annotations(), catalog export
            auth=require_scopes(spec.scope) if check_scopes and spec.scope else None,
            **({"task_config": BACKGROUND} if spec.background and background is not None else {}),
        )
        tool._spec = spec
        tool._gateway = gateway
        tool._background = background if spec.background else None
        return tool

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        if self._background is not None and _in_task_worker():
            # The worker's context (the task's progress, the submitter's restored token), then the scope.
            async with CurrentContext(), self._background(self._spec.name, arguments):  # type: ignore[attr-defined]
                return await self._run(arguments)
        return await self._run(arguments)

    def check_arguments(self, arguments: dict[str, Any]) -> None:
        """Raise the tool error a bad call gets, without calling anything (see :class:`BackgroundArgumentCheck`)."""
        if self._spec.confirm:
            arguments = {name: value for name, value in arguments.items() if name != "confirm"}
        try:
            validate_arguments(self._spec, self.parameters, self._with_defaults(arguments))
        except ArgumentError as error:
            raise ToolError(self._gateway.redact(str(error)), log_level=ALREADY_LOGGED) from None

    async def _run(self, arguments: dict[str, Any]) -> ToolResult:
        spec, gateway = self._spec, self._gateway
        started = time.perf_counter()
        outcome, level, problem = "error", logging.ERROR, ""
        try:
            if spec.confirm:  # checked and consumed by the live-money guard, not part of the API request
                arguments = {name: value for name, value in arguments.items() if name != "confirm"}
            arguments = self._with_defaults(arguments)
            body = validate_arguments(spec, self.parameters, arguments)
            handler = spec.handler or handlers.json_post
            result = await handler(gateway, spec, body)
            outcome, level = "ok", logging.INFO
        except ArgumentError as error:
            # The caller's mistake, answered in the result: not a server error.
            outcome, level, problem = "invalid_arguments", logging.INFO, gateway.redact(str(error))
            raise ToolError(problem, log_level=ALREADY_LOGGED) from None
        except QCError as error:
            upstream_trouble = isinstance(error, TransportError | InvalidResponseError)
            outcome, problem = type(error).__name__, self._label(gateway.redact(error.message))
            level = logging.WARNING if upstream_trouble else logging.INFO
            raise ToolError(problem, log_level=ALREADY_LOGGED) from None
        finally:
            # The one log line per call (fastmcp is told not to log the tool error again).
            fields: dict[str, Any] = {"tool": spec.name, "outcome": outcome,
                                      "ms": round((time.perf_counter() - started) * 1000, 2)}
            if problem:
                fields["error"] = problem[:500]
            log.log(level, "tool call", extra=fields)
            report_outcome(outcome)  # the metrics middleware labels the call with it
        picture = spec.image(result) if spec.image is not None else None  # may take its data out of the result
        summary = self._label(summarize(spec.name, result))
        mismatch = self._check_response(result)
        if mismatch:
            summary += f" Note: the answer differs from the published API schema ({mismatch})."
        # The data goes into the text too: many clients show the model only the text content.
        text = render(summary, result, gateway.settings.max_result_chars)
        result = cap_structured(result, gateway.settings.max_structured_chars)
        if picture is None:
            return ToolResult(content=text, structured_content=result)
        return ToolResult(content=[TextContent(type="text", text=text),
                                   Image(data=picture, format="png").to_image_content()], structured_content=result)

    def get_meta(self) -> dict[str, Any]:
        """The catalog's metadata (toolset, scope, cost class, latency class), plus fastmcp's when it says something
        (an empty tag list is left out: 30 bytes a tool in every tools/list)."""
        meta = super().get_meta()
        if meta.get("fastmcp") == {"tags": []}:
            del meta["fastmcp"]
        return {**meta, "io.qcmcp/tool": self._spec.advertised_metadata()}

    def _label(self, text: str) -> str:
        """Sandbox answers say so, so nobody mistakes the emulator for QuantConnect."""
        uses_api = self._spec.endpoint is not None or self._spec.workflow
        return f"[sandbox] {text}" if self._gateway.is_sandbox and uses_api else text

    def _with_defaults(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Fill a missing ``organizationId`` with the caller's default organization (or say how to give one)."""
        if "organizationId" not in self.parameters["properties"] or arguments.get("organizationId") is not None:
            return arguments
        organization = self._gateway.default_organization()
        if organization:
            return {**arguments, "organizationId": organization}
        if "organizationId" in self.parameters.get("required", []):
            return arguments  # reported as missing by the argument check
        model = self._spec.request_model
        field = model.model_fields.get("organizationId") if model is not None else None
        if field is not None and field.is_required():
            raise ArgumentError(f"{self._spec.name} needs organizationId and this server has no default "
                                "organization: pass organizationId (read_account shows yours), or set "
                                "QUANTCONNECT_ORGANIZATION_ID.")
        return arguments

    def _check_response(self, result: dict[str, Any]) -> str | None:
        """Validate against the response model; report (not fail) on a mismatch.

        A successful call is never turned into an error because the API added or
        changed a field: for a create, that would invite a duplicate retry.
        """
        model = self._spec.response_model
        if model is None:
            return None
        try:
            model.model_validate(result)
        except ValidationError as error:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors(include_input=False)})
            log.warning("response schema mismatch", extra={"tool": self._spec.name, "fields": fields[:10]})
            return "fields: " + ", ".join(fields[:5])
        return None


class BackgroundArgumentCheck(Middleware):
    """Checks a long tool's arguments within the request, before the call may become a background task whose body
    runs later: a bad call is refused at once, and no task, worker or audit row of a task is spent on it."""

    def __init__(self, tools: list[CatalogTool]) -> None:
        self.tools = {tool.name: tool for tool in tools if tool.task_config.supports_tasks()}

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        tool = self.tools.get(str(context.message.name))
        if tool is not None:
            tool.check_arguments(dict(context.message.arguments or {}))
        return await call_next(context)


def _in_task_worker() -> bool:
    """Whether this body runs in a task worker (after its request ended) rather than inside its request."""
    return get_task_context() is not None
