"""Bounded work for every input: whatever a caller sends, the sandbox answers a clear ``success: false``
(or 401) within the limits of ``qcmcp.sandbox.limits``, and never HTTP 500."""

from __future__ import annotations

import json
import time
import tracemalloc
from typing import Any

import httpx
import pytest

from qcmcp.qc.auth import sign
from qcmcp.qc.client import Credentials, QuantConnectClient
from qcmcp.qc.errors import APIError
from qcmcp.sandbox import limits
from qcmcp.sandbox.api import ROUTES, Route
from qcmcp.sandbox.app import create_app
from qcmcp.sandbox.store import SandboxStore

BASE = "http://sb/api/v2"
GRID = "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy"


@pytest.fixture
def store() -> SandboxStore:
    store = SandboxStore(":memory:")
    store.register_user("111", "token-one")
    return store


@pytest.fixture
def transport(store) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(store, "http://sb"))


def client(transport) -> QuantConnectClient:
    return QuantConnectClient(Credentials("111", "token-one"), base_url=BASE, transport=transport, max_retries=0)


async def send(transport, path: str, body: Any = None, *, content: bytes | None = None,
               headers: dict[str, Any] | None = None, signed: bool = True) -> httpx.Response:
    """POST ``body`` as JSON (or raw ``content``) and return the response, whatever its status."""
    sent = {**(sign("111", "token-one", int(time.time())) if signed else {}), **(headers or {})}
    if content is None:
        content = json.dumps(body).encode()
        sent.setdefault("content-type", "application/json")
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as http:
        return await http.post(path.lstrip("/"), content=content, headers=sent)


async def refused(transport, path: str, body: Any = None, **kwargs: Any) -> str:
    """The error of a request the sandbox must refuse with HTTP 200 and ``success: false``."""
    response = await send(transport, path, body, **kwargs)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["success"] is False and answer["sandbox"] is True, answer
    return answer["errors"][0]


async def new_project(transport, name: str = "Bounds") -> int:
    response = await send(transport, "/projects/create", {"name": name, "language": "Py"})
    return response.json()["projects"][0]["projectId"]


def estimate(project_id: int, *parameters: dict[str, Any]) -> dict[str, Any]:
    return {"projectId": project_id, "name": "opt", "target": "TotalPerformance.PortfolioStatistics.SharpeRatio",
            "targetTo": "max", "strategy": GRID, "parameters": list(parameters)}


async def test_a_huge_grid_is_counted_not_built(transport):
    """3e6 steps once took 1.4 GB; now the grid's size is arithmetic and the refusal names the parameter."""
    project = await new_project(transport)
    tracemalloc.start()
    try:
        error = await refused(transport, "/optimizations/estimate",
                              estimate(project, {"name": "rsi", "min": 0, "max": 3_000_000, "step": 1}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"{peak} bytes for a refused estimate"
    assert "'rsi' has 3,000,001 values" in error and "at most 500" in error
    # Far beyond any list: 2e631 points, refused just as fast.
    error = await refused(transport, "/optimizations/estimate",
                          estimate(project, {"name": "x", "min": 0, "max": 1e308, "step": 5e-324}))
    assert "'x' has 2.000E+631 values" in error
    # Each axis is small; the product is not, and both parameters are named.
    error = await refused(transport, "/optimizations/estimate",
                          estimate(project, {"name": "fast", "min": 1, "max": 30, "step": 1},
                                   {"name": "slow", "min": 1, "max": 30, "step": 1}))
    assert "'fast' has 30 values" in error and "'slow' has 30 values" in error
    ok = await send(transport, "/optimizations/estimate", estimate(project, {"name": "a", "min": 0.1, "max": 0.3,
                                                                             "step": 0.1}))
    assert ok.json()["success"] is True


async def test_grid_parameters_must_make_sense(transport):
    project = await new_project(transport)
    assert "at least one parameter" in await refused(transport, "/optimizations/estimate", estimate(project))
    error = await refused(transport, "/optimizations/estimate", estimate(project, {"name": "a", "min": 0, "max": 1,
                                                                                   "step": 0}))
    assert "'a' needs a positive step" in error
    body = json.dumps(estimate(project, {"name": "a", "min": 0, "max": 1, "step": 424242})).replace("424242", "1e999")
    error = await refused(transport, "/optimizations/estimate", content=body.encode())
    assert "Invalid field 'parameters.0.step': numbers must be finite" in error


async def test_create_refuses_a_huge_grid_before_recording_anything(transport, store):
    project = await new_project(transport)
    compile_id = (await send(transport, "/compile/create", {"projectId": project})).json()["compileId"]
    body = {**estimate(project, {"name": "a", "min": 0, "max": 3_000_000, "step": 1}), "compileId": compile_id,
            "estimatedCost": 0, "nodeType": "O2-8", "parallelNodes": 1}
    assert "at most 500" in await refused(transport, "/optimizations/create", body)
    assert store.query("SELECT * FROM optimizations") == [] and store.query("SELECT * FROM backtests") == []


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64 + 5])
async def test_integers_sqlite_cannot_hold_are_refused_by_name(transport, value):
    error = await refused(transport, "/projects/read", {"projectId": value})
    assert error.startswith("Invalid field 'projectId'") and "64-bit integer range" in error
    error = await refused(transport, "/optimizations/estimate",
                          estimate(1, {"name": "a", "min": value, "max": 1, "step": 1}))
    assert "Invalid field 'parameters.0.min'" in error


