"""The size of ``tools/list``: what every client pays in context before any work, per tool and in total.

Measured through a real MCP session on the sandbox (the JSON of each tool as the client receives it), next to
the same tools before compaction: each tool's schema built straight from its request model (the generated
models, examples, nested ``additionalProperties`` and 20 brokerage variants included) — the baseline in the
same run. Prints total bytes, bytes per tool, the ten largest tools and the ratio.

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


def raw_schema_bytes(name: str) -> int:
    """The tool's input schema as the request model alone would give it (the uncompacted baseline)."""
    spec = BY_NAME[name]
    model = spec.request_model
    return len(json.dumps(model.model_json_schema(by_alias=True))) if model is not None else 2


async def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="qcmcp-tools-bench-"))
    settings = load_settings(QCMCP_SANDBOX_DB=str(scratch / "s.sqlite3"), QCMCP_AUDIT_DB=str(scratch / "a.sqlite3"))
    async with Client(build_server(settings)) as client:
        tools = await client.list_tools()
    sizes = {tool.name: len(json.dumps(tool.model_dump(by_alias=True, exclude_none=True, mode="json")))
             for tool in tools}
    schemas = {tool.name: len(json.dumps(tool.input_schema)) for tool in tools}
    baseline = {name: size - schemas[name] + raw_schema_bytes(name) for name, size in sizes.items()}
    total, base_total = sum(sizes.values()), sum(baseline.values())
    print(f"tools/list: {len(sizes)} tools, {total} bytes, {total / len(sizes):.0f} bytes per tool "
          f"(about {total // 4} tokens)")
    print(f"baseline: schemas straight from the request models: {base_total} bytes, "
          f"{base_total / len(sizes):.0f} bytes per tool")
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:10]:
        print(f"  {name:<36} {size:6d} bytes (baseline {baseline[name]})")
    print(f"tools/list bytes: {total} ({total / len(sizes):.0f} per tool), {base_total / total:.2f}x smaller than "
          "the uncompacted schemas")


if __name__ == "__main__":
    asyncio.run(main())
