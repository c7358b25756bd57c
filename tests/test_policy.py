"""The agent policy file: strict parsing with line numbers, strictest-wins rules, enforcement, live reload."""

from __future__ import annotations

import os
import subprocess
import textwrap

import httpx
import jwt
import pytest
from fastmcp import Client

from qcmcp.caller import Caller
from qcmcp.config import ConfigurationError
from qcmcp.security.policy import PolicyError, PolicyFile, parse_policy
from qcmcp.security.scopes import ROLES
from qcmcp.server import build_server
from tests.conftest import Recorder
from tests.test_security import QCMCP, SECRET, claims, start


def policy_text(body: str) -> str:
    return textwrap.dedent(body).lstrip()


@pytest.mark.parametrize(("body", "line", "words"), [
    ("subjects:\n  bot:\n    deny_tool: [create_project]\n", 3, "Extra inputs are not permitted"),
    ("defaults:\n  allow_tools:\n    - read_*\n    - launch_rockets\n", 4, "matches no tool"),
    ("roles:\n  superuser: {}\n", 1, "unknown role(s) superuser"),
    ("subjects:\n  bot:\n    qcc_per_day: -5\n", 3, "greater than or equal to 0"),
    ("tenants:\n  acme:\n    projects: [1, two]\n", 3, "valid integer"),
    ("defaults:\n  deny_tools: [create_project\n", 3, "not valid YAML"),
    ("- just\n- a list\n", 1, "must be a mapping"),
])
def test_invalid_policies_are_rejected_naming_the_line(body, line, words):
    with pytest.raises(PolicyError) as failure:
        parse_policy(body, "policy.yaml")
    message = str(failure.value)
    assert f"line {line}" in message and words in message, message


def test_rules_combine_strictest_wins():
    policy = parse_policy(policy_text("""
        defaults:
          deny_tools: [delete_*]
          qcc_per_day: 100
        roles:
          researcher:
            allow_tools: [read_*, list_*, create_backtest, delete_backtest]
            projects: [1, 2, 3]
        tenants:
          acme:
            live_trading: false
        subjects:
          bot-7:
            projects: [2, 3, 4]
            qcc_per_day: 20
    """))
    rules = policy.effective(Caller("bot-7", "acme", "researcher"))
    assert rules.tool_allowed("read_project") and rules.tool_allowed("create_backtest")
    assert not rules.tool_allowed("delete_backtest")  # denied by defaults although the role allows it
    assert not rules.tool_allowed("create_project")  # outside the role's allow-list
    assert rules.projects == {2, 3} and rules.qcc_per_day == 20 and rules.live_trading is False
    other = policy.effective(Caller("someone", "globex", "admin"))
    assert other.tool_allowed("create_project") and other.projects is None and other.qcc_per_day == 100
    assert other.live_trading is True


OK_ANSWER = {"success": True, "optimizations": [], "projects": [], "live": []}
OPTIMIZATION = {"projectId": 5, "name": "o", "target": "TotalPerformance.PortfolioStatistics.SharpeRatio",
                "targetTo": "max", "strategy": "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy",
                "compileId": "c", "parameters": [{"name": "p", "min": 1, "max": 2, "step": 1}],
                "nodeType": "O2-8", "parallelNodes": 1}


def local_client(settings, policy_path) -> Client:
    recorder = Recorder(lambda request: httpx.Response(200, json=OK_ANSWER))
    server = build_server(settings.model_copy(update={"policy_file": str(policy_path),
                                                      "organization_id": "org-home"}), transport=recorder.transport)
    client = Client(server)
    client.recorder = recorder  # type: ignore[attr-defined]
    return client


