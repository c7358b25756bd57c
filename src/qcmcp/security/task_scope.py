"""A request's middleware, done again for a tool body that runs later as an MCP background task.

When a long tool runs as a task, the middleware chain (identity, audit, limits, scope, policy, live guard) runs
for the ``tools/call`` that submits it; the body runs afterwards in a task worker, once that request has ended,
with the submitter's access token restored from the task's snapshot (fastmcp-tasks). This scope makes that caller
current again, so the body acts for its tenant's account and never for the server's own (a task whose submitter
cannot be restored does not run), holds one of the tenant's slots for expensive calls while it runs, and appends
the body's outcome to the audit log next to the submission's row (both carry one id, derived from the task id).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from fastmcp.exceptions import ToolError
from fastmcp.server.dependencies import get_access_token
from fastmcp_tasks.context import get_task_context

from qcmcp import log as qlog
from qcmcp.caller import reset_current_caller, set_current_caller
from qcmcp.security.audit import AuditLog
from qcmcp.security.identity import resolve_caller


def audit_id(task_id: str) -> str:
    """The audit rows' id for a task: tied to it, but not the task id itself (a handle to the task's result)."""
    return hashlib.sha256(f"qcmcp-task:{task_id}".encode()).hexdigest()[:32]


class ExpensiveSlots(Protocol):
    def expensive_slot(self, tenant: str, subject: str, name: str) -> AbstractAsyncContextManager[None]: ...


class TaskScope:
    """The :data:`qcmcp.tools.runtime.BackgroundScope` the server hands to its long tools.

    ``authenticated``: the server requires bearer tokens, so a task body without its submitter's token is refused.
    """

    def __init__(self, audit: AuditLog, tenant_claim: str, *, authenticated: bool,
                 slots: ExpensiveSlots | None = None) -> None:
        self.audit, self.tenant_claim, self.authenticated, self.slots = audit, tenant_claim, authenticated, slots

    @asynccontextmanager
    async def __call__(self, tool: str, arguments: dict[str, Any]) -> AsyncIterator[None]:
        task = get_task_context()
        token = get_access_token()
        caller = resolve_caller(token, self.tenant_claim)
        started, outcome, error = time.perf_counter(), "ok", ""
        current = set_current_caller(caller)
        try:
            if token is None and (self.authenticated or (task is not None and task.task_scope is not None)):
                # The snapshot that carried the submitter's token is gone (it expired before the task ran): running
                # the body anyway would act for the server's own account.
                raise ToolError("This background task could not be run: the server no longer knows who submitted "
                                "it (its record expired). Nothing was done; call the tool again.")
            if self.slots is None:
                yield
            else:
                async with self.slots.expensive_slot(caller.tenant_label, caller.subject, tool):
                    yield
        except asyncio.CancelledError:
            outcome, error = "cancelled", "the task was cancelled"
            raise
        except Exception as failure:
            outcome, error = "error", str(failure) or type(failure).__name__
            raise
        finally:
            reset_current_caller(current)
            self.audit.append(request_id=audit_id(task.task_id if task else ""), subject=caller.subject,
                              tenant=caller.tenant_label, tool=tool, arguments=dict(arguments),
                              outcome=f"task_{outcome}", error=error,
                              latency_ms=(time.perf_counter() - started) * 1000, secrets=qlog.REDACTOR.secrets)

    def cancelled(self, task_id: str, accepted: bool) -> None:
        """Audit a ``tasks/cancel`` (who asked, under the task's id): it may stop a backtest that is still queued,
        whose body then never runs to write an outcome."""
        caller = resolve_caller(get_access_token(), self.tenant_claim)
        self.audit.append(request_id=audit_id(task_id), subject=caller.subject, tenant=caller.tenant_label,
                          tool="tasks/cancel", arguments={}, outcome="ok" if accepted else "error",
                          error="" if accepted else "no such task for this caller", latency_ms=0.0,
                          secrets=qlog.REDACTOR.secrets)
