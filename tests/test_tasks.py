"""run_backtest and run_optimization as MCP background tasks (the io.modelcontextprotocol/tasks extension).

Through real MCP client sessions: a client that asks for a task gets a task id at once, polls it (the status line
carries the backtest's progress), and gets the same result a blocking call gives, equity PNG included; cancelling
the task deletes the backtest upstream; the body acts for the submitting tenant, and the audit log has the
submission and the outcome under one id. A client that does not ask blocks with progress notifications.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import jwt
import pytest
from fastmcp import Client
from fastmcp_tasks import ToolTask, call_tool_task

from qcmcp.config import ConfigurationError, load_settings
from qcmcp.security.scopes import ROLES
from qcmcp.server import _assemble, build_server
from tests.test_redis_limits import redis_url  # noqa: F401  # the redis-server fixture
from tests.test_sandbox import SMA
from tests.test_tenancy import fake_cloud  # noqa: F401  # a standalone sandbox as QuantConnect
from tests.test_workflows import PlainClient, project_with


@pytest.fixture
async def sandbox(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    server, audit = _assemble(settings)
    async with Client(server) as client:
        yield client, audit


async def wait_terminal(task, seconds: float = 120.0) -> list[Any]:
    seen = []
    for _ in range(int(seconds * 10)):
        status = await task.status()
        seen.append(status)
        if status.status in ("completed", "failed", "cancelled"):
            return seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"the task did not end: {seen[-1]}")


async def test_a_backtest_runs_as_a_task_with_its_progress_in_the_status_and_the_full_result(sandbox):
    client, audit = sandbox
    project = await project_with(client, SMA, "Tasked")
    server = client.transport.server
    modes = {name: (await server.get_tool(name)).task_config.mode
             for name in ("run_backtest", "run_optimization", "read_backtest", "create_backtest")}
    assert modes == {"run_backtest": "optional", "run_optimization": "optional", "read_backtest": "forbidden",
                     "create_backtest": "forbidden"}  # short tools never become tasks

    task = await call_tool_task(client, "run_backtest", {"projectId": project, "backtestName": "tasked"})
    assert task.task_id and task.create_result.status == "working"  # answered at once, before the backtest ran
    seen = await wait_terminal(task)
    assert seen[-1].status == "completed"
    messages = [s.status_message for s in seen if s.status_message]
    assert messages and any(m == "compiling" or m.startswith("backtest") for m in messages), messages

    result = await task.result()
    body = result.structured_content
    assert body["status"] == "Completed." and body["name"] == "tasked" and "Net Profit" in body["statistics"]
    text, image = result.content
    assert text.text.startswith("[sandbox]") and image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(b"\x89PNG")

    listed = (await client.call_tool("list_backtests", {"projectId": project})).structured_content
    assert [b["backtestId"] for b in listed["backtests"]] == [body["backtestId"]]  # exactly one backtest ran

    rows = [row for row in audit.rows() if row["tool"] == "run_backtest"]
    assert [row["outcome"] for row in rows] == ["task", "task_ok"]
    assert rows[0]["request_id"] == rows[1]["request_id"] != task.task_id  # linked, without the task's handle


async def test_a_plain_call_transparently_waits_for_the_task(sandbox):
    """fastmcp's Client asks for tasks by itself and resolves them: call_tool still returns the result."""
    client, _ = sandbox
    project = await project_with(client, SMA, "Transparent")
    result = await client.call_tool("run_backtest", {"projectId": project})
    assert result.structured_content["status"] == "Completed."


