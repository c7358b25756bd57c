"""Records every tool call in the audit log: who, tenant, tool, redacted arguments, outcome, latency."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastmcp.server.middleware import Middleware, MiddlewareContext
from fastmcp.tools.base import InputRequiredToolResult
from fastmcp_tasks.models import CreateTaskResult

from qcmcp import log as qlog
from qcmcp.security.audit import AuditLog
from qcmcp.security.identity import caller_now
from qcmcp.security.task_scope import audit_id


class AuditMiddleware(Middleware):
    def __init__(self, audit: AuditLog, tenant_claim: str = "tenant") -> None:
        self.audit = audit
        self.tenant_claim = tenant_claim

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: Any) -> Any:
        started = time.perf_counter()
        caller = caller_now(self.tenant_claim)
        outcome, error, request_id = "ok", "", uuid.uuid4().hex
        try:
            result = await call_next(context)
            if isinstance(result, CreateTaskResult):  # submitted as a background task: the body runs later
                outcome, request_id = "task", audit_id(result.task_id)  # its outcome gets a row too (TaskScope)
            elif isinstance(result, InputRequiredToolResult):
                outcome = "input_required"  # a question for the user (e.g. a live-money confirmation)
            elif getattr(result, "is_error", False):
                outcome = "error"
            return result
        except Exception as failure:
            outcome, error = "error", str(failure) or type(failure).__name__
            raise
        finally:
            self.audit.append(
                request_id=request_id,
                subject=caller.subject,
                tenant=caller.tenant_label,
                tool=context.message.name,
                arguments=dict(context.message.arguments or {}),
                outcome=outcome,
                error=error,
                latency_ms=(time.perf_counter() - started) * 1000,
                secrets=qlog.REDACTOR.secrets,
            )
