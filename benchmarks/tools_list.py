"""The size of ``tools/list``: what every client pays in context before any work, per tool and in total.

Measured through a real MCP session on the sandbox with every toolset served (the default in local mode), as the
compact JSON each tool travels in on the wire — the number that counts (the goal: at most 600 bytes a tool on
average; tests/test_tools_list_size.py holds it). Also printed: the same tools through ``json.dumps`` with its
default separators (the figure earlier runs printed), and the baseline in the same run: each tool's schema built
straight from its request model (generated models, examples, nested ``additionalProperties`` and 20 brokerage
variants included), with the ratio. Prints the ten largest tools.

Usage: python benchmarks/tools_list.py
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from qcmcp.tools.catalog import BY_NAME

COMPACT = (",", ":")  # how the MCP SDK writes JSON-RPC messages (no spaces)


def raw_schema(name: str) -> dict:
    """The tool's input schema as the request model alone would give it (the uncompacted baseline)."""
    model = BY_NAME[name].request_model
    return model.model_json_schema(by_alias=True) if model is not None else {}


async def listed_tools() -> list[dict]:
    """Every tool as ``tools/list`` sends it (field names by alias, unset fields left out, as on the wire)."""
    scratch = Path(tempfile.mkdtemp(prefix="qcmcp-tools-bench-"))
    settings = load_settings(QCMCP_SANDBOX_DB=str(scratch / "s.sqlite3"), QCMCP_AUDIT_DB=str(scratch / "a.sqlite3"))
    async with Client(build_server(settings)) as client:
        answer = await client.list_tools_mcp()
    return [tool.model_dump(by_alias=True, exclude_none=True, mode="json") for tool in answer.tools]


def size(value: object, separators: tuple[str, str] | None = COMPACT) -> int:
    return len(json.dumps(value, separators=separators))


async def main() -> None:
    tools = await listed_tools()
    count = len(tools)
    wire = {tool["name"]: size(tool) for tool in tools}
    dumps = {tool["name"]: size(tool, None) for tool in tools}
    baseline = {tool["name"]: size({**tool, "inputSchema": raw_schema(tool["name"])}) for tool in tools}
    total, dumps_total, base_total = sum(wire.values()), sum(dumps.values()), sum(baseline.values())
    print(f"tools/list, compact JSON as on the wire: {count} tools, {total} bytes, {total / count:.0f} bytes per tool "
          f"(about {total // 4} tokens; goal: at most 600 per tool)")
    print(f"the same with json.dumps' default separators: {dumps_total} bytes, {dumps_total / count:.0f} per tool")
    print(f"baseline, schemas straight from the request models (compact): {base_total} bytes, "
          f"{base_total / count:.0f} per tool")
    for name, bytes_ in sorted(wire.items(), key=lambda item: -item[1])[:10]:
        print(f"  {name:<36} {bytes_:6d} bytes (baseline {baseline[name]})")
    print(f"tools/list bytes: {total} ({total / count:.0f} per tool), {base_total / total:.2f}x smaller than the "
          "uncompacted schemas")


if __name__ == "__main__":
    asyncio.run(main())
