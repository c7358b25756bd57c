"""A request's middleware, done again for a tool body that runs later as an MCP background task.

When a long tool runs as a task, the middleware chain (identity, audit, limits, scope, policy, live guard) runs
for the ``tools/call`` that submits it; the body runs afterwards in a task worker, once that request has ended,
with the submitter's access token restored from the task's snapshot (fastmcp-tasks). This scope makes that caller
current again, so the body acts for its tenant's account and never for the server's own, and appends the body's
outcome to the audit log next to the submission's row (both rows carry the same id, derived from the task id).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastmcp.server.dependencies import get_access_token, get_context

from qcmcp import log as qlog
from qcmcp.caller import reset_current_caller, set_current_caller
from qcmcp.security.audit import AuditLog
from qcmcp.security.identity import resolve_caller


def audit_id(task_id: str) -> str:
    """The audit rows' id for a task: tied to it, but not the task id itself (a handle to the task's result)."""
    return hashlib.sha256(f"qcmcp-task:{task_id}".encode()).hexdigest()[:32]


class TaskScope:
    """The :data:`qcmcp.tools.runtime.BackgroundScope` the server hands to its long tools."""

    def __init__(self, audit: AuditLog, tenant_claim: str) -> None:
        self.audit = audit
        self.tenant_claim = tenant_claim

    @asynccontextmanager
    async def __call__(self, tool: str, arguments: dict[str, Any]) -> AsyncIterator[None]:
        caller = resolve_caller(get_access_token(), self.tenant_claim)
        task_id = get_context().task_id or ""
        started, outcome, error = time.perf_counter(), "ok", ""
        token = set_current_caller(caller)
        try:
            yield
        except asyncio.CancelledError:
            outcome, error = "cancelled", "the task was cancelled"
            raise
        except Exception as failure:
            outcome, error = "error", str(failure) or type(failure).__name__
            raise
        finally:
            reset_current_caller(token)
            self.audit.append(request_id=audit_id(task_id), subject=caller.subject, tenant=caller.tenant_label,
                              tool=tool, arguments=dict(arguments), outcome=f"task_{outcome}", error=error,
                              latency_ms=(time.perf_counter() - started) * 1000, secrets=qlog.REDACTOR.secrets)
