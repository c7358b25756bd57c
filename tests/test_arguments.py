"""Bad arguments come back as clear tool errors naming the parameter; nothing is sent."""

from __future__ import annotations

import httpx
import pytest


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "projects": []})


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("create_project", {"name": "Alpha"}, ["Missing required parameter 'language'", "create_project"]),
        ("read_project", {"projectId": "seven"}, ["projectId", "valid integer"]),
        ("create_project", {"name": "Alpha", "language": "Java"}, ["language", "'C#' or 'Py'"]),
        ("read_project", {"projectID": 1}, ["Unknown parameter 'projectID'", "projectId"]),
        ("create_backtest", {"projectId": 1, "compileId": "c", "backtestName": "b", "parameters": [1]}, ["parameters"]),
        ("create_project", {"name": None, "language": "Py"}, ["Missing required parameter 'name'"]),
    ],
)
async def test_bad_arguments_are_explained(mcp_client, tool, arguments, expected):
    client = mcp_client(ok)
    async with client:
        result = await client.call_tool(tool, arguments, raise_on_error=False)
    assert result.is_error
    text = result.content[0].text
    for fragment in expected:
        assert fragment in text
    assert "Traceback" not in text and "/src/" not in text
    assert client.recorder.requests == []


async def test_null_optional_parameter_means_omitted(mcp_client):
    client = mcp_client(ok)
    async with client:
        result = await client.call_tool("read_project", {"projectId": None, "start": 0, "end": 10})
    assert not result.is_error
    assert client.recorder.json_bodies() == [{"start": 0, "end": 10}]


async def test_unknown_tool_is_an_mcp_error(mcp_client):
    client = mcp_client(ok)
    async with client:
        result = await client.call_tool("read_projekt", {}, raise_on_error=False)
    assert result.is_error and "Unknown tool" in result.content[0].text


async def test_missing_credentials_name_the_variables(settings):
    from fastmcp import Client

    from qcmcp.config import load_settings
    from qcmcp.server import build_server

    server = build_server(load_settings(QUANTCONNECT_USER_ID=None, QUANTCONNECT_API_TOKEN=None, QCMCP_BACKEND="cloud"))
    async with Client(server) as client:
        result = await client.call_tool("list_projects", {}, raise_on_error=False)
    assert result.is_error
    assert "QUANTCONNECT_USER_ID" in result.content[0].text and "QUANTCONNECT_API_TOKEN" in result.content[0].text


async def test_configured_organization_fills_a_missing_organization_id(settings):
    from fastmcp import Client

    from qcmcp.server import build_server
    from tests.conftest import Recorder

    recorder = Recorder(lambda request: httpx.Response(200, json={"success": True, "objects": []}))
    configured = settings.model_copy(update={"organization_id": "org-from-env"})
    async with Client(build_server(configured, transport=recorder.transport)) as client:
        await client.call_tool("list_object_store_files", {"path": "/"})
        await client.call_tool("list_object_store_files", {"organizationId": "explicit", "path": "/"})
    assert [body["organizationId"] for body in recorder.json_bodies()] == ["org-from-env", "explicit"]
