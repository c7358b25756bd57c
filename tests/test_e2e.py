"""`qcmcp serve` in a subprocess, driven by a real MCP client over stdio and streamable
HTTP against a scripted QuantConnect API on 127.0.0.1. Nothing here needs the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

from qcmcp.tools.catalog import BY_NAME
from tests import fake_qc
from tests.fake_qc import FAKE_TOKEN, FAKE_USER_ID, FakeQuantConnect
from tests.processes import free_port, wait_for_port

pytestmark = pytest.mark.e2e
QCMCP = str(Path(sys.executable).with_name("qcmcp"))


@pytest.fixture(scope="module")
def fake():
    server = FakeQuantConnect(slow_seconds=3.0)
    yield server
    server.close()


def server_env(fake: FakeQuantConnect) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env.update(
        QUANTCONNECT_USER_ID=FAKE_USER_ID,
        QUANTCONNECT_API_TOKEN=FAKE_TOKEN,
        QUANTCONNECT_API_URL=fake.url,
        QCMCP_HTTP_TIMEOUT="1",
        QCMCP_MAX_RETRIES="0",
        QCMCP_LOG_LEVEL="DEBUG",
        QCMCP_AUDIT_DB=os.environ["QCMCP_AUDIT_DB"],
    )
    return env


async def call(client: Client, seen: list[str], tool: str, arguments: dict[str, Any]):
    result = await client.call_tool(tool, arguments, raise_on_error=False)
    seen.append(json.dumps([c.model_dump() for c in result.content]) + json.dumps(result.structured_content))
    return result


async def exercise(client: Client, shared: bool = False) -> list[str]:
    """The checks both transports must pass; returns every output for the leak scan. A shared (HTTP) server
    without a workspace root offers no tool that reads local paths."""
    seen: list[str] = []
    tools = {tool.name: tool for tool in await client.list_tools()}
    assert set(tools) == {name for name, spec in BY_NAME.items() if not (shared and spec.local_paths)}
    for name, tool in tools.items():
        schema = tool.input_schema
        assert schema["type"] == "object", name
        assert tool.annotations is not None, name
        reaches_nothing = name == "read_mcp_server_version"  # computed here (research may read an Object Store file)
        assert tool.annotations.open_world_hint is not reaches_nothing, name
        assert tool.description
    assert tools["read_project"].annotations.read_only_hint is True
    assert tools["read_live_portfolio"].annotations.read_only_hint is True  # upstream's hint bug is not copied
    assert tools["read_live_portfolio"].annotations.destructive_hint is False
    assert tools["delete_project"].annotations.destructive_hint is True
    assert set(tools["create_backtest"].input_schema["required"]) == {"projectId", "compileId", "backtestName"}

    account = await call(client, seen, "read_account", {})
    assert not account.is_error and account.structured_content["organizationId"] == "org-1"
    project = await call(client, seen, "read_project", {"projectId": 1})
    assert project.structured_content["projects"][0]["name"] == "Project 1"
    assert "Project 1" in project.content[0].text

    failures = {
        fake_qc.API_ERROR: "Project not found: 2",
        fake_qc.HTTP_500: "HTTP 500",
        fake_qc.NOT_JSON: "expected JSON, got text/html",
        fake_qc.SLOW: "no answer within 1 s",
        fake_qc.HTTP_401: "rejected the credentials",
        fake_qc.ECHO_TOKEN: "bad token ***",
    }
    for project_id, fragment in failures.items():
        result = await call(client, seen, "read_project", {"projectId": project_id})
        assert result.is_error, project_id
        assert fragment in result.content[0].text, (project_id, result.content[0].text)

    bad_arguments = [
        ("create_project", {"name": "x"}, "Missing required parameter 'language'"),
        ("read_project", {"projectId": "one"}, "projectId"),
        ("create_project", {"name": "x", "language": "Rust"}, "language"),
        ("read_backtest", {"projectId": 1, "backtestId": "b", "chart": "x"}, "Unknown parameter 'chart'"),
    ]
    for tool, arguments, fragment in bad_arguments:
        result = await call(client, seen, tool, arguments)
        assert result.is_error and fragment in result.content[0].text
    unknown = await call(client, seen, "no_such_tool", {})
    assert unknown.is_error and "Unknown tool" in unknown.content[0].text
    for text in seen:
        assert "Traceback" not in text
    return seen


async def test_stdio_session(fake, tmp_path):
    stderr = tmp_path / "stderr.log"
    transport = StdioTransport(QCMCP, ["serve"], env=server_env(fake), log_file=stderr)
    async with Client(transport, timeout=30) as client:
        assert "create_compile" in (client.instructions or "")
        seen = await exercise(client)
    logs = stderr.read_text()
    assert '"tool": "read_project"' in logs  # structured logs reached stderr, not stdout
    assert FAKE_TOKEN not in logs
    assert all(FAKE_TOKEN not in text for text in seen)
    from qcmcp.security.audit import AuditLog

    audit = AuditLog(os.environ["QCMCP_AUDIT_DB"])
    rows = audit.rows()
    assert {row["tool"] for row in rows} >= {"read_account", "read_project", "create_project"}
    assert FAKE_TOKEN not in str(rows) and audit.verify().ok


async def test_streamable_http_session(fake, tmp_path):
    port = free_port()
    stderr = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port),
                                "--insecure-no-auth"],
                               env=server_env(fake), stdout=stderr, stderr=stderr)
    try:
        wait_for_port(process, port)
        async with Client(StreamableHttpTransport(f"http://127.0.0.1:{port}/mcp"), timeout=30) as client:
            seen = await exercise(client, shared=True)
    finally:
        process.terminate()
        process.wait(timeout=10)
        stderr.close()
    logs = (tmp_path / "stderr.log").read_text()
    assert FAKE_TOKEN not in logs
    assert all(FAKE_TOKEN not in text for text in seen)
