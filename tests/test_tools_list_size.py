"""The size of tools/list is behaviour: every client pays it in context before any work. The full default list
stays inside its budget as the compact JSON each tool travels in, and no compaction takes away what an agent needs:
each tool keeps its description, each parameter its type, enum, bounds and required-ness as the request model has
them, and the parameters whose name says too little keep a description (benchmarks/tools_list.py prints the bytes).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from qcmcp.tools.catalog import BY_NAME, CATALOG
from qcmcp.tools.catalog_export import tool_document
from qcmcp.tools.schema import parameters_schema

# Bytes per tool, on average, of the compact JSON of the full default tools/list (every toolset). The goal of
# issue 12 is 600; the list is about 750 today (from 1,064 before compaction) — see the README's Benchmarks.
BUDGET_PER_TOOL = 760
BOUNDS = ("enum", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
          "minItems", "maxItems", "maxProperties")


async def listed(tmp_path) -> list[dict[str, Any]]:
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    async with Client(build_server(settings)) as client:
        answer = await client.list_tools_mcp()
    return [tool.model_dump(by_alias=True, exclude_none=True, mode="json") for tool in answer.tools]


async def test_the_full_tools_list_stays_inside_its_budget(tmp_path):
    tools = await listed(tmp_path)
    assert {tool["name"] for tool in tools} == set(BY_NAME)
    sizes = {tool["name"]: len(json.dumps(tool, separators=(",", ":"))) for tool in tools}
    average = sum(sizes.values()) / len(sizes)
    assert average <= BUDGET_PER_TOOL, f"{average:.0f} bytes per tool; largest: {sorted(sizes, key=sizes.get)[-5:]}"
    for tool in tools:  # what every client relies on is still there
        assert len(tool["description"]) >= 30 and tool["title"], tool["name"]
        hints = tool["annotations"]
        assert {"readOnlyHint", "destructiveHint", "openWorldHint"} <= set(hints), tool["name"]
        assert {"toolset", "scope"} <= set(tool["_meta"]["io.qcmcp/tool"]), tool["name"]


def _resolved(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A model property without its ``$ref`` and its ``anyOf [X, null]`` (how an optional field is generated)."""
    if "$ref" in prop:
        prop = {**defs[prop["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in prop.items() if k != "$ref"}}
    options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1 and len(prop.get("anyOf", [])) == 2:
        prop = {**_resolved(options[0], defs), **{k: v for k, v in prop.items() if k != "anyOf"}}
    return prop


@pytest.mark.parametrize("spec", [s for s in CATALOG if s.request_model is not None], ids=lambda s: s.name)
def test_no_parameter_lost_its_type_enum_bounds_or_required_ness(spec):
    raw = spec.request_model.model_json_schema(by_alias=True)
    defs = raw.get("$defs", {})
    schema = parameters_schema(spec)
    expected = {name for name in raw["properties"] if name not in spec.hidden} | ({"confirm"} if spec.confirm else set())
    assert set(schema["properties"]) == expected
    for name, prop in schema["properties"].items():
        assert prop.get("type") or "anyOf" in prop, (spec.name, name)
        if name == "confirm":
            continue
        model = _resolved(raw["properties"][name], defs)
        if "type" in model:
            assert prop["type"] == model["type"], (spec.name, name)
        for key in BOUNDS:
            if key in model and not ("anyOf" in model or "oneOf" in model):
                assert prop.get(key) == model[key], (spec.name, name, key)
    server_fills = {"organizationId"} - {spec.confirm}  # the caller's organization, unless a confirmation repeats it
    required = set(raw.get("required", [])) - server_fills - set(spec.hidden)
    assert set(schema.get("required", [])) == required | ({spec.confirm} if spec.confirm else set()), spec.name


# Parameters whose name alone does not say enough: they keep a description (a few words are enough).
DESCRIBED = {
    "create_live_algorithm": ("brokerage", "dataProviders", "versionId", "confirm"),
    "patch_file": ("patch", "codeSourceId"), "read_live_logs": ("algorithmId",),
    "read_backtest_orders": ("end",), "read_live_orders": ("end",), "read_backtest_trades": ("end",),
    "read_project": ("projectId",), "list_object_store_files": ("organizationId",),
    "run_backtest": ("parameters", "timeoutSeconds"), "read_backtest_status": ("backtestId",),
    "run_optimization": ("estimatedCost", "constraints", "parameters", "timeoutSeconds"),
    "sync_project": ("path", "projectId", "name", "dryRun"), "create_optimization": ("estimatedCost",),
    "calculate_portfolio_performance": ("weights", "risk_free_rate", "object_key"),
    "screen_cointegrated_pairs": ("alpha",), "broadcast_live_command": ("excludeProjectId", "confirm"),
}


def test_parameters_whose_name_says_too_little_keep_a_description():
    for tool, names in DESCRIBED.items():
        properties = parameters_schema(BY_NAME[tool])["properties"]
        for name in names:
            assert len(properties[name].get("description", "")) >= 6, (tool, name)
    assert "defaults to your organization" in parameters_schema(BY_NAME["upload_object"])["properties"][
        "organizationId"]["description"]


def test_the_catalog_export_keeps_what_tools_list_leaves_out():
    """Every hint (tools/list sends idempotentHint only where it means something), the cost and latency classes
    (left out of tools/list when free and fast) and the refusal of unknown arguments."""
    document = tool_document(BY_NAME["read_project"], None)
    assert document["annotations"] == {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True,
                                       "openWorldHint": True}
    assert (document["cost"], document["latency"]) == ("free", "fast")
    assert document["inputSchema"]["additionalProperties"] is False


async def test_unknown_arguments_are_refused_though_the_schema_does_not_say_so(mcp_client):
    assert "additionalProperties" not in parameters_schema(BY_NAME["read_backtest"])
    client = mcp_client(lambda request: httpx.Response(200, json={"success": True}))
    async with client:
        result = await client.call_tool("read_backtest", {"projectId": 1, "backtestId": "b", "extra": 1},
                                        raise_on_error=False)
    assert result.is_error and "Unknown parameter 'extra'" in result.content[0].text
    assert client.recorder.requests == []


async def test_a_brokerage_missing_a_required_field_is_refused_naming_it(mcp_client):
    """The advertised brokerage schema is compact; the server still validates against every variant."""
    client = mcp_client(lambda request: httpx.Response(200, json={"success": True}))
    arguments = {"projectId": 1, "compileId": "c", "nodeId": "LN-1", "versionId": "-1", "confirm": "1",
                 "brokerage": {"id": "InteractiveBrokersBrokerage", "ib-user-name": "u", "ib-account": "a"}}
    async with client:
        result = await client.call_tool("create_live_algorithm", arguments, raise_on_error=False)
    assert result.is_error and "ib-password" in result.content[0].text
    assert client.recorder.requests == []
