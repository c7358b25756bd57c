"""A bounded schemathesis run over the QuantConnect OpenAPI spec against the sandbox: no 5xx, ever.

Every operation of the spec gets a fixed number of generated requests, valid ones (positive) and
invalid ones (negative), in-process against the ASGI app, authenticated as a registered user. Half of
them carry the ids of real objects (a project with a compiled, completed backtest, an optimization, a
live deployment, an Object Store file), so requests reach the handlers' deeper code rather than
stopping at "not found". Algorithms are never started here: the fuzz app's jail refuses them, as a
shared deployment without bubblewrap does, so the run stays fast and starts no process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from qcmcp.qc.auth import sign
from qcmcp.sandbox.app import create_app
from qcmcp.sandbox.jail import Jail
from qcmcp.sandbox.store import SandboxStore

ROOT = Path(__file__).resolve().parents[1]
SPEC = Path(os.environ.get("QCMCP_SPEC_PATH",
                           ROOT.parent / "shared" / "quantconnect" / "QuantConnect-Platform-2.0.0.yaml"))
USER, TOKEN = "111", "token-one"
# Per operation and generation mode: ~1,400 requests in all. QCMCP_FUZZ_EXAMPLES=200 digs deeper (minutes).
EXAMPLES_PER_MODE = int(os.environ.get("QCMCP_FUZZ_EXAMPLES", "12"))
MAX_RESPONSE_BYTES = 1024 * 1024
# Run destructive operations last, so the others still find the project and its backtests.
LAST = ("/delete", "/abort", "/liquidate", "/stop")


def load_spec() -> dict[str, Any]:
    """The spec with the repairs scripts/generate_models.py makes (the sandbox follows them), plus one more."""
    loader = importlib.util.spec_from_file_location("generate_models", ROOT / "scripts" / "generate_models.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    spec = module.repair(yaml.safe_load(SPEC.read_text(encoding="utf-8")))
    # /optimizations/update, /delete and /abort put "required: true" inside "content", as if it were a media
    # type; schemathesis refuses to load such a requestBody. It belongs one level up.
    for item in spec["paths"].values():
        body = item.get("post", {}).get("requestBody", {})
        if body.get("content", {}).pop("required", None) is not None:
            body["required"] = True
    return spec


async def _setup(store: SandboxStore) -> dict[str, Any]:
    """Real objects for the fuzzed requests to find: built with a real runner, which then stops."""
    app = create_app(store, "http://sb")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb/api/v2/") as http:
        async def call(path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
            content = {"json": body} if "files" not in kwargs else {"data": body}
            response = await http.post(path, headers=sign(USER, TOKEN, int(time.time())), **content, **kwargs)
            answer = response.json()
            assert answer["success"], (path, answer)
            return answer

        org = (await call("account/read"))["organizationId"]
        project = (await call("projects/create", {"name": "Fuzz", "language": "Py"}))["projects"][0]["projectId"]
        compile_id = (await call("compile/create", {"projectId": project}))["compileId"]
        backtest = (await call("backtests/create", {"projectId": project, "compileId": compile_id,
                                                    "backtestName": "fuzz"}))["backtest"]["backtestId"]
        optimization = (await call("optimizations/create", {
            "projectId": project, "compileId": compile_id, "name": "fuzz", "nodeType": "O2-8", "parallelNodes": 1,
            "target": "TotalPerformance.PortfolioStatistics.SharpeRatio", "targetTo": "max", "estimatedCost": 0,
            "strategy": "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy", "constraints": [],
            "parameters": [{"name": "fast", "min": 10, "max": 10, "step": 1}]}))["optimizations"][0]["optimizationId"]
        await call("object/set", {"organizationId": org, "key": "fuzz/data.json"},
                   files={"objectData": ("data.json", b'{"a": 1}')})
        await call("projects/collaboration/create", {"projectId": project, "collaboratorUserId": "222",
                                                     "collaborationLiveControl": True, "collaborationWrite": True})
    for row in store.query("SELECT backtest_id FROM backtests"):
        app.state.runner.wait(row["backtest_id"], 120)
    app.state.runner.close()
    result = json.loads(store.one("SELECT result FROM backtests WHERE backtest_id = ?", backtest)["result"])
    # A stopped paper deployment whose snapshot is the backtest's: live reads find charts, orders and logs,
    # and nothing needs a running worker.
    deploy = "L-fuzz"
    snapshot = {"charts": result["charts"], "orders": result["orders"], "insights": [], "logs": ["fuzz log line"],
                "runtimeStatistics": result["runtimeStatistics"], "portfolio": {"holdings": {}, "cash": {}}}
    with store.transaction() as db:
        db.execute("INSERT INTO live_deployments (deploy_id, project_id, compile_id, org_id, status, launched, "
                   "stopped, snapshot) VALUES (?, ?, ?, ?, 'Stopped', '2026-01-01 00:00:00', '2026-01-01 00:00:01', ?)",
                   (deploy, project, compile_id, org, json.dumps(snapshot)))
    return {"projectId": project, "compileId": compile_id, "backtestId": backtest, "optimizationId": optimization,
            "organizationId": org, "algorithmId": deploy, "deployId": deploy, "collaboratorUserId": "222",
            "collaboratorId": "222", "key": "fuzz/data.json", "keys": ["fuzz/data.json"]}


def _real_ids(path: str, body: Any, known: dict[str, Any]) -> None:
    """Point a generated body at the real objects (in place), keeping every other generated value."""
    if not isinstance(body, dict):
        return
    for field in set(body) & set(known):
        body[field] = known[field]
    if "name" in body and path.startswith("/files/"):
        body["name"] = "main.py"
    if "name" in body and "chart" in path:
        body["name"] = "Strategy Equity"


@pytest.fixture
def spec() -> dict[str, Any]:
    if not SPEC.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must fuzz the sandbox, but the OpenAPI spec {SPEC} is missing.")
        pytest.skip(f"the OpenAPI spec is not beside the repository ({SPEC.name} missing from ../shared/quantconnect)")
    return load_spec()


def test_no_request_makes_the_sandbox_fail(spec, tmp_path):
    store = SandboxStore(tmp_path / "fuzz.sqlite3")
    store.register_user(USER, TOKEN)
    store.register_user("222", "token-two")
    import asyncio

    known = asyncio.run(_setup(store))
    refusing = Jail(None, required=True, reason="the fuzz run starts no algorithm")
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = create_app(store, "http://sb", jail=refusing)
    schema.config.update(base_url="http://sb/api/v2")
    # Every request is signed below; generated (and deliberately broken) auth headers would only test the 401.
    schema.config.generation.update(with_security_parameters=False)

    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (op.path.endswith(LAST), op.path))
    failures: list[str] = []
    sent = 0
    started = time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            counter = iter(range(10**9))

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_MODE, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def fuzz(case: schemathesis.Case) -> None:
                nonlocal sent
                if next(counter) % 2:
                    _real_ids(operation.path, case.body, known)
                response = case.call(headers=sign(USER, TOKEN, int(time.time())))
                sent += 1
                problem = None
                if response.status_code >= 500:
                    problem = f"HTTP {response.status_code}"
                elif len(response.content) > MAX_RESPONSE_BYTES:
                    problem = f"{len(response.content)} bytes"
                if problem:
                    failures.append(f"{operation.path} ({mode.value}): {problem} for body "
                                    f"{str(case.body)[:300]!r}: {response.text[:300]}")

            try:
                fuzz()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, f"{operation.path}: no valid request could be generated"
                # Nothing to break: the operation takes no body (e.g. /account/read).
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:30])
    assert sent > 10 * len(operations), f"only {sent} requests were sent"
    print(f"fuzzed {len(operations)} operations with {sent} requests in {elapsed:.1f} s")
