"""Every tool against the sandbox, through a real MCP client session.

Successful answers must be labelled as sandbox and match the published response model;
failures must come back as tool errors carrying the sandbox's explanation.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import httpx
import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from qcmcp.tools.catalog import BY_NAME

SMA = '''from AlgorithmImports import *


class SmaCross(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 1, 1)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.fast = self.sma(self.spy, int(self.get_parameter("fast", 10)))

    def on_data(self, data: Slice):
        if self.fast.is_ready and not self.portfolio.invested:
            self.set_holdings(self.spy, 1)
'''


class Session:
    """A sandbox-backed MCP session with assertion helpers."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(tool, arguments, raise_on_error=False)
        text = result.content[0].text
        assert not result.is_error, f"{tool}: {text}"
        assert text.startswith("[sandbox]"), text
        assert "differs from the published API schema" not in text, f"{tool}: {text}"
        body = result.structured_content
        assert body["sandbox"] is True and body["success"] is True
        BY_NAME[tool].response_model.model_validate(body)
        return body

    async def fails(self, tool: str, fragment: str, **arguments: Any) -> str:
        result = await self.client.call_tool(tool, arguments, raise_on_error=False)
        text = result.content[0].text
        assert result.is_error, f"{tool} unexpectedly succeeded: {text}"
        assert fragment in text, text
        assert "Traceback" not in text
        return text


