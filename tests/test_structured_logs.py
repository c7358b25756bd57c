"""Every line `qcmcp serve` writes to stderr is one JSON object, over stdio and over HTTP.

The server runs in a subprocess on the sandbox backend with stderr redirected to a file (not a TTY), and a
real MCP client makes good and bad calls. fastmcp's start-up and error lines, uvicorn's start-up and access
lines and start-up failures must all come through the project's JSON logger; each tool call is logged once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport

from tests.processes import free_port, wait_for_port

pytestmark = pytest.mark.e2e
QCMCP = str(Path(sys.executable).with_name("qcmcp"))
SECRET_TOKEN = "structured-log-token-5b7e0c"


def sandbox_env(tmp_path: Path, level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env.update(QCMCP_BACKEND="sandbox", QCMCP_SANDBOX_DB=str(tmp_path / "sandbox.sqlite3"),
               QCMCP_AUDIT_DB=str(tmp_path / "audit.sqlite3"), QCMCP_LOG_LEVEL=level, QCMCP_KEYRING="off",
               QUANTCONNECT_USER_ID="424242", QUANTCONNECT_API_TOKEN=SECRET_TOKEN)
    return env


async def good_and_bad_calls(client: Client) -> None:
    await client.list_tools()
    assert not (await client.call_tool("read_account", {}, raise_on_error=False)).is_error
    for tool, arguments in [("read_project", {"projectId": 987654}),  # the API says no
                            ("read_project", {"projectId": "one"}),  # invalid argument
                            ("no_such_tool", {})]:
        assert (await client.call_tool(tool, arguments, raise_on_error=False)).is_error


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert lines, "the server wrote nothing to stderr"
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"stderr line is not JSON: {line!r}")
    assert all(isinstance(entry, dict) and {"ts", "level", "logger", "msg"} <= set(entry) for entry in entries)
    return entries


def tool_calls(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(entry["tool"], entry["outcome"]) for entry in entries if entry["msg"] == "tool call"]


def assert_each_call_logged_once(entries: list[dict[str, Any]]) -> None:
    assert tool_calls(entries) == [("read_account", "ok"), ("read_project", "APIError"),
                                   ("read_project", "invalid_arguments")]
    assert not [entry for entry in entries if "Error calling tool" in entry["msg"]]  # fastmcp's duplicate
    failed = [entry for entry in entries if entry["msg"] == "tool call" and entry["outcome"] != "ok"]
    assert "Project 987654 not found" in failed[0]["error"] and "projectId" in failed[1]["error"]


async def test_stdio_session_logs_only_json(tmp_path: Path) -> None:
    stderr = tmp_path / "stderr.log"
    transport = StdioTransport(QCMCP, ["serve"], env=sandbox_env(tmp_path, "INFO"), log_file=stderr)
    async with Client(transport, timeout=60) as client:
        await good_and_bad_calls(client)
    entries = json_lines(stderr)
    assert any(entry["msg"].startswith("Starting MCP server") for entry in entries)  # fastmcp's own line
    assert_each_call_logged_once(entries)
    assert SECRET_TOKEN not in stderr.read_text()


def serve_http(tmp_path: Path, level: str, name: str) -> Path:
    """Run one HTTP session against `qcmcp serve --transport http`; return its stderr file."""
    port = free_port()
    stderr = tmp_path / f"{name}.log"
    with stderr.open("w") as sink:
        process = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--port", str(port), "--insecure-no-auth"],
                                   env=sandbox_env(tmp_path, level), stdout=sink, stderr=sink)
        try:
            wait_for_port(process, port)
            async def session() -> None:
                async with Client(StreamableHttpTransport(f"http://127.0.0.1:{port}/mcp"), timeout=60) as client:
                    await good_and_bad_calls(client)

            asyncio.run(session())
        finally:
            process.terminate()
            process.wait(timeout=15)
    return stderr


def test_http_session_logs_only_json_and_access_lines_follow_the_level(tmp_path: Path) -> None:
    info = json_lines(serve_http(tmp_path, "INFO", "info"))
    loggers = {entry["logger"] for entry in info}
    assert {"uvicorn.error", "uvicorn.access", "qcmcp.tools"} <= loggers, loggers
    assert any("POST /mcp" in entry["msg"] for entry in info if entry["logger"] == "uvicorn.access")
    assert any(entry["msg"].startswith("Starting MCP server") for entry in info)
    assert_each_call_logged_once(info)
    assert not any("color_message" in entry for entry in info)

    quiet = json_lines(serve_http(tmp_path, "WARNING", "warning"))
    assert not [entry for entry in quiet if entry["logger"] == "uvicorn.access"]
    assert {entry["level"] for entry in quiet} <= {"warning", "error", "critical"}


def test_start_up_failures_are_json_lines_too(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path, "INFO")
    bad_setting = subprocess.run([QCMCP, "serve"], env={**env, "QCMCP_HTTP_TIMEOUT": "soon"}, capture_output=True,
                                 text=True, timeout=60, stdin=subprocess.DEVNULL)
    refused = subprocess.run([QCMCP, "serve", "--transport", "http", "--host", "0.0.0.0", "--insecure-no-auth"],
                             env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    for result, fragment in [(bad_setting, "QCMCP_HTTP_TIMEOUT"), (refused, "non-loopback")]:
        assert result.returncode == 2, result.stderr
        entries = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
        assert entries and entries[-1]["level"] == "error" and fragment in entries[-1]["msg"], result.stderr
