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


async def test_null_is_refused_not_read_as_omitted(mcp_client):
    """``read_project`` with ``projectId: null`` once listed every project: a null is refused, nothing is sent."""
    client = mcp_client(ok)
    async with client:
        refused = await client.call_tool("read_project", {"projectId": None, "start": 0, "end": 10}, raise_on_error=False)
        omitted = await client.call_tool("read_project", {"start": 0, "end": 10})
    assert refused.is_error and "'projectId' of read_project is null" in refused.content[0].text
    assert not omitted.is_error
    assert client.recorder.json_bodies() == [{"start": 0, "end": 10}]


@pytest.mark.parametrize(("arguments", "fragment"), [
    ({"projectId": 2**63}, "projectId for read_project is out of range"),
    ({"projectId": -(2**63) - 1}, "out of range"),
    ({"projectId": 1, "start": 0, "end": 10**30}, "end for read_project is out of range"),
])
async def test_integers_must_fit_64_bits(mcp_client, arguments, fragment):
    client = mcp_client(ok)
    async with client:
        result = await client.call_tool("read_project", arguments, raise_on_error=False)
    assert result.is_error and fragment in result.content[0].text
    assert client.recorder.json_bodies() == []


async def test_sizes_are_counted_before_anything_is_built(mcp_client):
    from qcmcp.tools.arguments import MAX_DEPTH, MAX_LIST_ITEMS

    client = mcp_client(ok)
    nested: object = "x"
    for _ in range(MAX_DEPTH + 1):
        nested = [nested]
    cases = [
        ("create_file", {"projectId": 1, "name": "a.py", "content": "x" * (5 * 1024 * 1024)}, "over 4 MB of text"),
        ("delete_object", {"organizationId": "o", "key": "k", "extra": 1}, "Unknown parameter"),
        ("create_optimization", {"projectId": 1, "name": "n", "target": "TotalPerformance.PortfolioStatistics.SharpeRatio",
                                 "targetTo": "max", "strategy": "x", "compileId": "c",
                                 "parameters": [{"name": "p", "min": 1, "max": 2, "step": 1}] * (MAX_LIST_ITEMS + 1),
                                 "constraints": [], "estimatedCost": 1, "nodeType": "O2-8", "parallelNodes": 1},
         "at most 10000"),
        ("check_syntax", {"language": "Py", "files": nested}, "nested more than"),
    ]
    async with client:
        for tool, arguments, fragment in cases:
            result = await client.call_tool(tool, arguments, raise_on_error=False)
            assert result.is_error and fragment in result.content[0].text, (tool, result.content[0].text)
    assert client.recorder.json_bodies() == []


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