async def test_policy_is_enforced_and_reloaded_without_restart(settings, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(policy_text("""
        subjects:
          local:
            deny_tools: [delete_*]
            projects: [5]
            organizations: [org-home]
            qcc_per_day: 50
            live_trading: false
    """))
    client = local_client(settings, path)
    async with client:
        names = {tool.name for tool in await client.list_tools()}
        assert "delete_project" not in names and "read_project" in names
        denied = await client.call_tool("delete_project", {"projectId": 5}, raise_on_error=False)
        assert denied.is_error and "Forbidden by policy (403)" in denied.content[0].text
        other = await client.call_tool("read_project", {"projectId": 6}, raise_on_error=False)
        assert other.is_error and "only work on projects 5" in other.content[0].text
        assert not (await client.call_tool("read_project", {"projectId": 5}, raise_on_error=False)).is_error
        elsewhere = await client.call_tool("list_object_store_files", {"organizationId": "org-x"}, raise_on_error=False)
        assert elsewhere.is_error and "organization" in elsewhere.content[0].text
        at_home = await client.call_tool("list_object_store_files", {}, raise_on_error=False)  # default org-home
        assert not at_home.is_error, at_home.content[0].text
        live = await client.call_tool("stop_live_algorithm", {"projectId": 5, "confirm": "5"}, raise_on_error=False)
        assert live.is_error and "live trading is forbidden" in live.content[0].text

        first = await client.call_tool("create_optimization", {**OPTIMIZATION, "estimatedCost": 30},
                                       raise_on_error=False)
        assert not first.is_error, first.content[0].text
        over = await client.call_tool("create_optimization", {**OPTIMIZATION, "estimatedCost": 30},
                                      raise_on_error=False)
        assert over.is_error and "committed 30 of its 50 QCC" in over.content[0].text
        assert not (await client.call_tool("create_optimization", {**OPTIMIZATION, "estimatedCost": 20},
                                           raise_on_error=False)).is_error
        sent = [r.url.path for r in client.recorder.requests]
        assert sent.count("/api/v2/optimizations/create") == 2 and "/api/v2/projects/delete" not in sent
        assert "/api/v2/live/update/stop" not in sent

        # Edit the file: the next call sees the new rules, no restart.
        path.write_text("subjects:\n  local:\n    deny_tools: [read_project]\n")
        os.utime(path, ns=(1, 1))  # a different stamp even on coarse clocks
        assert (await client.call_tool("read_project", {"projectId": 5}, raise_on_error=False)).is_error
        assert not (await client.call_tool("delete_project", {"projectId": 5}, raise_on_error=False)).is_error

        # A broken edit is rejected; the last good policy stays in force.
        path.write_text("subjects:\n  local:\n    deny_tools: [read_projectz]\n")
        os.utime(path, ns=(2, 2))
        assert (await client.call_tool("read_project", {"projectId": 5}, raise_on_error=False)).is_error


def test_a_broken_policy_stops_start_up(settings, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("defaults:\n  deny_tool: []\n")
    with pytest.raises(ConfigurationError, match="line 2"):
        build_server(settings.model_copy(update={"policy_file": str(path)}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env.update(QCMCP_POLICY_FILE=str(path), QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"),
               QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    served = subprocess.run([QCMCP, "serve"], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert served.returncode == 2 and "line 2" in served.stderr and "Traceback" not in served.stderr


def test_reload_keeps_the_last_good_policy_and_says_why(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("defaults:\n  deny_tools: [delete_*]\n")
    watched = PolicyFile(path)
    path.write_text("defaults:\n  deny_tools: [delete_*\n")
    os.utime(path, ns=(3, 3))
    assert not watched.current().effective(Caller("a", None, None)).tool_allowed("delete_project")
    assert watched.last_error and "line" in watched.last_error


@pytest.mark.e2e
async def test_per_role_and_per_subject_rules_over_http(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(policy_text("""
        roles:
          researcher:
            deny_tools: [delete_*]
        subjects:
          bot-9:
            allow_tools: [list_*, read_account]
    """))
    process, url, _ = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET, "QCMCP_POLICY_FILE": str(path)})

    def token(sub: str, role: str, with_role_claim: bool = True) -> str:
        extra = {"role": role} if with_role_claim else {}
        return jwt.encode(claims(sub=sub, scope=" ".join(sorted(ROLES[role])), **extra), SECRET, "HS256")

    try:
        async with Client(f"{url}/mcp", auth=token("bot-1", "researcher")) as client:
            names = {tool.name for tool in await client.list_tools()}
            assert "create_project" in names and "delete_project" not in names
        async with Client(f"{url}/mcp", auth=token("bot-2", "researcher", with_role_claim=False)) as client:
            assert "delete_project" not in {tool.name for tool in await client.list_tools()}  # role from scopes
        async with Client(f"{url}/mcp", auth=token("bot-9", "admin")) as client:
            names = {tool.name for tool in await client.list_tools()}
            assert names == {n for n in names if n.startswith("list_")} | {"read_account"}
            refused = await client.call_tool("create_project", {"name": "x", "language": "Py"}, raise_on_error=False)
            assert refused.is_error and "Forbidden by policy (403)" in refused.content[0].text
    finally:
        process.terminate()
        process.wait(timeout=10)