@pytest.fixture
async def sandbox(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"))
    async with Client(build_server(settings)) as client:
        yield Session(client)


async def new_project(s: Session, name: str = "SMA Cross", language: str = "Py") -> int:
    body = await s.ok("create_project", name=name, language=language)
    return body["projects"][0]["projectId"]


async def test_server_says_it_is_the_sandbox(sandbox):
    assert "SANDBOX" in sandbox.client.instructions
    account = await sandbox.ok("read_account")
    assert account["organizationId"]


async def test_projects(sandbox):
    created = await sandbox.ok("create_project", name="Template", language="Py")
    # As its description promises, the answer carries the template files with their contents.
    assert [f["name"] for f in created["files"]] == ["main.py", "research.ipynb"]
    assert "class Template(QCAlgorithm)" in created["files"][0]["content"] and "content" not in created["files"][1]
    await sandbox.ok("delete_project", projectId=created["projects"][0]["projectId"])
    first = await new_project(sandbox)
    second = await new_project(sandbox, "Other", "C#")
    # Like the cloud, a second project may share a name: it is a new project with its own id.
    twin = (await sandbox.ok("create_project", name="SMA Cross", language="Py"))["projects"][0]["projectId"]
    assert twin not in (first, second)
    await sandbox.ok("delete_project", projectId=twin)
    listed = await sandbox.ok("list_projects")
    assert [p["projectId"] for p in listed["projects"]] == [first, second]
    page = await sandbox.ok("read_project", start=1, end=2)
    assert [p["projectId"] for p in page["projects"]] == [second]
    await sandbox.fails("read_project", "must be less than end", start=2, end=2)
    await sandbox.fails("read_project", "Project 999 not found", projectId=999)
    await sandbox.ok("update_project", projectId=first, name="Renamed", description="Trend following")
    project = (await sandbox.ok("read_project", projectId=first))["projects"][0]
    assert (project["name"], project["description"]) == ("Renamed", "Trend following")
    # ... but, as in the cloud, a project cannot be renamed onto a name in use.
    await sandbox.fails("update_project", "already exists", projectId=first, name="Other")
    await sandbox.ok("delete_project", projectId=second)
    await sandbox.fails("read_project", f"Project {second} not found", projectId=second)


async def test_collaborators_and_lock(sandbox, tmp_path):
    from qcmcp.sandbox.store import SandboxStore

    SandboxStore(tmp_path / "state.sqlite3").register_user("200002", "colleague-token")
    project = await new_project(sandbox)
    added = await sandbox.ok("create_project_collaborator", projectId=project, collaboratorUserId="200002",
                             collaborationLiveControl=False, collaborationWrite=True)
    assert [c["uid"] for c in added["collaborators"]][1:] == [200002]
    read = await sandbox.ok("read_project_collaborators", projectId=project)
    assert read["userPermissions"] == "write" and len(read["collaborators"]) == 2
    updated = await sandbox.ok("update_project_collaborator", projectId=project, collaboratorUserId="200002",
                               liveControl=True, write=False)
    assert updated["collaborators"][1]["permission"] == "read" and updated["collaborators"][1]["liveControl"]
    await sandbox.fails("create_project_collaborator", "No sandbox user has id 31337", projectId=project,
                        collaboratorUserId="31337", collaborationLiveControl=False, collaborationWrite=False)
    await sandbox.ok("delete_project_collaborator", projectId=project, collaboratorId="200002")
    await sandbox.fails("delete_project_collaborator", "is not a collaborator", projectId=project, collaboratorId="200002")
    await sandbox.ok("lock_project_with_collaborators", projectId=project, codeSourceId="MCP Server")


async def test_nodes(sandbox):
    project = await new_project(sandbox)
    nodes = await sandbox.ok("read_project_nodes", projectId=project)
    assert nodes["autoSelectNode"] is True and nodes["nodes"]["live"][0]["id"] == "SB-L1"
    chosen = await sandbox.ok("update_project_nodes", projectId=project, nodes=["SB-B1"])
    assert chosen["autoSelectNode"] is False and chosen["nodes"]["backtest"][0]["active"] is True
    await sandbox.fails("update_project_nodes", "Unknown node id(s) XX", projectId=project, nodes=["XX"])


async def test_files_and_patches(sandbox):
    project = await new_project(sandbox)
    files = await sandbox.ok("read_file", projectId=project)
    # Like the cloud, a new project holds its main file and a research notebook.
    assert [f["name"] for f in files["files"]] == ["main.py", "research.ipynb"]
    notebook = json.loads(files["files"][1]["content"])
    assert notebook["nbformat"] == 4 and "QuantBook()" in "".join(notebook["cells"][0]["source"])
    csharp = await new_project(sandbox, "Sharp", "C#")
    assert [f["name"] for f in (await sandbox.ok("read_file", projectId=csharp))["files"]] == ["Main.cs", "Research.ipynb"]
    # An empty string is refused (the cloud refuses it); leaving content out creates an empty file.
    await sandbox.fails("create_file", "content is empty", projectId=project, name="empty.py", content="")
    await sandbox.ok("create_file", projectId=project, name="empty.py")
    assert (await sandbox.ok("read_file", projectId=project, name="empty.py"))["files"][0]["content"] == ""
    await sandbox.fails("update_file_contents", "content is empty", projectId=project, name="main.py", content="")
    await sandbox.ok("delete_file", projectId=project, name="empty.py")
    await sandbox.ok("create_file", projectId=project, name="alphas/momentum.py", content="LOOKBACK = 10\n")
    await sandbox.fails("create_file", "already exists", projectId=project, name="alphas/momentum.py")
    await sandbox.fails("create_file", "Invalid file name", projectId=project, name="../escape.py")
    await sandbox.fails("read_file", "File 'nope.py' not found", projectId=project, name="nope.py")
    await sandbox.ok("update_file_name", projectId=project, name="alphas/momentum.py", newName="alphas/trend.py")
    await sandbox.fails("update_file_name", "already exists", projectId=project, name="alphas/trend.py", newName="main.py")
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=SMA)
    patch = (
        "diff --git a/main.py b/main.py\nindex 1111111..2222222 100644\n--- a/main.py\n+++ b/main.py\n"
        "@@ -6,3 +6,3 @@ class SmaCross(QCAlgorithm):\n"
        "         self.set_start_date(2020, 1, 1)\n"
        '-        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol\n'
        '+        self.spy = self.add_equity("QQQ", Resolution.DAILY).symbol\n'
        '         self.fast = self.sma(self.spy, int(self.get_parameter("fast", 10)))\n'
    )
    await sandbox.ok("patch_file", projectId=project, patch=patch)
    content = (await sandbox.ok("read_file", projectId=project, name="main.py"))["files"][0]["content"]
    assert 'add_equity("QQQ"' in content and content == SMA.replace('"SPY"', '"QQQ"')
    await sandbox.fails("patch_file", "does not apply to main.py: hunk 1 expects line 7", projectId=project, patch=patch)
    plain = patch.split("--- a/main.py", 1)[1].replace('"SPY"', '"TMP"').replace('"QQQ"', '"SPY"').replace('"TMP"', '"QQQ"')
    await sandbox.ok("patch_file", projectId=project, patch="--- a/main.py" + plain)  # no diff --git / index lines
    assert (await sandbox.ok("read_file", projectId=project, name="main.py"))["files"][0]["content"] == SMA
    await sandbox.ok("patch_file", projectId=project, patch=patch)
    await sandbox.fails("patch_file", "has no valid hunk", projectId=project,
                        patch="--- a/main.py\n+++ b/main.py\n@@ -1,x +1 @@\n")
    await sandbox.fails("patch_file", "not a valid unified diff", projectId=project,
                        patch="--- a/main.py\n+++ b/main.py\n@@ -1,3 +1,3 @@\n-x\n")
    await sandbox.ok("delete_file", projectId=project, name="alphas/trend.py")
    await sandbox.fails("delete_file", "not found", projectId=project, name="alphas/trend.py")


