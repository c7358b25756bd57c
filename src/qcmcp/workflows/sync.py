"""Sync a local project folder (lean-cli's layout) with its QuantConnect project, sending only what changed.

A folder holds one project: ``config.json`` (with ``cloud-id`` once it is linked, as lean-cli writes it) and the
code files beside it. The last-synced state — each file's SHA-256 at the last sync, the same on both sides then —
is kept in the folder (``.qcmcp/sync.json``, like lean-cli's cloud metadata), so each side's changes since then
are known: a file changed only locally is pushed, only in the cloud pulled, on both sides (differently) reported
as a **conflict** and left alone on both sides. Files are compared by hash, the cloud's files come in one read,
and only changed files are sent, so a 500-file project with 5 changes costs 6 calls, not 501.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qcmcp.workflows.backtest import Api

Direction = Literal["both", "push", "pull"]
STATE_FILE = Path(".qcmcp") / "sync.json"
CONFIG_FILE = "config.json"
# Never synced: lean-cli's own folders and metadata, editor and build output.
IGNORED_DIRECTORIES = {".qcmcp", ".git", ".idea", ".vscode", "__pycache__", ".ipynb_checkpoints", "backtests",
                       "optimizations", "live", "bin", "obj", "storage", ".lean"}
IGNORED_SUFFIXES = (".pyc", ".pyo", ".dll", ".exe", ".so", ".zip", ".png", ".jpg", ".gif")
MAX_FILES = 2_000
MAX_FILE_BYTES = 1024 * 1024


class SyncError(ValueError):
    """The folder cannot be synced as asked; the message says why and what to do."""


@dataclass
class Plan:
    push: list[str] = field(default_factory=list)  # local → cloud (created or updated)
    pull: list[str] = field(default_factory=list)  # cloud → local
    delete_remote: list[str] = field(default_factory=list)
    delete_local: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # changes not carried: the other direction, or an empty file


def digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def resolve_folder(path: str, workspace_root: str | None) -> Path:
    """The project folder; inside ``workspace_root`` when one is set (no ``..``, no symlinks out)."""
    if workspace_root:
        root = Path(workspace_root).resolve()
        candidate = Path(path)
        if candidate.is_absolute() or ".." in candidate.parts:
            raise SyncError("path must be relative to the server's workspace and may not contain '..'.")
        folder = (root / candidate).resolve()
        if not folder.is_relative_to(root):
            raise SyncError("path leads outside the server's workspace (through a symlink); use a folder inside it.")
    else:
        folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise SyncError(f"path {path!r} is not a folder. Give the project folder (where config.json and main.py are).")
    return folder


def local_files(folder: Path) -> dict[str, str]:
    """Code files of the project folder by their project-relative name (symlinks out of the folder skipped)."""
    files: dict[str, str] = {}
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = sorted(d for d in subdirectories if d not in IGNORED_DIRECTORIES and not d.startswith("."))
        for name in sorted(names):
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            if relative == CONFIG_FILE or name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
                continue
            if not path.resolve().is_relative_to(folder):
                continue  # a symlink pointing outside the project is not part of it
            if path.stat().st_size > MAX_FILE_BYTES:
                raise SyncError(f"{relative} is over {MAX_FILE_BYTES // 1024} KB; QuantConnect projects hold code, "
                                "not data — move it to the Object Store.")
            try:
                files[relative] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # not a text file
            if len(files) > MAX_FILES:
                raise SyncError(f"the folder has more than {MAX_FILES} files; sync one project folder at a time.")
    return files


def plan(local: dict[str, str], remote: dict[str, str], base: dict[str, str], direction: Direction) -> Plan:
    """What to do with each file, from the three hashes: local, cloud, last synced."""
    result = Plan()
    for name in sorted(set(local) | set(remote)):
        mine = digest(local[name]) if name in local else None
        theirs = digest(remote[name]) if name in remote else None
        last = base.get(name)
        if mine == theirs:
            result.unchanged.append(name)
        elif theirs == last and mine is not None and not local[name]:
            result.skipped.append(name)  # QuantConnect refuses empty files
        elif theirs == last:  # only the local side changed
            target = result.push if mine is not None else result.delete_remote
            (target if direction != "pull" else result.skipped).append(name)
        elif mine == last:  # only the cloud changed
            target = result.pull if theirs is not None else result.delete_local
            (target if direction != "push" else result.skipped).append(name)
        else:
            result.conflicts.append(name)
    return result


async def sync_project(api: Api, folder: Path, *, project_id: int | None = None, name: str | None = None,
                       direction: Direction = "both", dry_run: bool = False) -> dict[str, Any]:
    config = _read_json(folder / CONFIG_FILE)
    state = _read_json(folder / STATE_FILE)
    local = local_files(folder)
    project_id = project_id or config.get("cloud-id") or None
    created = False
    if project_id is None and name is not None:
        project_id = await _project_named(api, name)
    if project_id is None:
        if direction == "pull":
            raise SyncError("this folder is not linked to a QuantConnect project: give projectId or name to pull.")
        if dry_run:
            return {"projectId": None, "created": False, "dryRun": True, "pushed": sorted(local), "pulled": [],
                    "deleted": [], "conflicts": [], "unchanged": 0,
                    "note": "The project does not exist yet: a real sync creates it and pushes these files."}
        project_id = await _create_project(api, name or folder.name, local)
        created = True
    remote = await _remote_files(api, int(project_id))
    base = dict(state.get("files") or {}) if state.get("projectId") == project_id else {}
    if created:  # the template files the cloud adds: local versions win, the others come down
        base = {file: digest(content) for file, content in remote.items() if file in local}
    steps = plan(local, remote, base, direction)
    if not dry_run:
        await _apply(api, int(project_id), folder, local, remote, steps)
        _save_state(folder, int(project_id), local, remote, base, steps)
        if config.get("cloud-id") != project_id:
            _write_json(folder / CONFIG_FILE, {**config, "cloud-id": int(project_id)})
    return {"projectId": int(project_id), "created": created, "dryRun": dry_run, "direction": direction,
            "pushed": steps.push, "pulled": steps.pull, "deleted": steps.delete_remote + steps.delete_local,
            "conflicts": steps.conflicts, "unchanged": len(steps.unchanged),
            **({"notSynced": steps.skipped} if steps.skipped else {}),
            **({"next": "Conflicts changed on both sides since the last sync and were left alone: merge each by hand "
                        "(read_file shows the cloud's version), then sync again."} if steps.conflicts else {})}


async def _apply(api: Api, project_id: int, folder: Path, local: dict[str, str], remote: dict[str, str],
                 steps: Plan) -> None:
    for file in steps.push:
        endpoint = "/files/update" if file in remote else "/files/create"
        await api.post(endpoint, {"projectId": project_id, "name": file, "content": local[file]}, idempotent=True)
    for file in steps.delete_remote:
        await api.post("/files/delete", {"projectId": project_id, "name": file}, idempotent=True)
    for file in steps.pull:
        target = folder / file
        if not target.resolve().is_relative_to(folder) or ".." in Path(file).parts:
            raise SyncError(f"the cloud file name {file!r} would be written outside the folder; not pulled.")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(remote[file], encoding="utf-8")
    for file in steps.delete_local:
        (folder / file).unlink(missing_ok=True)


def _save_state(folder: Path, project_id: int, local: dict[str, str], remote: dict[str, str], base: dict[str, str],
                steps: Plan) -> None:
    """Record what both sides now hold; a conflict or a change not carried keeps its last-synced hash."""
    files = dict(base)
    for file in steps.unchanged + steps.push:
        files[file] = digest(local[file])
    for file in steps.pull:
        files[file] = digest(remote[file])
    for file in steps.delete_remote + steps.delete_local:
        files.pop(file, None)
    _write_json(folder / STATE_FILE, {"projectId": project_id, "files": dict(sorted(files.items()))})


async def _remote_files(api: Api, project_id: int) -> dict[str, str]:
    answer = await api.post("/files/read", {"projectId": project_id}, idempotent=True)
    return {f["name"]: f.get("content") or "" for f in answer.get("files") or [] if "name" in f}


async def _project_named(api: Api, name: str) -> int | None:
    projects = (await api.post("/projects/read", {}, idempotent=True)).get("projects") or []
    matches = [p["projectId"] for p in projects if p.get("name") == name]
    if len(matches) > 1:
        raise SyncError(f"{len(matches)} projects are named {name!r}; give projectId instead.")
    return matches[0] if matches else None


async def _create_project(api: Api, name: str, local: dict[str, str]) -> int:
    language = "C#" if any(file.endswith(".cs") for file in local) and "main.py" not in local else "Py"
    created = await api.post("/projects/create", {"name": name, "language": language}, idempotent=False)
    return int(created["projects"][0]["projectId"])


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        raise SyncError(f"{path.name} in the project folder is not valid JSON; fix or remove it.") from None
    return loaded if isinstance(loaded, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, indent=4) + "\n", encoding="utf-8")
    temporary.replace(path)
