"""The catalog as data for agent platforms that keep their own tool registry (``qcmcp catalog export``).

One JSON document per tool — name, description, input schema, scope, cost and latency class, annotation hints,
toolset — optionally under a namespace. The four primary workflows get the platform's dotted names
(``<ns>.project.sync``, ``<ns>.backtest.run``, ``<ns>.backtest.status``, ``<ns>.deployment.list``); every other
tool is ``<ns>.<toolset>.<name>``.
"""

from __future__ import annotations

import json
from typing import Any

from qcmcp.tools.catalog import CATALOG
from qcmcp.tools.schema import parameters_schema
from qcmcp.tools.spec import ToolSpec

PRIMARY_WORKFLOWS = {"sync_project": "project.sync", "run_backtest": "backtest.run",
                     "read_backtest_status": "backtest.status", "list_deployments": "deployment.list"}


def exported_name(spec: ToolSpec, namespace: str | None) -> str:
    if not namespace:
        return spec.name
    return f"{namespace}.{PRIMARY_WORKFLOWS.get(spec.name, f'{spec.toolset}.{spec.name}')}"


def tool_document(spec: ToolSpec, namespace: str | None) -> dict[str, Any]:
    return {"name": exported_name(spec, namespace), "mcpName": spec.name, "description": spec.description,
            # Unknown arguments are refused (tools/list leaves this out to save bytes; a registry may validate).
            "inputSchema": {**parameters_schema(spec), "additionalProperties": False}, **spec.metadata(),
            "primary": spec.name in PRIMARY_WORKFLOWS,
            "annotations": spec.hints.annotations().model_dump(by_alias=True, exclude_none=True)}


def export_catalog(namespace: str | None = None) -> str:
    """The whole catalog as JSON text: ``{"tools": [document, ...]}`` in catalog order."""
    return json.dumps({"namespace": namespace, "tools": [tool_document(spec, namespace) for spec in CATALOG]},
                      indent=1)