async def test_compile_reports_real_errors(sandbox):
    project = await new_project(sandbox)
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=SMA)
    built = await sandbox.ok("create_compile", projectId=project)
    assert built["state"] == "BuildSuccess"
    assert built["parameters"][0]["parameters"][0]["line"] == 8
    read = await sandbox.ok("read_compile", projectId=project, compileId=built["compileId"])
    assert read["logs"] == ["Build Success."]

    broken = {
        SMA.replace("self.set_start_date(2020, 1, 1)", "self.set_start_date(2020, 1, 1"): "Line: 6",
        SMA.replace("self.fast = self.sma(", "self.sma = self.sma("): "replaces the QCAlgorithm member 'sma'",
        SMA.replace("self.set_holdings(self.spy, 1)", "self.set_holdings(spy, 1)"): "undefined name 'spy'",
        SMA.replace("class SmaCross(QCAlgorithm)", "class SmaCross(object)"): "derives from QCAlgorithm",
    }
    for source, fragment in broken.items():
        await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=source)
        compiled = await sandbox.ok("create_compile", projectId=project)
        assert compiled["state"] == "BuildError"
        logs = (await sandbox.ok("read_compile", projectId=project, compileId=compiled["compileId"]))["logs"]
        assert any(fragment in line and "File: main.py" in line for line in logs), logs
    await sandbox.ok("update_file_name", projectId=project, name="main.py", newName="algo.py")
    compiled = await sandbox.ok("create_compile", projectId=project)
    logs = (await sandbox.ok("read_compile", projectId=project, compileId=compiled["compileId"]))["logs"]
    assert "main.py is missing" in logs[0]
    await sandbox.fails("read_compile", "Compile abc not found", projectId=project, compileId="abc")


async def test_csharp_is_stored_but_not_compiled(sandbox):
    project = await new_project(sandbox, "Sharp", "C#")
    files = await sandbox.ok("read_file", projectId=project)
    assert files["files"][0]["name"] == "Main.cs"
    compiled = await sandbox.ok("create_compile", projectId=project)
    logs = (await sandbox.ok("read_compile", projectId=project, compileId=compiled["compileId"]))["logs"]
    assert compiled["state"] == "BuildError" and "needs the QuantConnect cloud" in logs[0]


