"""A full shared-mode session with recognisable fake secrets; none may surface anywhere we write.

Secrets in play: two tenants' QuantConnect API tokens (in the vault), the vault key, the JWT
signing secret, the bearer tokens themselves and a brokerage password given to a live deploy.
The session covers success and failure paths (bad arguments, upstream errors, refusals,
backtests, live deploys). Scanned: every tool result (text and structured), the server's log
at DEBUG level, the audit database files and the vault database files.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jwt
import pytest
from fastmcp import Client

from qcmcp.security.scopes import ROLES
from tests.test_security import SECRET, claims
from tests.test_tenancy import TOKENS, fake_cloud, start_on_cloud_with_vault  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e
BROKER_PASSWORD = "BROKER-PW-LEAKCHECK-8c1e5a"
ALGORITHM = """from AlgorithmImports import *

class Leak(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 1)
        self.set_end_date(2020, 3, 1)
        self.add_equity("SPY", Resolution.DAILY)

    def on_data(self, data):
        if not self.portfolio.invested:
            self.set_holdings("SPY", 1)
"""


async def session(url: str, bearer: str, outputs: list[str]) -> None:
    async def call(tool: str, **arguments) -> dict:
        result = await client.call_tool(tool, arguments, raise_on_error=False)
        outputs.append(str(result.content) + str(result.structured_content))
        return result.structured_content or {}

    async with Client(f"{url}/mcp", auth=bearer) as client:
        outputs.append(str(await client.list_tools()))
        project = (await call("create_project", name="Leak Check", language="Py"))["projects"][0]["projectId"]
        await call("update_file_contents", projectId=project, name="main.py", content=ALGORITHM)
        await call("create_project", name="missing language")  # invalid arguments
        await call("read_project", projectId=999_999)  # upstream failure
        compile_id = (await call("create_compile", projectId=project))["compileId"]
        backtest = await call("create_backtest", projectId=project, compileId=compile_id, backtestName="leak")
        backtest_id = backtest["backtest"]["backtestId"]
        for _ in range(200):
            read = await call("read_backtest", projectId=project, backtestId=backtest_id)
            if read.get("backtest", {}).get("completed"):
                break
            await asyncio.sleep(0.1)
        await call("read_account")
        brokerage = {"id": "InteractiveBrokersBrokerage", "ib-user-name": "u", "ib-account": "A1",
                     "ib-password": BROKER_PASSWORD, "ib-weekly-restart-utc-time": "22:00:00"}
        await call("create_live_algorithm", versionId="-1", projectId=project, compileId=compile_id, nodeId="SB-L1",
                   brokerage=brokerage, confirm=str(project))  # the sandbox refuses real brokerages
        await call("create_live_algorithm", versionId="-1", projectId=project, compileId=compile_id, nodeId="SB-L1",
                   brokerage=brokerage, confirm="wrong")  # refused by the guard
        # Secrets nested deeper, inside a list, or in a brokerage given as a string are masked by structure too.
        for odd in ({"id": "InteractiveBrokersBrokerage", "extra": {"login": BROKER_PASSWORD}},
                    {"id": "InteractiveBrokersBrokerage", "accounts": [{"secret-ish": BROKER_PASSWORD}]},
                    json.dumps({"id": "InteractiveBrokersBrokerage", "ib-password": BROKER_PASSWORD})):
            await call("create_live_algorithm", versionId="-1", projectId=project, compileId=compile_id, nodeId="SB-L1",
                       brokerage=odd, confirm=str(project))


def scan(path: Path) -> str:
    """Every file of a database (main, WAL, journal), as text."""
    return "".join(p.read_bytes().decode("latin-1") for p in path.parent.glob(path.name + "*"))


async def test_no_secret_surfaces_in_results_logs_audit_or_vault(tmp_path, fake_cloud):  # noqa: F811
    api_url, _ = fake_cloud
    process, url, log, vault_key = start_on_cloud_with_vault(tmp_path, api_url, QCMCP_LOG_LEVEL="DEBUG",
                                                             QCMCP_LIVE_TRADING="on")
    vault_db = tmp_path / "vault.sqlite3"
    bearers = {tenant: jwt.encode(claims(sub=f"agent-{tenant}", tenant=tenant, scope=" ".join(sorted(ROLES["admin"]))),
                                  SECRET, "HS256") for tenant in TOKENS}
    outputs: list[str] = []
    try:
        await asyncio.gather(*(session(url, bearer, outputs) for bearer in bearers.values()))
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert any("backtest" in text for text in outputs) and any("paper" in text for text in outputs)
    secrets = {"JWT secret": SECRET, "vault key": vault_key, "broker password": BROKER_PASSWORD,
               **{f"{tenant} API token": token for tenant, (_, token) in TOKENS.items()},
               **{f"{tenant} bearer token": bearer for tenant, bearer in bearers.items()}}
    places = {"tool results": "\n".join(outputs), "server log": log.read_text(),
              "audit log": scan(tmp_path / "audit.sqlite3"), "vault": scan(vault_db)}
    assert len(places["server log"]) > 1000  # DEBUG logging really ran
    leaks = [f"{name} in {place}" for name, secret in secrets.items() for place, text in places.items()
             if secret in text]
    assert leaks == []
