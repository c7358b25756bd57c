"""sync_project through an MCP session on the sandbox: create and link, push only changes, pull cloud changes,
report a conflict without overwriting either side, one-way and dry runs, and the workspace rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastmcp import Client

from qcmcp.config import load_settings
from qcmcp.server import build_server
from tests.test_sandbox import SMA


@pytest.fixture
async def client(tmp_path):
    settings = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "state.sqlite3"))
    async with Client(build_server(settings)) as session:
        yield session


async def sync(client: Client, **arguments) -> dict:
    result = await client.call_tool("sync_project", arguments, raise_on_error=False)
    assert not result.is_error, result.content[0].text
    assert result.content[0].text.startswith("[sandbox]")
    return result.structured_content


async def cloud_file(client: Client, project: int, name: str) -> str | None:
    read = await client.call_tool("read_file", {"projectId": project, "name": name}, raise_on_error=False)
    return None if read.is_error else read.structured_content["files"][0]["content"]


def make_folder(root: Path) -> Path:
    folder = root / "SMA Strategy"
    (folder / "alphas").mkdir(parents=True)
    (folder / "main.py").write_text(SMA)
    (folder / "alphas" / "signals.py").write_text("FAST = 10\n")
    (folder / "backtests").mkdir()
    (folder / "backtests" / "result.json").write_text("{}")  # lean-cli output: never synced
    (folder / "config.json").write_text(json.dumps({"algorithm-language": "Python", "parameters": {}}))
    return folder


async def test_first_sync_creates_the_project_and_writes_cloud_id_back(client, tmp_path):
    folder = make_folder(tmp_path)
    first = await sync(client, path=str(folder))
    project = first["projectId"]
    assert first["created"] and set(first["pushed"]) == {"main.py", "alphas/signals.py"}
    assert json.loads((folder / "config.json").read_text()) == {"algorithm-language": "Python", "parameters": {},
                                                               "cloud-id": project}
    assert await cloud_file(client, project, "main.py") == SMA
    assert await cloud_file(client, project, "backtests/result.json") is None
    again = await sync(client, path=str(folder))
    assert again["projectId"] == project and not again["created"]
    assert again["pushed"] == again["pulled"] == again["deleted"] == again["conflicts"] == []
    assert again["unchanged"] >= 2


async def test_changes_flow_both_ways_and_a_conflict_touches_neither_side(client, tmp_path):
    folder = make_folder(tmp_path)
    project = (await sync(client, path=str(folder)))["projectId"]
    (folder / "alphas" / "signals.py").write_text("FAST = 20\n")  # local change
    (folder / "alphas" / "new.py").write_text("SLOW = 50\n")  # local new file
    await client.call_tool("create_file", {"projectId": project, "name": "cloud_only.py", "content": "X = 1\n"})
    await client.call_tool("update_file_contents", {"projectId": project, "name": "main.py",
                                                    "content": SMA + "# cloud edit\n"})  # cloud change
    dry = await sync(client, path=str(folder), dryRun=True)
    assert set(dry["pushed"]) == {"alphas/signals.py", "alphas/new.py"} and dry["dryRun"]
    assert (folder / "main.py").read_text() == SMA  # a dry run changes nothing
    synced = await sync(client, path=str(folder))
    assert set(synced["pushed"]) == {"alphas/signals.py", "alphas/new.py"}
    assert set(synced["pulled"]) == {"main.py", "cloud_only.py"} and synced["conflicts"] == []
    assert (folder / "main.py").read_text().endswith("# cloud edit\n")
    assert await cloud_file(client, project, "alphas/signals.py") == "FAST = 20\n"

    (folder / "main.py").write_text(SMA + "# local edit\n")
    await client.call_tool("update_file_contents", {"projectId": project, "name": "main.py",
                                                    "content": SMA + "# another cloud edit\n"})
    conflicted = await sync(client, path=str(folder))
    assert conflicted["conflicts"] == ["main.py"] and "merge" in conflicted["next"]
    assert (folder / "main.py").read_text().endswith("# local edit\n")  # neither side overwritten
    assert (await cloud_file(client, project, "main.py")).endswith("# another cloud edit\n")

    (folder / "cloud_only.py").unlink()  # deleted locally: deleted in the cloud on the next sync
    deleted = await sync(client, path=str(folder), direction="push")
    assert deleted["deleted"] == ["cloud_only.py"] and await cloud_file(client, project, "cloud_only.py") is None


async def test_one_way_syncs_leave_the_other_direction_alone(client, tmp_path):
    folder = make_folder(tmp_path)
    project = (await sync(client, path=str(folder)))["projectId"]
    (folder / "alphas" / "signals.py").write_text("FAST = 30\n")
    await client.call_tool("create_file", {"projectId": project, "name": "extra.py", "content": "Y = 2\n"})
    pulled = await sync(client, path=str(folder), direction="pull")
    assert pulled["pulled"] == ["extra.py"] and pulled["pushed"] == [] and pulled["notSynced"] == ["alphas/signals.py"]
    assert await cloud_file(client, project, "alphas/signals.py") == "FAST = 10\n"
    pushed = await sync(client, path=str(folder), direction="push")
    assert pushed["pushed"] == ["alphas/signals.py"]


async def test_bad_paths_are_refused_clearly(client, tmp_path):
    result = await client.call_tool("sync_project", {"path": str(tmp_path / "missing")}, raise_on_error=False)
    assert result.is_error and "is not a folder" in result.content[0].text
    folder = make_folder(tmp_path)
    (folder / "config.json").write_text("{not json")
    broken = await client.call_tool("sync_project", {"path": str(folder)}, raise_on_error=False)
    assert broken.is_error and "config.json" in broken.content[0].text and "not valid JSON" in broken.content[0].text


async def test_shared_mode_needs_a_workspace_root_and_stays_inside_it(tmp_path):
    shared = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"))
    async with Client(build_server(shared, shared=True)) as session:
        assert "sync_project" not in {tool.name for tool in await session.list_tools()}
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    make_folder(workspace)
    (workspace / "escape").symlink_to(tmp_path)
    rooted = load_settings(QCMCP_SANDBOX_DB=str(tmp_path / "r.sqlite3"), QCMCP_WORKSPACE_ROOT=str(workspace))
    async with Client(build_server(rooted, shared=True)) as session:
        ok = await session.call_tool("sync_project", {"path": "SMA Strategy"})
        assert ok.structured_content["created"]
        for path, fragment in [("../outside", "'..'"), (str(tmp_path), "relative"), ("escape", "outside")]:
            refused = await session.call_tool("sync_project", {"path": path}, raise_on_error=False)
            assert refused.is_error and fragment in refused.content[0].text, (path, refused.content[0].text)