async def test_object_store(sandbox):
    org = (await sandbox.ok("read_account"))["organizationId"]
    await sandbox.ok("upload_object", organizationId=org, key="models/weights.json", objectData='{"w": [1, 2]}')
    await sandbox.ok("upload_object", organizationId=org, key="notes.txt", objectData="hello")
    props = (await sandbox.ok("read_object_properties", organizationId=org, key="models/weights.json"))["metadata"]
    assert props["size"] == 13 and props["preview"] == '{"w": [1, 2]}'
    assert props["md5"] == hashlib.md5(b'{"w": [1, 2]}').hexdigest()  # noqa: S324
    await sandbox.fails("read_object_properties", "is a folder", organizationId=org, key="models")
    root = await sandbox.ok("list_object_store_files", organizationId=org, path="/")
    assert {(o["name"], o["folder"]) for o in root["objects"]} == {("models", True), ("notes.txt", False)}
    folder = await sandbox.ok("list_object_store_files", organizationId=org, path="models")
    assert [o["key"] for o in folder["objects"]] == ["models/weights.json"]
    job = await sandbox.ok("read_object_store_file_job_id", organizationId=org, keys=["models/weights.json", "notes.txt"])
    url = (await sandbox.ok("read_object_store_file_download_url", organizationId=org, jobId=job["jobId"]))["url"]
    assert url.endswith(f"/object/download/{job['jobId']}")
    await sandbox.fails("read_object_store_file_download_url", "not found", organizationId=org, jobId="nope")
    await sandbox.fails("read_object_store_file_job_id", "No Object Store file", organizationId=org, keys=["missing"])
    await sandbox.fails("upload_object", "not found or not yours", organizationId="someone-else", key="x", objectData="y")
    await sandbox.ok("delete_object", organizationId=org, key="notes.txt")
    await sandbox.fails("delete_object", "No Object Store file has the key 'notes.txt'", organizationId=org, key="notes.txt")
    # The type comes from the key's extension, else from the content: text is text/plain, as in the cloud.
    await sandbox.ok("upload_object", organizationId=org, key="run_1/child_file", objectData="Hello, world!")
    await sandbox.ok("upload_object", organizationId=org, key="run_1/deeper/grandchild", objectData="Hello, world!")
    props = (await sandbox.ok("read_object_properties", organizationId=org, key="run_1/child_file"))["metadata"]
    assert props["mime"] == "text/plain" and props["md5"] == "6cd3556deb0da54bca060b4c39479839"
    assert (await sandbox.ok("read_object_properties", organizationId=org, key="models/weights.json")
            )["metadata"]["mime"] == "application/json"
    # "_" in a key is a character, not a wildcard: run-1 is not inside run_1.
    await sandbox.ok("upload_object", organizationId=org, key="runX1/kept", objectData="keep me")
    await sandbox.fails("read_object_properties", "No Object Store file", organizationId=org, key="run_1/deep")
    # Deleting a folder deletes everything under it, and nothing else.
    await sandbox.ok("delete_object", organizationId=org, key="run_1")
    remaining = await sandbox.ok("list_object_store_files", organizationId=org, path="/")
    assert {o["name"] for o in remaining["objects"]} == {"models", "runX1"}


def test_object_content_types_are_sniffed_like_the_cloud():
    from qcmcp.sandbox.objects import content_type

    assert content_type("key", b"Hello, world!") == "text/plain"
    assert content_type("chart", b"\x89PNG\r\n\x1a\n" + bytes(8)) == "image/png"
    assert content_type("blob", bytes(range(256))) == "application/octet-stream"
    assert content_type("raw", b"text\x00with a NUL") == "application/octet-stream"
    assert content_type("table.csv", b"\x00\x01") == "text/csv"  # the extension wins


async def test_organization_id_defaults_to_the_sandbox_organization(sandbox):
    await sandbox.ok("upload_object", key="defaults.txt", objectData="x")
    listed = await sandbox.ok("list_object_store_files", path="/")
    assert [o["key"] for o in listed["objects"]] == ["defaults.txt"]


async def test_lean_versions(sandbox):
    versions = await sandbox.ok("read_lean_versions")
    assert "emulator" in versions["versions"][0]["description"]


