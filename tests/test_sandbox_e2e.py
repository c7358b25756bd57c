"""The sandbox from the outside: `qcmcp serve` without credentials, and `qcmcp sandbox` on a port."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from qcmcp.qc.client import Credentials, QuantConnectClient
from qcmcp.qc.errors import AuthenticationError
from tests.processes import free_port, wait_for_port

pytestmark = pytest.mark.e2e
QCMCP = str(Path(sys.executable).with_name("qcmcp"))
TOKEN = "sandbox-e2e-token-7f3a"


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env["QCMCP_SANDBOX_DB"] = str(tmp_path / "sandbox.sqlite3")
    env["QCMCP_AUDIT_DB"] = str(tmp_path / "audit.sqlite3")
    return env


async def test_serve_without_credentials_runs_on_the_sandbox(tmp_path):
    stderr = tmp_path / "stderr.log"
    async with Client(StdioTransport(QCMCP, ["serve"], env=clean_env(tmp_path), log_file=stderr), timeout=30) as client:
        assert "SANDBOX" in client.instructions

        async def call(tool, **arguments):
            result = await client.call_tool(tool, arguments, raise_on_error=False)
            assert result.content[0].text.startswith("[sandbox]"), result.content[0].text
            return result

        project = (await call("create_project", name="E2E", language="Py")).structured_content["projects"][0]["projectId"]
        await call("create_file", projectId=project, name="helpers.py", content="def double(x):\n    return 2 * x\n")
        patch = ("--- a/helpers.py\n+++ b/helpers.py\n@@ -1,2 +1,2 @@\n def double(x):\n-    return 2 * x\n+    return x + x\n")
        assert not (await call("patch_file", projectId=project, patch=patch)).is_error
        compiled = (await call("create_compile", projectId=project)).structured_content
        assert compiled["state"] == "BuildSuccess"
        org = (await call("read_account")).structured_content["organizationId"]
        await call("upload_object", organizationId=org, key="k.txt", objectData="v")
        listed = (await call("list_object_store_files", organizationId=org)).structured_content
        assert [o["key"] for o in listed["objects"]] == ["k.txt"]
        created = await call("create_backtest", projectId=project, compileId=compiled["compileId"], backtestName="b")
        backtest_id = created.structured_content["backtest"]["backtestId"]
        for _ in range(300):
            read = (await call("read_backtest", projectId=project, backtestId=backtest_id)).structured_content["backtest"]
            if read["status"] in ("Completed.", "Runtime Error"):
                break
            await asyncio.sleep(0.1)
        assert read["status"] == "Completed.", read.get("error")
        assert read["statistics"]["Start Equity"] == "100000"


def test_standalone_sandbox_serves_other_api_clients(tmp_path):
    import asyncio

    port = free_port()
    env = clean_env(tmp_path)
    log = (tmp_path / "sandbox.log").open("w")
    process = subprocess.Popen([QCMCP, "sandbox", "--port", str(port), "--user-id", "515151", "--api-token", TOKEN],
                               env=env, stdout=log, stderr=log)
    try:
        wait_for_port(process, port)

        async def use_it() -> None:
            url = f"http://127.0.0.1:{port}/api/v2"
            api = QuantConnectClient(Credentials("515151", TOKEN), base_url=url, max_retries=0)
            created = await api.post("/projects/create", {"name": "Remote", "language": "Py"}, idempotent=False)
            project = created["projects"][0]["projectId"]
            compiled = await api.post("/compile/create", {"projectId": project}, idempotent=False)
            assert compiled["state"] == "BuildSuccess" and compiled["sandbox"] is True
            await api.aclose()
            intruder = QuantConnectClient(Credentials("515151", "not-the-token"), base_url=url, max_retries=0)
            with pytest.raises(AuthenticationError):
                await intruder.post("/projects/read", {}, idempotent=True)
            await intruder.aclose()

        asyncio.run(use_it())
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    output = (tmp_path / "sandbox.log").read_text()
    assert "local emulator of the QuantConnect API" in output
    assert TOKEN not in output
