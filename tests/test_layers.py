"""Layers run one way: every import in the package is checked against the picture in the README.

server → security, tools → gateway → backend → qc client or sandbox. ``tools/`` imports no security code,
``security/`` no sandbox code, the gateway and backend no security code, the API client nothing above it, the
sandbox nothing of the server's, and nothing imports the command line. Imports inside functions and under
``TYPE_CHECKING`` count too (read from the AST, not from what happens to be loaded).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "qcmcp"

# module prefix (relative to qcmcp) -> packages it must never import
FORBIDDEN = {
    "tools": ("qcmcp.security", "qcmcp.server", "qcmcp.cli", "qcmcp.sandbox"),
    "security": ("qcmcp.sandbox", "qcmcp.backend", "qcmcp.server", "qcmcp.cli"),
    "gateway": ("qcmcp.security", "qcmcp.tools", "qcmcp.server", "qcmcp.cli"),
    "backend": ("qcmcp.security", "qcmcp.tools", "qcmcp.gateway", "qcmcp.server", "qcmcp.cli"),
    "caller": ("qcmcp.security", "qcmcp.tools", "qcmcp.gateway", "qcmcp.sandbox", "qcmcp.server", "qcmcp.ops"),
    "qc": ("qcmcp.security", "qcmcp.tools", "qcmcp.gateway", "qcmcp.backend", "qcmcp.sandbox", "qcmcp.server",
           "qcmcp.cli", "qcmcp.ops"),  # the client reports to ops through the ClientHooks it is handed
    "sandbox": ("qcmcp.security", "qcmcp.tools", "qcmcp.gateway", "qcmcp.backend", "qcmcp.server", "qcmcp.cli"),
    "marketdata": ("qcmcp.security", "qcmcp.tools", "qcmcp.gateway", "qcmcp.backend", "qcmcp.sandbox", "qcmcp.server",
                   "qcmcp.cli", "qcmcp.workflows"),
    "ops": ("qcmcp.security", "qcmcp.tools", "qcmcp.gateway", "qcmcp.sandbox", "qcmcp.server", "qcmcp.cli"),
    "workflows": ("qcmcp.security", "qcmcp.tools", "qcmcp.server", "qcmcp.cli", "qcmcp.sandbox"),
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).with_suffix("")
        found.append((".".join(relative.parts), path))
    return found


@pytest.mark.parametrize(("layer", "forbidden"), list(FORBIDDEN.items()), ids=list(FORBIDDEN))
def test_no_import_runs_upward(layer: str, forbidden: tuple[str, ...]) -> None:
    checked = 0
    violations = []
    for name, path in modules():
        if name != layer and not name.startswith(layer + "."):
            continue
        checked += 1
        for imported in imports_of(path):
            if any(imported == bad or imported.startswith(bad + ".") for bad in forbidden):
                violations.append(f"qcmcp.{name} imports {imported}")
    assert checked, f"no module found for layer {layer}"
    assert violations == []


def test_nothing_imports_the_command_line() -> None:
    users = [name for name, path in modules() if not name.startswith("cli") and name != "__main__"
             and any(i == "qcmcp.cli" or i.startswith(("qcmcp.cli.", "qcmcp.cli_")) for i in imports_of(path))]
    assert users == []


async def test_the_caller_is_resolved_once_per_request(tmp_path, monkeypatch):
    """Audit, scope guard, policy and tenancy read one resolved Caller; nobody works it out again."""
    from fastmcp import Client

    import qcmcp.security.identity as identity
    from qcmcp.config import load_settings
    from qcmcp.server import build_server

    resolved = []
    real = identity.resolve_caller
    monkeypatch.setattr(identity, "resolve_caller", lambda *args, **kwargs: resolved.append(1) or real(*args, **kwargs))
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    async with Client(build_server(settings)) as client:
        await client.list_tools()  # the client lists tools once (its own request) before calling any
        await client.call_tool("read_account", {})
        resolved.clear()
        await client.call_tool("read_account", {})
        await client.call_tool("list_projects", {})
    assert len(resolved) == 2  # one per request, though audit, guards and the gateway all read it