async def test_ai_helpers(sandbox):
    files = [{"name": "main.py", "content": SMA}]
    assert (await sandbox.ok("check_syntax", language="Py", files=files))["state"] == "End"
    broken = await sandbox.ok("check_syntax", language="Py", files=[{"name": "a.py", "content": "def f(:\n"}])
    assert broken["state"] == "Error" and "a.py Line: 1" in broken["payload"][0]
    converted = await sandbox.ok("update_code_to_pep8", files=[{"name": "main.py", "content": "class A(QCAlgorithm):\n  def Initialize(self):\n    self.SetCash(1000)\n"}])
    assert converted["payload"]["main.py"] == "class A(QCAlgorithm):\n    def initialize(self):\n        self.set_cash(1000)\n"
    completed = await sandbox.ok("complete_code", language="Py", sentence="self.set_hold", responseSizeLimit=3)
    assert completed["payload"] == ["self.set_holdings"]
    explained = await sandbox.ok("enhance_error_message", language="Py",
                                 error={"message": "Build Error File: main.py Line: 3 Column: 1 - undefined name 'SimpleMovingAvrage'"})
    assert "SimpleMovingAverage" in explained["payload"]
    # C# completes QCAlgorithm members without "this." (AddE -> AddEquity), as the cloud's assistant does.
    assert "AddEquity" in (await sandbox.ok("complete_code", language="C#", sentence="AddE"))["payload"]
    assert "self.add_equity" in (await sandbox.ok("complete_code", language="Py", sentence="self.add_e"))["payload"]
    # Common Python and LEAN runtime errors are explained too, with where they were raised.
    lean_error = ("  at initialize\n    self._option = self.add_index_option(\"SPX\", Resolution.MINUTE, \"SPXW\").symbol\n"
                  "    in c1afe80a-e056-4841-b0c1-d9c562cf2bd8.py: line 15\n    The specified market wasn't found in the "
                  "markets lookup. Requested: spxw. You can add markets by calling QuantConnect.Market.Add(string,int)")
    explained = (await sandbox.ok("enhance_error_message", language="Py", error={"message": lean_error}))["payload"]
    assert "'spxw' is not a market LEAN knows" in explained and "line 15" in explained
    key_error = await sandbox.ok("enhance_error_message", language="Py", error={
        "message": "KeyError: 'SPY'", "stacktrace": "  at on_data in main.py: line 12"})
    assert "contains_key('SPY')" in key_error["payload"] and "main.py at line 12" in key_error["payload"]
    other = await sandbox.ok("enhance_error_message", language="Py", error={"message": "OverflowError: math range error"})
    assert "OverflowError" in other["payload"] and "math range error" in other["payload"]
    await sandbox.fails("enhance_error_message", "error.message", language="Py", error={"message": "  "})
    await sandbox.fails("search_quantconnect", "needs the QuantConnect cloud", language="Py",
                        criteria=[{"input": "options", "type": "Docs", "count": 1}])
    await sandbox.fails("check_syntax", "handles Python only", language="C#", files=[{"name": "Main.cs", "content": ""}])
    ok = await sandbox.ok("check_initialization_errors", language="Py", files=files)
    assert ok["state"] == "End"
    bad_init = [{"name": "main.py", "content": SMA.replace("self.set_start_date(2020, 1, 1)", "self.set_start_date(2020, 13, 1)")}]
    failed = await sandbox.ok("check_initialization_errors", language="Py", files=bad_init)
    assert failed["state"] == "Error" and "month must be in 1..12" in failed["payload"] and "main.py: line 6" in failed["payload"]
    unbuildable = await sandbox.ok("check_initialization_errors", language="Py", files=[{"name": "main.py", "content": "x = ("}])
    assert unbuildable["state"] == "Error" and "SyntaxError" in unbuildable["payload"]


async def test_live_reads_without_a_deployment_say_so(sandbox):
    project = await new_project(sandbox)
    await sandbox.fails("read_live_algorithm", "has no live deployment", projectId=project)


async def wait_for(sandbox: Session, project: int, backtest: str) -> dict[str, Any]:
    import asyncio

    for _ in range(300):
        body = await sandbox.ok("read_backtest", projectId=project, backtestId=backtest)
        # Only the statuses the official models accept; a running backtest's progress is in `progress`.
        assert body["backtest"]["status"] in ("Completed.", "In Queue...", "Runtime Error"), body["backtest"]["status"]
        if body["backtest"]["status"] in ("Completed.", "Runtime Error"):
            assert body["backtest"]["completed"]  # a runtime error is finished too: pollers stop
            return body["backtest"]
        assert not body["backtest"]["completed"]
        await asyncio.sleep(0.1)
    raise AssertionError("the backtest did not finish")


