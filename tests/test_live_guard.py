"""The live-money guard: kill switch, elicitation, the confirm argument — and nothing sent unless all agree."""

from __future__ import annotations

import os

import httpx
import jwt
import pytest
from fastmcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitResult

from qcmcp.config import load_settings
from qcmcp.security.live_guard import live_trading_enabled
from qcmcp.security.scopes import ROLES
from qcmcp.server import build_server
from qcmcp.security.audit import AuditLog
from tests.conftest import Recorder
from tests.test_audit import BROKERAGE
from tests.test_security import SECRET, claims, start

DEPLOY = {"versionId": "-1", "projectId": 42, "compileId": "c", "nodeId": "n",
          "brokerage": {**BROKERAGE, "ib-password": "PW-GUARD-7"}}
OK = {"success": True}


def client_for(settings, *, shared: bool = False, elicitation_handler=None, mode: str = "auto") -> Client:
    recorder = Recorder(lambda request: httpx.Response(200, json=OK))
    client = Client(build_server(settings, transport=recorder.transport, shared=shared),
                    elicitation_handler=elicitation_handler, mode=mode)
    client.recorder = recorder  # type: ignore[attr-defined]
    return client


@pytest.mark.parametrize(("setting", "shared", "enabled"), [
    ("auto", False, True), ("auto", True, False), ("on", True, True), ("off", False, False)])
def test_the_switch_defaults_off_only_in_shared_mode(setting, shared, enabled):
    assert live_trading_enabled(load_settings(QCMCP_LIVE_TRADING=setting), shared) is enabled


async def test_without_elicitation_confirm_must_repeat_the_project(settings):
    client = client_for(settings)
    async with client:
        missing = await client.call_tool("create_live_algorithm", DEPLOY, raise_on_error=False)
        assert missing.is_error and "confirm set to the projectId (42)" in missing.content[0].text
        wrong = await client.call_tool("create_live_algorithm", {**DEPLOY, "confirm": "41"}, raise_on_error=False)
        assert wrong.is_error and "does not repeat the projectId" in wrong.content[0].text
        assert client.recorder.requests == []  # nothing reached QuantConnect
        done = await client.call_tool("create_live_algorithm", {**DEPLOY, "confirm": "42"})
        broadcast = await client.call_tool("broadcast_live_command", {"organizationId": "org-1", "command": {"a": 1},
                                                                      "confirm": "org-1"})
    assert not done.is_error and not broadcast.is_error
    bodies = client.recorder.json_bodies()
    assert [body.get("projectId") for body in bodies] == [42, None] and all("confirm" not in b for b in bodies)
    assert "PW-GUARD-7" not in str(done.content)


async def test_the_kill_switch_blocks_even_a_confirmed_call(settings):
    client = client_for(settings.model_copy(update={"live_trading": "off"}))
    async with client:
        for name, arguments in [("create_live_algorithm", {**DEPLOY, "confirm": "42"}),
                                ("liquidate_live_algorithm", {"projectId": 42, "confirm": "42"}),
                                ("stop_live_algorithm", {"projectId": 42, "confirm": "42"}),
                                ("authorize_connection", {"brokerage": "alpaca", "confirm": "alpaca"})]:
            refused = await client.call_tool(name, arguments, raise_on_error=False)
            assert refused.is_error and "QCMCP_LIVE_TRADING=off" in refused.content[0].text, name
        # reading live state is not moving money: unaffected
        assert not (await client.call_tool("list_live_algorithms", {}, raise_on_error=False)).is_error
    assert [r.url.path for r in client.recorder.requests] == ["/api/v2/live/list"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 multi-round-trip, and handshake-era push
@pytest.mark.parametrize(("answer", "runs"), [(True, True), (False, False), ("decline", False), ("cancel", False)])
async def test_elicitation_asks_the_user_and_the_confirm_argument_cannot_replace_the_answer(settings, answer, runs,
                                                                                          mode):
    prompts: list[str] = []

    async def user(message, response_type, params, context):
        prompts.append(message)
        if answer in ("decline", "cancel"):
            return ElicitResult(action=answer)
        return answer

    client = client_for(settings, elicitation_handler=user, mode=mode)
    async with client:
        assert (client.protocol_version == "2026-07-28") is (mode == "auto")
        result = await client.call_tool("liquidate_live_algorithm", {"projectId": 42, "confirm": "42"},
                                        raise_on_error=False)
    assert prompts and "liquidate_live_algorithm" in prompts[0] and "projectId 42" in prompts[0]
    assert result.is_error is not runs
    assert len(client.recorder.requests) == (1 if runs else 0)
    outcomes = [row["outcome"] for row in AuditLog(os.environ["QCMCP_AUDIT_DB"]).rows()]
    assert outcomes == (["input_required"] if mode == "auto" else []) + ["ok" if runs else "error"]
    if not runs:
        assert "did not confirm" in result.content[0].text


async def test_shared_deployment_needs_scope_and_the_switch(tmp_path):
    def token(role: str) -> str:
        return jwt.encode(claims(scope=" ".join(sorted(ROLES[role]))), SECRET, "HS256")

    process, url, _ = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET})  # QCMCP_LIVE_TRADING unset: off
    try:
        async with Client(f"{url}/mcp", auth=token("researcher")) as client:
            with pytest.raises(MCPError, match=r"Forbidden \(403\).*qc:live:execute"):  # HTTP 403 insufficient_scope
                await client.call_tool("stop_live_algorithm", {"projectId": 1, "confirm": "1"})
        async with Client(f"{url}/mcp", auth=token("trader")) as client:
            refused = await client.call_tool("stop_live_algorithm", {"projectId": 1, "confirm": "1"},
                                             raise_on_error=False)
            assert "switched off" in refused.content[0].text
    finally:
        process.terminate()
        process.wait(timeout=10)
    rows = AuditLog(tmp_path / "audit.sqlite3").rows()
    assert [(row["tool"], row["outcome"]) for row in rows] == [("stop_live_algorithm", "error")] * 2
    assert "switched off" in rows[-1]["error"]


async def test_an_invalid_live_call_is_refused_before_anyone_is_asked(settings):
    prompts: list[str] = []

    async def user(message, response_type, params, context):
        prompts.append(message)
        return True

    client = client_for(settings, elicitation_handler=user)
    async with client:
        refused = await client.call_tool("create_live_algorithm", {"projectId": 42}, raise_on_error=False)
    assert refused.is_error and "compileId" in refused.content[0].text
    assert prompts == [] and client.recorder.requests == []
