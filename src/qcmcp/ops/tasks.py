"""Long tools as MCP background tasks: the ``io.modelcontextprotocol/tasks`` extension (fastmcp-tasks on Docket).

A client that asks for a task gets a task id at once and polls ``tasks/get`` (whose status line carries the
tool's progress) or cancels with ``tasks/cancel``; any other client gets the ordinary blocking call with progress
notifications. Tasks run in this process (Docket's in-memory backend) unless ``QCMCP_REDIS_URL`` is set: then the
queue and the task records live in Redis, so a task started through one replica is read or cancelled through any.
A task's context snapshot carries the caller's bearer token, so on Redis it is stored encrypted
(``FASTMCP_TASKS_ENCRYPTION_KEY``, the same on every replica) or tasks stay off; arguments and results are not.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastmcp.utilities.tasks import TaskConfig

from qcmcp.config import ConfigurationError, Settings

log = logging.getLogger("qcmcp.ops")

# How often a client should poll a task: a backtest's progress moves about this fast, and each poll is one
# cheap read of the task record (not of QuantConnect).
POLL_INTERVAL = timedelta(seconds=1)
BACKGROUND = TaskConfig(mode="optional", poll_interval=POLL_INTERVAL)
# Task bodies a process runs at once, for all tenants together. A body mostly waits on QuantConnect; each tenant's
# share is its QCMCP_MAX_CONCURRENT_EXPENSIVE slots, taken by the body (security.task_scope), so one tenant's queue
# cannot hold the others' back for long.
WORKERS = 32


def tasks_enabled(settings: Settings) -> bool:
    """Whether long tools may run as background tasks (see the module docstring for when they may not)."""
    if settings.tasks == "off":
        return False
    if settings.redis_url is None or settings.tasks_key is not None:
        return True
    if settings.tasks == "on":
        raise ConfigurationError(
            "QCMCP_TASKS=on with QCMCP_REDIS_URL stores each task's record, which carries the caller's bearer token, "
            "in Redis: set FASTMCP_TASKS_ENCRYPTION_KEY (at least 32 random characters, the same on every replica) "
            "so it is stored encrypted, or set QCMCP_TASKS=off.")
    log.warning("background tasks are off: QCMCP_REDIS_URL is set without FASTMCP_TASKS_ENCRYPTION_KEY (task "
                "records carry bearer tokens and would be stored in Redis unencrypted)")
    return False


# Told of each tasks/cancel (the task id, and whether it was accepted), so it is audited: extension methods do not
# pass through the server's middleware.
CancelHook = Callable[[str, bool], None]


def tasks_extension(settings: Settings, background: frozenset[str], on_cancel: CancelHook | None = None) -> object:
    """The extension to register on the server: Docket on Redis for replicas, in memory otherwise.
    ``background``: the tools that may run as tasks (every other call passes straight on)."""
    from fastmcp_tasks import TasksExtension

    class AuditedTasks(TasksExtension):  # type: ignore[misc]
        async def intercept_tool_call(self, params: Any, context: Any, call_next: Any) -> Any:
            if params.name not in background:  # no tool lookup for the calls that can never be tasks
                return await call_next()
            return await super().intercept_tool_call(params, context, call_next)

        def methods(self) -> Sequence[Any]:
            return [replace(binding, handler=_told(binding.handler, on_cancel))
                    if binding.method == "tasks/cancel" and on_cancel is not None else binding
                    for binding in super().methods()]

    if settings.redis_url is not None:
        _encrypt_snapshots_with(settings)
        # One queue for every replica of this deployment.
        return AuditedTasks(url=settings.redis_url, name="qcmcp-tasks", concurrency=WORKERS)
    # In memory: one queue per server object (tests build many in one process).
    return AuditedTasks(url="memory://", name=f"qcmcp-tasks-{uuid.uuid4().hex[:12]}", concurrency=WORKERS)


def _encrypt_snapshots_with(settings: Settings) -> None:
    """fastmcp-tasks encrypts with the key it read itself (its environment and .env): make it the one checked here."""
    from fastmcp_tasks import encryption, settings as library

    if settings.tasks_key is not None:
        library.tasks_settings.encryption_key = settings.tasks_key
        encryption.clear_codec_cache()
    if not encryption.snapshot_codec().protected:  # tasks_enabled lets no keyless Redis deployment get here
        raise ConfigurationError("background tasks on Redis need FASTMCP_TASKS_ENCRYPTION_KEY")


def _told(handler: Callable[..., Awaitable[Any]], on_cancel: CancelHook) -> Callable[..., Awaitable[Any]]:
    async def cancel(ctx: Any, params: Any) -> Any:
        accepted = False
        try:
            result = await handler(ctx, params)
            accepted = True
            return result
        finally:
            on_cancel(str(params.task_id), accepted)

    return cancel