async def test_backtests_run_the_algorithm(sandbox):
    project = await new_project(sandbox)
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=SMA)
    compile_id = (await sandbox.ok("create_compile", projectId=project))["compileId"]
    created = await sandbox.ok("create_backtest", projectId=project, compileId=compile_id, backtestName="fast 5",
                               parameters={"fast": 5})
    backtest = await wait_for(sandbox, project, created["backtest"]["backtestId"])
    assert backtest["status"] == "Completed." and backtest["parameterSet"] == {"fast": 5}  # typed, as sent
    assert backtest["syntheticData"] == ["SPY"] and "SYNTHETIC DATA" in backtest["notes"][0]
    assert backtest["dataSource"]["securities"]["SPY"]["prices"].startswith("synthetic")  # source and normalisation
    assert int(backtest["statistics"]["Total Orders"]) >= 1 and set(backtest["charts"]) >= {"Strategy Equity", "Drawdown", "Benchmark"}
    bid = backtest["backtestId"]
    orders = await sandbox.ok("read_backtest_orders", projectId=project, backtestId=bid, start=0, end=5)
    assert orders["orders"][0]["symbol"]["value"] == "SPY" and orders["length"] >= 1
    await sandbox.fails("read_backtest_orders", "must be less than end", projectId=project, backtestId=bid, start=5, end=5)
    chart = await sandbox.ok("read_backtest_chart", projectId=project, backtestId=bid, name="Strategy Equity", count=20,
                             start=0, end=2_000_000_000)
    assert len(chart["chart"]["series"]["Equity"]["values"]) == 20
    await sandbox.fails("read_backtest_chart", "Chart 'Nope' not found", projectId=project, backtestId=bid, name="Nope",
                        count=5, start=0, end=2_000_000_000)
    # The cloud's default charts, computed from the run (LEAN's definitions; capacity is the sandbox's estimate).
    assert set(backtest["charts"]) >= {"Strategy Equity", "Capacity", "Drawdown", "Benchmark", "Exposure",
                                       "Assets Sales Volume", "Portfolio Turnover", "Portfolio Margin"}

    async def series(name: str) -> dict[str, Any]:
        read = await sandbox.ok("read_backtest_chart", projectId=project, backtestId=bid, name=name, count=1000,
                                start=0, end=2_000_000_000)
        return {key: [v[1] for v in s["values"]] for key, s in read["chart"]["series"].items()}

    all_orders = (await sandbox.ok("read_backtest_orders", projectId=project, backtestId=bid, start=0, end=100))["orders"]
    traded = sum(abs(o["quantity"] * o["price"]) for o in all_orders)
    assert (await series("Assets Sales Volume"))["SPY"][-1] == pytest.approx(traded, abs=0.01)
    long_ratio = (await series("Exposure"))["Equity - Long Ratio"]
    assert long_ratio[0] == 0 and 0.95 < long_ratio[-1] <= 1.0  # all in SPY after the first order
    assert 45 < (await series("Portfolio Margin"))["SPY"][-1] <= 50  # SPY at leverage 2: half the equity as margin
    assert 95 < max((await series("Portfolio Turnover"))["Portfolio Turnover"]) <= 100  # the buy, in % of equity
    assert min((await series("Capacity"))["Strategy Capacity"]) > 0
    listed = await sandbox.ok("list_backtests", projectId=project, includeStatistics=True)
    assert listed["backtests"][0]["sharpeRatio"] is not None
    report = (await sandbox.ok("read_backtest_report", projectId=project, backtestId=bid))["report"]
    assert report.startswith("<!DOCTYPE html>") and report.count('src="data:image/png;base64,') == 2
    assert backtest["statistics"]["Sharpe Ratio"] in report and "not QuantConnect LEAN" in report
    await sandbox.ok("update_backtest", projectId=project, backtestId=bid, name="renamed", note="fast=5")
    await sandbox.ok("read_backtest_insights", projectId=project, backtestId=bid, start=0, end=10)
    await sandbox.ok("delete_backtest", projectId=project, backtestId=bid)
    await sandbox.fails("read_backtest", f"Backtest {bid} not found", projectId=project, backtestId=bid)


async def test_backtest_runtime_errors_and_bad_compiles(sandbox):
    project = await new_project(sandbox)
    failing = SMA.replace("self.set_holdings(self.spy, 1)", "raise RuntimeError('strategy exploded')")
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=failing)
    compile_id = (await sandbox.ok("create_compile", projectId=project))["compileId"]
    created = await sandbox.ok("create_backtest", projectId=project, compileId=compile_id, backtestName="boom")
    backtest = await wait_for(sandbox, project, created["backtest"]["backtestId"])
    assert backtest["status"] == "Runtime Error" and backtest["error"] == "RuntimeError: strategy exploded"
    assert "main.py: line 12" in backtest["stacktrace"] and not backtest["hasInitializeError"]
    await sandbox.ok("update_file_contents", projectId=project, name="main.py", content=SMA.replace("self.fast =", "self.fast ="
                                                                                                  " undefined_name +"))
    broken = (await sandbox.ok("create_compile", projectId=project))["compileId"]
    await sandbox.fails("create_backtest", "failed (BuildError)", projectId=project, compileId=broken, backtestName="x")
    await sandbox.fails("create_backtest", "Compile nope not found", projectId=project, compileId="nope", backtestName="x")


GRID = "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy"
SHARPE = "TotalPerformance.PortfolioStatistics.SharpeRatio"


