"""The catalog matches the official QuantConnect MCP server's tools and adds the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qcmcp.tools.catalog import BY_NAME, CATALOG, DELIBERATE_HINT_DIFFERENCES
from qcmcp.tools.schema import parameters_schema
from qcmcp.tools.spec import SERVER_DEFAULTED

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "quantconnect" / "official-mcp-tools.json"
EXTRA_TOOLS = {"read_backtest_report", "read_connection_authorization", "health_check",  # beyond upstream
               "run_backtest", "read_backtest_status", "list_deployments", "sync_project", "read_object",
               "read_backtest_trades", "run_optimization"}  # workflows
EXTRA_TOOLS |= {spec.name for spec in CATALOG if spec.toolset == "research"}  # analytics computed here
JSON_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "number": "number",
              "array": "array", "object": "object", "status enum": "string"}


def official_tools() -> list[dict]:
    if not OFFICIAL.is_file():
        pytest.skip(f"official tool list not found beside the repository ({OFFICIAL.name})")
    return json.loads(OFFICIAL.read_text())["tools"]


def json_type(prop: dict) -> str:
    if "type" in prop:
        return prop["type"]
    if "$ref" in prop or "anyOf" in prop or "oneOf" in prop:
        return "object"
    if "enum" in prop:
        return "string"
    return "unknown"


def test_every_official_tool_is_offered_plus_the_spec_extras():
    official = {tool["name"] for tool in official_tools()}
    assert len(official) == 64
    assert official | EXTRA_TOOLS == set(BY_NAME)
    assert len(CATALOG) == len(BY_NAME), "tool names must be unique"


@pytest.mark.parametrize("tool", official_tools() if OFFICIAL.is_file() else [], ids=lambda t: t["name"])
def test_parameters_and_hints_match_the_official_server(tool):
    spec = BY_NAME[tool["name"]]
    schema = parameters_schema(spec)
    properties = schema["properties"]
    # Live-money tools add one optional parameter of our own: the explicit confirmation.
    ours = {"confirm"} if spec.confirm else set()
    assert set(properties) == {p["name"] for p in tool["parameters"]} | ours
    required = set(schema.get("required", []))
    assert not ours & required
    for param in tool["parameters"]:
        server_fills_it = param["name"] in SERVER_DEFAULTED and param["name"] != spec.confirm
        assert (param["name"] in required) == (param["required"] and not server_fills_it), param["name"]
        assert json_type(properties[param["name"]]) == JSON_TYPES[param["type"]], param["name"]
    annotations = spec.hints.annotations().model_dump(by_alias=True, exclude_none=True)
    expected = dict(tool["annotations"])
    if expected.get("readOnlyHint"):  # reads say outright that they change nothing
        expected.update(destructiveHint=False, idempotentHint=True)
    if spec.name in DELIBERATE_HINT_DIFFERENCES:
        assert annotations != expected, f"{spec.name} is recorded as different but matches upstream"
    else:
        assert annotations == expected


def test_every_read_says_it_is_read_only_and_not_destructive():
    for spec in CATALOG:
        hints = spec.hints.annotations()
        if spec.name.startswith(("read_", "list_")) and spec.name != "read_object_store_file_job_id":
            assert hints.read_only_hint is True and hints.destructive_hint is False, spec.name
        if hints.read_only_hint:
            assert hints.destructive_hint is False and hints.idempotent_hint is True, spec.name
    assert all(len(reason) > 20 for reason in DELIBERATE_HINT_DIFFERENCES.values())


def test_exactly_the_money_moving_tools_need_confirmation():
    guarded = {spec.name for spec in CATALOG if spec.confirm}
    assert guarded == {"create_live_algorithm", "liquidate_live_algorithm", "stop_live_algorithm", "create_live_command",
                       "broadcast_live_command", "authorize_connection"}
    for name in guarded:
        spec = BY_NAME[name]
        assert spec.scope == "qc:live:execute" and spec.confirm in parameters_schema(spec).get("required", []), name


def test_every_tool_has_a_useful_description_and_area():
    for spec in CATALOG:
        assert len(spec.description) >= 30, spec.name
        assert spec.area in {"account", "projects", "collaboration", "files", "compile", "backtests",
                             "optimizations", "live", "objects", "ai", "research"}, spec.name


def test_parameters_are_flat_not_wrapped_in_a_model_argument():
    for spec in CATALOG:
        assert "model" not in parameters_schema(spec)["properties"], spec.name


def test_brokerage_variants_are_listed_compactly_without_losing_a_field():
    """create_live_algorithm once took 35.7 KB of tools/list for 20 brokerage variants: now the ids are an enum
    and each module's fields are named once; every id and every field of the full model is still there."""
    spec = BY_NAME["create_live_algorithm"]
    schema = parameters_schema(spec)
    assert len(json.dumps(schema)) < 8_000
    full = spec.request_model.model_json_schema(by_alias=True)
    text = json.dumps(full)
    brokerage = schema["properties"]["brokerage"]
    for module in brokerage["properties"]["id"]["enum"]:
        assert f'"const": "{module}"' in text
    import re

    fields = set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', text))  # every kebab-case module field in the model
    described = brokerage["description"] + schema["properties"]["dataProviders"]["description"]
    assert fields and all(field in described for field in fields), sorted(f for f in fields if f not in described)


def test_page_limits_read_the_same_in_description_and_schema():
    import re

    for spec in CATALOG:
        end = parameters_schema(spec)["properties"].get("end", {}).get("description", "")
        stated = re.search(r"at most ([\d,]+) at a time", spec.description)
        if stated and "end - start" in end:
            assert f"at most {stated.group(1).replace(',', '')}" in end.replace(",", ""), spec.name
        assert "less than 100" not in end, spec.name
    patch = parameters_schema(BY_NAME["patch_file"])["properties"]["patch"]["description"]
    assert "optional" in patch and "Must include `index`" not in patch