async def test_a_client_that_does_not_ask_blocks_with_progress_notifications(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with PlainClient(build_server(settings)) as client:
        project = await project_with(client, SMA, "Blocking")
        result = await client.call_tool("run_backtest", {"projectId": project}, progress_handler=on_progress)
    assert result.structured_content["status"] == "Completed." and seen and seen[-1] == 100


@pytest.mark.parametrize("arguments", [{"projectId": "seven"}, {}, {"projectId": -1}, {"projectId": 10**30},
                                       {"projectId": 1, "bogus": 1}, {"projectId": 1, "parameters": "x"}])
async def test_bad_arguments_are_refused_before_any_task_exists(sandbox, arguments):
    client, audit = sandbox
    with pytest.raises(Exception) as refused:
        await call_tool_task(client, "run_backtest", arguments)
    assert "Task" not in type(refused.value).__name__ and str(refused.value)
    assert [row["outcome"] for row in audit.rows() if row["tool"] == "run_backtest"] == ["error"]  # no task row


async def test_a_task_without_its_submitters_token_does_not_run_in_a_shared_server(tmp_path):
    from fastmcp.exceptions import ToolError

    from qcmcp.security.audit import open_audit_log
    from qcmcp.security.task_scope import TaskScope

    audit = open_audit_log(tmp_path / "a.sqlite3")
    ran = False
    with pytest.raises(ToolError, match="no longer knows who submitted it"):
        async with TaskScope(audit, "tenant", authenticated=True)("run_backtest", {"projectId": 1}):
            ran = True  # would act for the server's own account
    assert not ran
    [row] = audit.rows()
    assert row["outcome"] == "task_error" and row["subject"] == "local"


class NeverFinishes:
    """QuantConnect's API with a backtest that runs forever; records each endpoint called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.removeprefix("/api/v2")
        self.calls.append(endpoint)
        answers = {"/compile/create": {"compileId": "c1", "state": "BuildSuccess"},
                   "/compile/read": {"compileId": "c1", "state": "BuildSuccess", "logs": []},
                   "/backtests/create": {"backtest": {"backtestId": "b1"}},
                   "/backtests/read": {"backtest": {"backtestId": "b1", "status": "Running: 10%", "progress": 0.1,
                                                    "completed": False}}}
        return httpx.Response(200, json={"success": True, **answers.get(endpoint, {})})


async def test_cancelling_the_task_deletes_the_backtest_upstream(settings, tmp_path):
    api = NeverFinishes()
    settings = settings.model_copy(update={"audit_db": str(tmp_path / "a.sqlite3")})
    server, audit = _assemble(settings, transport=httpx.MockTransport(api))
    async with Client(server) as client:
        task = await call_tool_task(client, "run_backtest", {"projectId": 7})
        for _ in range(300):
            if api.calls.count("/backtests/read") >= 1:
                break
            await asyncio.sleep(0.05)
        assert "/backtests/create" in api.calls
        await task.cancel()
        seen = await wait_terminal(task, 10)
        assert seen[-1].status == "cancelled"
        for _ in range(100):
            if "/backtests/delete" in api.calls:
                break
            await asyncio.sleep(0.05)
    assert "/backtests/delete" in api.calls  # nothing keeps running (and costing) upstream
    rows = [row for row in audit.rows() if row["tool"] in ("run_backtest", "tasks/cancel")]
    assert sorted((row["tool"], row["outcome"]) for row in rows) == [
        ("run_backtest", "task"), ("run_backtest", "task_cancelled"), ("tasks/cancel", "ok")]
    assert len({row["request_id"] for row in rows}) == 1  # who cancelled is on record, under the task's id


async def test_a_task_body_holds_one_of_its_tenants_expensive_slots(settings, tmp_path):
    api = NeverFinishes()
    settings = settings.model_copy(update={"audit_db": str(tmp_path / "a.sqlite3"), "max_concurrent_expensive": 1})
    server, audit = _assemble(settings, transport=httpx.MockTransport(api))
    async with Client(server) as client:
        first = await call_tool_task(client, "run_backtest", {"projectId": 7})
        for _ in range(300):
            if "/backtests/read" in api.calls:
                break
            await asyncio.sleep(0.05)
        refused = await client.call_tool("create_backtest", {"projectId": 7, "compileId": "c1", "backtestName": "x"},
                                         raise_on_error=False)
        assert refused.is_error and "Too busy (429)" in refused.content[0].text  # the running task holds the slot
        await first.cancel()
        await wait_terminal(first, 10)
        for _ in range(100):
            if "/backtests/delete" in api.calls:
                break
            await asyncio.sleep(0.05)
        again = await client.call_tool("read_backtest", {"projectId": 7, "backtestId": "b1"}, raise_on_error=False)
        assert not again.is_error  # reads are not expensive


def test_tasks_on_redis_need_the_encryption_key_or_stay_off(tmp_path):
    from qcmcp.ops.tasks import tasks_enabled

    base = {"QCMCP_SANDBOX_DB": str(tmp_path / "s.sqlite3")}
    assert tasks_enabled(load_settings(**base))  # in memory: on
    assert not tasks_enabled(load_settings(**base, QCMCP_TASKS="off"))
    redis = {**base, "QCMCP_REDIS_URL": "redis://127.0.0.1:1/0"}
    assert not tasks_enabled(load_settings(**redis))  # a token would sit in Redis in clear: off, with a warning
    with pytest.raises(ConfigurationError, match="FASTMCP_TASKS_ENCRYPTION_KEY"):
        tasks_enabled(load_settings(**redis, QCMCP_TASKS="on"))
    keyed = load_settings(**redis, FASTMCP_TASKS_ENCRYPTION_KEY="k" * 40)
    assert tasks_enabled(keyed) and "k" * 40 in keyed.secrets()  # the key is redacted like every secret


@pytest.mark.e2e
async def test_a_task_acts_for_its_tenant_and_no_other_tenant_can_read_it(tmp_path):
    """Over HTTP with tokens: the body runs after its request, yet uses the submitter's tenant account; another
    tenant can neither see the backtest nor poll or cancel the task by its id."""
    from tests.test_security import SECRET, claims, start
    from tests.test_tenancy import token_for

    def same_sub(tenant: str) -> str:  # IdPs may number users within a tenant: subs alone do not tell them apart
        return jwt.encode(claims(sub="alice", tenant=tenant, scope=" ".join(sorted(ROLES["researcher"]))), SECRET,
                          "HS256")

    process, url, _ = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET})
    try:
        async with Client(f"{url}/mcp", auth=same_sub("acme")) as acme:
            project = await project_with(acme, SMA, "Acme tasked")
            task = await call_tool_task(acme, "run_backtest", {"projectId": project})
            async with Client(f"{url}/mcp", auth=same_sub("globex")) as globex:  # one sub, another tenant
                stranger = ToolTask(globex, "run_backtest", task.create_result)
                with pytest.raises(Exception) as refused:
                    await stranger.status()
                assert "not found" in str(refused.value)  # as if it did not exist
                with pytest.raises(Exception) as refused:
                    await stranger.cancel()
                assert "not found" in str(refused.value)
            result = await task.result()
            body = result.structured_content
            assert body["status"] == "Completed.", body
            listed = (await acme.call_tool("list_backtests", {"projectId": project})).structured_content
            assert [b["backtestId"] for b in listed["backtests"]] == [body["backtestId"]]
        async with Client(f"{url}/mcp", auth=token_for("globex")) as globex:
            mine = (await globex.call_tool("list_projects", {})).structured_content["projects"]
            assert all(p["projectId"] != project for p in mine)  # the backtest went to acme's account only
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.e2e
async def test_on_redis_a_task_started_on_one_replica_is_followed_on_the_other(tmp_path, redis_url, fake_cloud):
    """Two replicas of a shared deployment share the task queue and records in Redis (encrypted): a backtest
    submitted through A is polled to its result through B, and Redis never holds the bearer token in clear."""
    import redis

    from tests.test_metrics_http import stop
    from tests.test_tenancy import start_on_cloud_with_vault, token_for

    api_url, _ = fake_cloud
    key = "task-records-key-" + "9f3c1a7e5b2d4c6a8e0f1b3d5a7c9e1f"
    replicas = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            replicas.append(start_on_cloud_with_vault(tmp_path / name, api_url, QCMCP_REDIS_URL=redis_url,
                                                      FASTMCP_TASKS_ENCRYPTION_KEY=key))
        (_, url_a, log_a, _), (_, url_b, log_b, _) = replicas
        token = token_for("acme")
        async with Client(f"{url_a}/mcp", auth=token) as on_a:
            created = await on_a.call_tool("create_project", {"name": "Replicated", "language": "Py"})
            project = created.structured_content["projects"][0]["projectId"]
            await on_a.call_tool("update_file_contents", {"projectId": project, "name": "main.py", "content": SMA})
            task = await call_tool_task(on_a, "run_backtest", {"projectId": project})
        async with Client(f"{url_b}/mcp", auth=token) as on_b:
            followed = ToolTask(on_b, "run_backtest", task.create_result)
            final = await followed.wait(timeout=120)
            assert final.status == "completed", final
            body = (await followed.result()).structured_content
            assert body["status"] == "Completed." and "Net Profit" in body["statistics"]
        values = redis_contents(redis.Redis.from_url(redis_url))
        assert b"gAAAAA" in values  # the task's snapshot, as a Fernet token
        assert token.encode() not in values and key.encode() not in values
        for log in (log_a, log_b):
            assert key not in log.read_text() and token not in log.read_text()
    finally:
        for process, *_ in replicas:
            stop(process)


def redis_contents(stored) -> bytes:
    """Every value in Redis, read plainly (DUMP would compress long strings and hide what is in them)."""
    readers = {b"string": lambda k: [stored.get(k)], b"hash": lambda k: [*stored.hgetall(k).keys(),
                                                                         *stored.hgetall(k).values()],
               b"list": lambda k: stored.lrange(k, 0, -1), b"set": lambda k: list(stored.smembers(k)),
               b"zset": lambda k: stored.zrange(k, 0, -1),
               b"stream": lambda k: [v for _, fields in stored.xrange(k) for pair in fields.items() for v in pair]}
    parts = []
    for name in stored.scan_iter(count=1000):
        kind = stored.type(name)
        parts += [value for value in readers.get(kind, lambda k: [])(name) if isinstance(value, bytes)]
    return b"\n".join(parts)