async def test_the_largest_64_bit_id_is_just_not_found(transport):
    assert "not found" in await refused(transport, "/projects/read", {"projectId": 2**63 - 1})


@pytest.mark.parametrize("path", ["/ai/tools/syntax-check", "/ai/tools/pep8-convert", "/ai/tools/backtest-init"])
@pytest.mark.parametrize(("files", "expected"), [
    ([{"content": ""}], "files.0 needs a non-empty 'name'"),
    ([{"name": ""}], "files.0 needs a non-empty 'name'"),
    ([{"name": "   ", "content": "x = 1"}], "files.0 needs a non-empty 'name'"),
    ([{"name": None}], "Field 'files.0.name' cannot be null"),
    ([{"name": "main.py", "content": 5}], "Invalid field 'files.0.content'"),
    ([{"name": "main.py", "content": None}], "Field 'files.0.content' cannot be null"),
    ([{"name": "../main.py"}], "Invalid file name"),
    ([{"name": "main.py"}, {"name": "main.py"}], "listed twice"),
])
async def test_ai_tool_files_need_names_and_text(transport, path, files, expected):
    body = {"files": files} if path.endswith("pep8-convert") else {"language": "Py", "files": files}
    assert expected in await refused(transport, path, body)


async def test_pep8_conversion_is_bounded(transport):
    half = "x=1\n" * (limits.MAX_PEP8_CHARS // 8 + 1)  # each file is within the file size cap, both are not
    files = [{"name": "main.py", "content": half}, {"name": "other.py", "content": half}]
    error = await refused(transport, "/ai/tools/pep8-convert", {"files": files})
    assert f"a PEP8 conversion takes at most {limits.MAX_PEP8_CHARS}" in error


async def test_pep8_formatting_has_a_deadline(transport, monkeypatch):
    """autopep8 takes seconds over 190 nested brackets and minutes over 400: it runs in a process with a deadline."""
    monkeypatch.setattr("qcmcp.sandbox.assistant.PEP8_SECONDS", 0.5)
    nested = "x = " + "(\n" * 190 + "1" + ")\n" * 190
    started = time.monotonic()
    error = await refused(transport, "/ai/tools/pep8-convert", {"files": [{"name": "main.py", "content": nested}]})
    assert "did not finish within 0.5 s" in error and time.monotonic() - started < 5
    monkeypatch.setattr("qcmcp.sandbox.assistant.PEP8_SECONDS", 30.0)
    response = await send(transport, "/ai/tools/pep8-convert", {"files": [
        {"name": "main.py", "content": "class A(QCAlgorithm):\n  def Initialize(self):\n    self.SetCash(1)\n"},
        {"name": "notes.txt", "content": "SetCash stays"}]})
    assert response.json()["payload"] == {"main.py": "class A(QCAlgorithm):\n    def initialize(self):\n"
                                                     "        self.set_cash(1)\n", "notes.txt": "SetCash stays"}


@pytest.mark.parametrize("source", ["x = 1" + " + 1" * 50_000, "x = " + "-" * 200_000 + "1",
                                    "x = " + "not " * 60_000 + "1"])
async def test_code_too_deep_to_parse_is_a_build_error(transport, source):
    response = await send(transport, "/ai/tools/syntax-check", {"language": "Py",
                                                                 "files": [{"name": "main.py", "content": source}]})
    assert response.status_code == 200 and "nests too deeply to compile" in response.json()["payload"][0]


@pytest.mark.parametrize(("content_type", "content", "expected"), [
    ("multipart/form-data", b"--x\r\n", "Missing boundary"),
    ("multipart/form-data; boundary=xyz", b"garbage", "could not be read"),
    (None, b"garbage", "takes a form"),
    ("application/json", b'{"organizationId": "o", "key": "k"}', "takes a form, not application/json"),
])
async def test_object_set_explains_the_multipart_form(transport, content_type, content, expected):
    headers = {"content-type": content_type} if content_type else {}
    error = await refused(transport, "/object/set", content=content, headers=headers)
    assert expected in error and "multipart/form-data (with its boundary)" in error


async def test_object_set_takes_the_data_as_a_plain_form_field_too(transport):
    qc = client(transport)
    org = (await qc.post("/account/read", idempotent=True))["organizationId"]
    await qc.post("/object/set", {"organizationId": org, "key": "a.txt", "objectData": "hello"}, files={},
                  idempotent=True)
    await qc.post("/object/set", {"organizationId": org, "key": "b.txt"}, files={"objectData": ("b", b"bytes")},
                  idempotent=True)
    properties = await qc.post("/object/properties", {"organizationId": org, "key": "a.txt"}, idempotent=True)
    assert properties["metadata"]["size"] == 5 and properties["metadata"]["preview"] == "hello"
    await qc.aclose()


async def test_object_store_sizes_are_capped(transport, monkeypatch):
    qc = client(transport)
    org = (await qc.post("/account/read", idempotent=True))["organizationId"]
    monkeypatch.setattr("qcmcp.sandbox.objects.MAX_OBJECT_BYTES", 10)
    with pytest.raises(APIError, match="at most 10 per key"):
        await qc.post("/object/set", {"organizationId": org, "key": "big"}, files={"objectData": ("b", b"x" * 11)},
                      idempotent=True)
    monkeypatch.setattr("qcmcp.sandbox.objects.MAX_OBJECT_STORE_BYTES", 15)
    await qc.post("/object/set", {"organizationId": org, "key": "one"}, files={"objectData": ("b", b"x" * 10)},
                  idempotent=True)
    with pytest.raises(APIError, match="holds at most 15"):
        await qc.post("/object/set", {"organizationId": org, "key": "two"}, files={"objectData": ("b", b"x" * 10)},
                      idempotent=True)
    await qc.post("/object/set", {"organizationId": org, "key": "one"}, files={"objectData": ("b", b"y" * 10)},
                  idempotent=True)  # replacing a file counts its new size, not both
    monkeypatch.setattr("qcmcp.sandbox.objects.MAX_DOWNLOAD_BYTES", 5)
    with pytest.raises(APIError, match="one download takes at most 5"):
        await qc.post("/object/get", {"organizationId": org, "keys": ["one"]}, idempotent=True)
    await qc.aclose()


async def test_null_is_refused_for_typed_fields(transport, store):
    """``projectId: null`` used to list every project; an optional field is left out, not sent as null."""
    await new_project(transport)
    error = await refused(transport, "/projects/read", {"projectId": None})
    assert error.startswith("Field 'projectId' cannot be null")
    error = await refused(transport, "/backtests/update", {"projectId": 1, "backtestId": "b", "name": None})
    assert "Field 'name' cannot be null" in error
    assert (await send(transport, "/projects/read", {})).json()["projects"]
    # The spec says this one may be null ("If null, all projects will be included").
    org = store.user("111")["org_id"]
    error = await refused(transport, "/live/commands/broadcast", {"organizationId": org, "command": {"x": 1},
                                                                  "excludeProjectId": None})
    assert "No running deployment" in error


async def test_types_are_checked_strictly(transport):
    assert "Invalid field 'projectId'" in await refused(transport, "/projects/read", {"projectId": "1"})
    assert "Invalid field 'projectId'" in await refused(transport, "/projects/read", {"projectId": 1.5})
    assert "Invalid field 'projectId'" in await refused(transport, "/projects/read", {"projectId": True})


@pytest.mark.parametrize(("path", "body", "expected"), [
    ("/backtests/orders/read", {"projectId": 1, "backtestId": "b", "start": -1, "end": 10}, "start must be 0 or more"),
    ("/backtests/orders/read", {"projectId": 1, "backtestId": "b", "start": 5, "end": 5}, "must be less than end"),
    ("/backtests/orders/read", {"projectId": 1, "backtestId": "b", "start": 0, "end": 101}, "At most 100 orders"),
    ("/backtests/read/insights", {"projectId": 1, "backtestId": "b", "start": 0, "end": 2**62}, "At most 100 insights"),
    ("/projects/read", {"start": 0, "end": 101}, "At most 100 projects"),
])
async def test_page_ranges_are_checked_before_anything_is_read(transport, path, body, expected):
    assert expected in await refused(transport, path, body)


async def test_live_page_ranges(transport):
    project = await new_project(transport)
    error = await refused(transport, "/live/orders/read", {"projectId": project, "start": 0, "end": 1001})
    assert "At most 1000 orders" in error
    error = await refused(transport, "/live/logs/read", {"projectId": project, "algorithmId": "L-x", "startLine": 0,
                                                         "endLine": 251})
    assert "At most 250 log lines" in error
    error = await refused(transport, "/live/insights/read", {"projectId": project, "start": 0, "end": 101})
    assert "At most 100 insights" in error  # (without a start the cloud answers the first 100, whatever the end)


async def test_sizes_and_counts_are_capped(transport, monkeypatch):
    project = await new_project(transport)
    error = await refused(transport, "/projects/create", {"name": "n" * 256, "language": "Py"})
    assert "at most 255" in error and "project name" in error
    error = await refused(transport, "/files/create", {"projectId": project, "name": "a" * 300 + ".py"})
    assert "at most 255" in error and "file name" in error
    error = await refused(transport, "/files/create", {"projectId": project, "name": "big.py",
                                                       "content": "x" * (limits.MAX_FILE_CHARS + 1)})
    assert f"at most {limits.MAX_FILE_CHARS} characters" in error
    error = await refused(transport, "/projects/update", {"projectId": project, "description": "d" * 70_000})
    assert f"Invalid field 'description': at most {limits.MAX_STRING_CHARS} characters" in error
    error = await refused(transport, "/projects/nodes/update", {"projectId": project, "nodes": ["SB-B1"] * 1001})
    assert "Invalid field 'nodes': at most 1000 items" in error
    monkeypatch.setattr("qcmcp.sandbox.files.MAX_PROJECT_FILES", 3)  # main.py, research.ipynb and b.py
    assert (await send(transport, "/files/create", {"projectId": project, "name": "b.py"})).json()["success"]
    error = await refused(transport, "/files/create", {"projectId": project, "name": "c.py"})
    assert "would have 4 files" in error and "at most 3" in error
    monkeypatch.setattr("qcmcp.sandbox.projects.MAX_PROJECTS", 1)
    assert "the most a sandbox organization holds" in await refused(transport, "/projects/create",
                                                                    {"name": "Second", "language": "Py"})


async def test_a_patch_that_moved_is_searched_for_within_a_budget(transport):
    project = await new_project(transport)
    await send(transport, "/files/create", {"projectId": project, "name": "lines.py", "content": "a\n" * 20_000})
    hunk = " a\n" * 2000 + "-b\n+c\n"
    patch = f"--- a/lines.py\n+++ b/lines.py\n@@ -1,2001 +1,2001 @@\n{hunk}"
    started = time.monotonic()
    error = await refused(transport, "/files/patch", {"projectId": project, "patch": patch})
    assert "too large to search" in error and time.monotonic() - started < 10


@pytest.mark.parametrize(("content", "expected"), [
    (b"not json", "The request body must be JSON."),
    (b"[1, 2]", "The request body must be a JSON object."),
    (b'"text"', "The request body must be a JSON object."),
    (b'{"projectId": NaN}', "The request body must be JSON."),
    (b'{"projectId": Infinity}', "The request body must be JSON."),
    (b'{"projectId": 1e999}', "numbers must be finite"),
    (b"\xff\xfe{}", "The request body must be JSON."),
    (b"[" * 100_000, "nests deeper than 32 levels"),
    (b'{"a": ' * 40 + b"1" + b"}" * 40, "nests deeper than 32 levels"),
    (b'{"name": "\\ud800", "language": "Py"}', "lone UTF-16 surrogate"),
    (b'{"projectId": 1' + b"0" * 5000 + b"}", "The request body must be JSON."),
])
async def test_malformed_bodies_are_explained(transport, content, expected):
    assert expected in await refused(transport, "/projects/create", content=content,
                                     headers={"content-type": "application/json"})


async def test_a_body_over_the_cap_is_refused_unread(transport):
    huge = b'{"name": "' + b"x" * limits.MAX_JSON_BODY_BYTES + b'"}'
    error = await refused(transport, "/projects/create", content=huge)
    assert f"at most {limits.MAX_JSON_BODY_BYTES}" in error


async def test_a_form_sent_to_a_json_endpoint_is_explained(transport):
    error = await refused(transport, "/projects/read", content=b"--b\r\nContent-Disposition: form-data\r\n",
                          headers={"content-type": "multipart/form-data; boundary=b"})
    assert error == "The request body must be JSON."


@pytest.mark.parametrize("headers", [
    {"authorization": "Basic \xe9\xe9".encode("latin-1"), "timestamp": "1"},
    {"authorization": "Basic !!!", "timestamp": str(int(time.time()))},
    {"authorization": "Basic MTExOng=", "timestamp": "\xb2".encode("latin-1")},
    {"authorization": "Basic MTExOng=", "timestamp": "9" * 5000},
])
async def test_malformed_authentication_is_a_401(transport, headers):
    response = await send(transport, "/account/read", {}, headers=headers, signed=False)
    assert response.status_code == 401 and response.json()["success"] is False


async def test_error_messages_stay_short_whatever_was_sent(transport):
    error = await refused(transport, "/object/list", {"organizationId": "o" * 60_000})
    assert len(error) < 400 and error.startswith("Organization " + "o" * 80 + "...")
    error = await refused(transport, "/projects/nodes/update", {"projectId": await new_project(transport),
                                                                "nodes": ["x" * 60_000] * 50})
    assert len(error) < 1000
    # Many invalid items: the first few problems are named, then a count.
    error = await refused(transport, "/ai/tools/pep8-convert", {"files": [{"name": i} for i in range(100)]})
    assert "and 92 more problems" in error and len(error) < 1000


async def test_a_genuine_bug_is_still_a_500_without_details(transport, monkeypatch):
    def broken(ctx, body):
        raise RuntimeError("a bug")

    monkeypatch.setitem(ROUTES, "/account/read", Route(broken, None))
    response = await send(transport, "/account/read", {})
    assert response.status_code == 500
    assert response.json()["errors"] == ["The sandbox hit an internal error; see its log."]