async def test_optimizations_run_a_grid_of_real_backtests(sandbox):
    import asyncio

    project = await new_project(sandbox)
    await sandbox.ok("update_file_contents", projectId=project, name="main.py",
                     content=SMA.replace('self.set_start_date(2020, 1, 1)', 'self.set_start_date(2020, 1, 1)\n        self.set_end_date(2020, 6, 30)'))
    compile_id = (await sandbox.ok("create_compile", projectId=project))["compileId"]
    parameters = [{"name": "fast", "min": 5, "max": 15, "step": 5}]
    estimate = await sandbox.ok("estimate_optimization_time", projectId=project, name="o", target=SHARPE, targetTo="max",
                                strategy=GRID, parameters=parameters)
    assert estimate["estimate"]["time"] >= 1
    # Cost and units stated: the sandbox bills nothing, and its balance is a sandbox credit, named as such.
    assert estimate["estimate"]["estimatedCost"] == 0 and "Sandbox credit, not QCC" in estimate["estimate"]["note"]
    assert (await sandbox.ok("read_account"))["creditBalance"] == estimate["estimate"]["balance"]
    text = (await sandbox.client.call_tool("estimate_optimization_time", {
        "projectId": project, "name": "o", "target": SHARPE, "targetTo": "max", "strategy": GRID,
        "parameters": parameters})).content[0].text
    assert "seconds to run; estimated cost 0 QCC" in text
    await sandbox.fails("create_optimization", "positive step", projectId=project, name="bad", target=SHARPE, targetTo="max",
                        strategy=GRID, compileId=compile_id, parameters=[{"name": "fast", "min": 5, "max": 15, "step": 0}],
                        estimatedCost=1, nodeType="O2-8", parallelNodes=2)
    created = await sandbox.ok("create_optimization", projectId=project, name="fast sweep", target=SHARPE, targetTo="max",
                               strategy=GRID, compileId=compile_id, parameters=parameters,
                               constraints=[{"target": "TotalPerformance.PortfolioStatistics.Drawdown", "operator": "Less",
                                             "targetValue": 0.99}],
                               estimatedCost=1, nodeType="O2-8", parallelNodes=2)
    optimization_id = created["optimizations"][0]["optimizationId"]
    parallel = created["optimizations"][0]["parallelNodes"]  # what runs, and a note where it differs from the request
    assert parallel >= 1 and (parallel == 2) == ("parallelNodesNote" not in created["optimizations"][0])
    for _ in range(300):
        read = (await sandbox.ok("read_optimization", optimizationId=optimization_id))["optimization"]
        if read["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    failed = [(b["name"], (await sandbox.ok("read_backtest", projectId=project, backtestId=b["id"]))["backtest"]["error"])
              for b in read["backtests"].values() if b.get("exitCode") == 1]
    assert read["status"] == "completed" and read["runtimeStatistics"]["Completed"] == "3", failed
    sets = sorted(b["parameterSet"]["fast"] for b in read["backtests"].values())
    assert sets == ["10", "15", "5"]
    sharpes = {b["parameterSet"]["fast"]: b["statistics"][15] for b in read["backtests"].values()}
    # Named statistics, best first by the target (Sharpe, max): the same numbers as the API's unnamed arrays.
    assert [r["statistics"]["sharpe ratio"] for r in read["ranked"]] == pytest.approx(
        sorted(sharpes.values(), reverse=True), rel=1e-5)  # six significant digits
    assert read["ranked"][0]["parameterSet"] == read["bestBacktest"]["parameterSet"]
    assert read["ranked"][0]["statistics"]["total orders"] == read["backtests"][read["ranked"][0]["backtestId"]][
        "statistics"][17]
    assert read["bestBacktest"]["target"] == max(sharpes.values())
    assert len(set(sharpes.values())) > 1  # the parameter really changes the results
    listed = await sandbox.ok("list_backtests", projectId=project)
    assert len(listed["backtests"]) == 3  # every run is visible as a backtest
    await sandbox.ok("update_optimization", optimizationId=optimization_id, name="renamed")
    assert (await sandbox.ok("list_optimizations", projectId=project))["optimizations"][0]["name"] == "renamed"
    # Like the cloud, an optimization that has ended cannot be aborted; it can still be deleted.
    await sandbox.fails("abort_optimization", "already completed", optimizationId=optimization_id)
    await sandbox.ok("delete_optimization", optimizationId=optimization_id)
    await sandbox.fails("read_optimization", "not found", optimizationId=optimization_id)

    wide = [{"name": "fast", "min": 2, "max": 9, "step": 1}, {"name": "slow", "min": 20, "max": 50, "step": 10}]
    sampled = await sandbox.ok("create_optimization", projectId=project, name="random", target=SHARPE, targetTo="max",
                               strategy="QuantConnect.Optimizer.Strategies.RandomSearchOptimizationStrategy",
                               compileId=compile_id, parameters=wide, estimatedCost=1, nodeType="O2-8", parallelNodes=2)
    random_id = sampled["optimizations"][0]["optimizationId"]
    runs = (await sandbox.ok("read_optimization", optimizationId=random_id))["optimization"]["backtests"]
    sets = [tuple(sorted(b["parameterSet"].items())) for b in runs.values()]
    assert len(sets) == len(set(sets)) == 32 // 4  # a quarter of the 8 x 4 grid, no repeats
    await sandbox.ok("abort_optimization", optimizationId=random_id)
    assert (await sandbox.ok("read_optimization", optimizationId=random_id))["optimization"]["status"] == "aborted"
    await sandbox.fails("abort_optimization", "already aborted", optimizationId=random_id)
    empty = dict(projectId=project, name="none", target=SHARPE, targetTo="max", strategy=GRID, parameters=[])
    await sandbox.fails("estimate_optimization_time", "at least one parameter", **empty)
    await sandbox.fails("create_optimization", "at least one parameter", **empty, compileId=compile_id,
                        estimatedCost=1, nodeType="O2-8", parallelNodes=2)
    await sandbox.fails("create_optimization", "needs the QuantConnect cloud", projectId=project, name="euler", target=SHARPE,
                        targetTo="max", strategy="QuantConnect.Optimizer.Strategies.EulerSearchOptimizationStrategy",
                        compileId=compile_id, parameters=wide, estimatedCost=1, nodeType="O2-8", parallelNodes=2)


