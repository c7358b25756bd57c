"""Liveness, readiness and the health_check tool: unauthenticated probes, and checks that say what failed."""

from __future__ import annotations

import httpx
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from qcmcp.tools.catalog import CATALOG
from tests.test_security import SECRET, start


async def test_health_check_on_the_sandbox_is_ready(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    async with Client(build_server(settings)) as client:
        body = (await client.call_tool("health_check", {})).structured_content
    assert body["ready"] is True and body["backend"] == "sandbox" and body["tools"] == len(CATALOG)
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "backend": "ok", "audit log": "ok", "jail": "ok"}


async def test_an_unreachable_api_makes_the_server_not_ready(settings, tmp_path):
    failing = httpx.MockTransport(lambda request: httpx.Response(503, text="down for maintenance"))
    async with Client(build_server(settings.model_copy(update={"max_retries": 0}), transport=failing)) as client:
        body = (await client.call_tool("health_check", {})).structured_content
    assert body["ready"] is False and body["backend"] == "cloud"
    assert "503" in body["checks"]["backend"]["status"] and body["checks"]["audit log"]["status"] == "ok"


def test_probes_answer_without_a_token(tmp_path):
    process, url, _ = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET})
    try:
        live = httpx.get(f"{url}/healthz", timeout=10)
        assert live.status_code == 200 and live.json()["status"] == "ok"
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["ok"] is True, ready.text
        assert httpx.post(f"{url}/mcp", json={}, timeout=10).status_code == 401  # the MCP endpoint still needs one
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_failed_checks_show_no_paths_or_secrets():
    from qcmcp import log
    from qcmcp.ops.health import run_checks

    log.protect("s3cr3t-token-health")

    async def broken() -> None:
        raise RuntimeError("bwrap: execvp /srv/qcmcp/.venv/bin/python failed with s3cr3t-token-health\nmore")

    result = await run_checks({"jail": broken})
    status = result["checks"]["jail"]["status"]
    assert result["ok"] is False and "/srv/" not in status and "s3cr3t" not in status and "…/python" in status