async def test_state_survives_a_restart(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"))
    async with Client(build_server(settings)) as client:
        await Session(client).ok("create_project", name="Persistent", language="Py")
    async with Client(build_server(settings)) as client:
        listed = await Session(client).ok("list_projects")
    assert [p["name"] for p in listed["projects"]] == ["Persistent"]


async def test_download_url_serves_the_bytes(tmp_path):
    from qcmcp.sandbox.app import create_app
    from qcmcp.sandbox.store import SandboxStore
    from qcmcp.qc.client import Credentials, QuantConnectClient

    store = SandboxStore(tmp_path / "s.sqlite3")
    org = store.register_user("300003", "t0ken")
    transport = httpx.ASGITransport(app=create_app(store, "http://sb"))
    client = QuantConnectClient(Credentials("300003", "t0ken"), base_url="http://sb/api/v2", transport=transport)
    await client.post("/object/set", {"organizationId": org, "key": "a/b.txt"}, files={"objectData": ("b.txt", b"bytes!")}, idempotent=True)
    job = await client.post("/object/get", {"organizationId": org, "keys": ["a/b.txt"]}, idempotent=False)
    url = (await client.post("/object/get", {"organizationId": org, "jobId": job["jobId"]}, idempotent=True))["url"]
    async with httpx.AsyncClient(transport=transport) as http:
        archive = zipfile.ZipFile(io.BytesIO((await http.get(url)).content))
    assert archive.read("a/b.txt") == b"bytes!"
    await client.aclose()


def test_a_store_from_before_duplicate_names_keeps_its_projects(tmp_path):
    """A sandbox database made when project names had to be unique opens with its rows intact and accepts twins."""
    import sqlite3

    from qcmcp.sandbox.store import SCHEMA, SandboxStore

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA.replace("lock_source TEXT);", "lock_source TEXT, UNIQUE (org_id, name));", 1))
    old.execute("INSERT INTO projects (org_id, owner_id, name, language, created, modified) "
                "VALUES ('o', '1', 'Alpha', 'Py', 'c', 'm')")
    old.execute("INSERT INTO files VALUES (1, 'main.py', 'print(1)', 'm')")
    old.commit()
    old.close()
    store = SandboxStore(path)
    assert "UNIQUE" not in store.one("SELECT sql FROM sqlite_master WHERE name = 'projects'")["sql"]
    assert store.one("SELECT content FROM files WHERE project_id = 1")["content"] == "print(1)"
    with store.transaction() as db:
        db.execute("INSERT INTO projects (org_id, owner_id, name, language, created, modified) "
                   "VALUES ('o', '1', 'Alpha', 'Py', 'c', 'm')")
    assert [r["project_id"] for r in store.query("SELECT project_id FROM projects WHERE name = 'Alpha'")] == [1, 2]
    store.close()
