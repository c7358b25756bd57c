"""Sandbox endpoints for project files, including unified-diff patches."""

from __future__ import annotations

from typing import Any

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from qcmcp.sandbox.api import Context, project_files, route, touch, validate, visible_project
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.limits import (MAX_FILE_CHARS, MAX_PATCH_SEARCH_LINES, MAX_PROJECT_CHARS, MAX_PROJECT_FILES,
                                  check_name_length)
from qcmcp.sandbox.store import now


def check_name(name: str) -> str:
    name = name.strip()
    check_name_length("The file name", name)
    if not name or name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in name.split("/")):
        raise SandboxError(f"Invalid file name {name!r}: use a relative path such as 'main.py' or 'alphas/momentum.py'.")
    return name


def check_capacity(ctx: Context, project_id: int, changes: dict[str, str | None]) -> None:
    """Refuse changes that would leave the project with too many files or too much content."""
    after: dict[str, str] = {**project_files(ctx, project_id)}
    for name, content in changes.items():
        if content is None:
            after.pop(name, None)
        else:
            if len(content) > MAX_FILE_CHARS:
                raise SandboxError(f"File '{name}' would hold {len(content)} characters; a file holds at most "
                                   f"{MAX_FILE_CHARS}. Split it into modules.")
            after[name] = content
    if len(after) > MAX_PROJECT_FILES:
        raise SandboxError(f"Project {project_id} would have {len(after)} files; a sandbox project holds at most "
                           f"{MAX_PROJECT_FILES}.")
    total = sum(len(content) for content in after.values())
    if total > MAX_PROJECT_CHARS:
        raise SandboxError(f"Project {project_id}'s files would hold {total} characters together; a sandbox project "
                           f"holds at most {MAX_PROJECT_CHARS}.")


def file_json(project_id: int, row: Any) -> dict[str, Any]:
    return {"projectId": project_id, "name": row["name"], "content": row["content"], "modified": row["modified"],
            "open": False, "isLibrary": False}


def _file(ctx: Context, project_id: int, name: str) -> Any:
    row = ctx.store.one("SELECT * FROM files WHERE project_id = ? AND name = ?", project_id, name)
    if row is None:
        names = ", ".join(project_files(ctx, project_id)) or "none"
        raise SandboxError(f"File '{name}' not found in project {project_id}. Files: {names}.")
    return row


def _refuse_empty(body: dict[str, Any], advice: str) -> None:
    """The cloud refuses a file content that is an empty string (an omitted content is another matter)."""
    if body.get("content") == "":
        raise SandboxError(f"The file content is empty; {advice}")


@route("/files/create", "CreateProjectFileRequest")
def create_file(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project_id = visible_project(ctx, body["projectId"])["project_id"]
    name = check_name(body["name"])
    _refuse_empty(body, "pass the file's text, or leave content out to create an empty file.")
    if ctx.store.one("SELECT 1 FROM files WHERE project_id = ? AND name = ?", project_id, name):
        raise SandboxError(f"File '{name}' already exists in project {project_id}. Use update_file_contents or "
                           "patch_file to change it.")
    check_capacity(ctx, project_id, {name: body.get("content") or ""})
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO files VALUES (?, ?, ?, ?)", (project_id, name, body.get("content") or "", now()))
    touch(ctx, project_id)
    return {}


@route("/files/read", "ReadFilesRequest")
def read_files(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project_id = visible_project(ctx, body["projectId"])["project_id"]
    if body.get("name"):
        return {"files": [file_json(project_id, _file(ctx, project_id, body["name"]))]}
    rows = ctx.store.query("SELECT * FROM files WHERE project_id = ? ORDER BY name", project_id)
    return {"files": [file_json(project_id, row) for row in rows]}


@route("/files/update")
def update_file(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    if "newName" in body:
        validate("UpdateFileNameRequest", body)
    elif "content" in body:
        validate("UpdateFileContentsRequest", body)
    else:
        raise SandboxError("Pass newName to rename the file or content to replace its contents.")
    project_id = visible_project(ctx, body["projectId"])["project_id"]
    name = _file(ctx, project_id, body["name"])["name"]
    if "newName" not in body:
        _refuse_empty(body, "pass the new text, or use delete_file to remove the file.")
        check_capacity(ctx, project_id, {name: body["content"]})
    with ctx.store.transaction() as db:
        if "newName" in body:
            new_name = check_name(body["newName"])
            if db.execute("SELECT 1 FROM files WHERE project_id = ? AND name = ?", (project_id, new_name)).fetchone():
                raise SandboxError(f"File '{new_name}' already exists in project {project_id}.")
            db.execute("UPDATE files SET name = ?, modified = ? WHERE project_id = ? AND name = ?",
                       (new_name, now(), project_id, name))
        else:
            db.execute("UPDATE files SET content = ?, modified = ? WHERE project_id = ? AND name = ?",
                       (body["content"], now(), project_id, name))
    touch(ctx, project_id)
    return {}


@route("/files/delete", "DeleteFileRequest")
def delete_file(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project_id = visible_project(ctx, body["projectId"])["project_id"]
    name = _file(ctx, project_id, body["name"])["name"]
    with ctx.store.transaction() as db:
        db.execute("DELETE FROM files WHERE project_id = ? AND name = ?", (project_id, name))
    touch(ctx, project_id)
    return {}


def _path(name: str) -> str | None:
    if name == "/dev/null":
        return None
    return name[2:] if name.startswith(("a/", "b/")) else name


def _find_hunk(name: str, number: int, lines: list[str], before: list[str]) -> list[int]:
    """Where a hunk's old lines occur in the file (stopping at two), within a bounded amount of comparing."""
    if not before:
        return []
    budget, matches = MAX_PATCH_SEARCH_LINES, []
    for i in range(len(lines) - len(before) + 1):
        if lines[i] != before[0]:
            continue
        for j, line in enumerate(before):
            budget -= 1
            if lines[i + j] != line:
                break
        else:
            matches.append(i)
            if len(matches) > 1:
                break
        if budget <= 0:
            raise SandboxError(f"The patch does not apply to {name}: hunk {number} is not at the line its header "
                               "says, and the file is too large to search for it. Rebuild the patch from the file's "
                               "exact content with correct line numbers.")
    return matches


def _apply_hunks(name: str, content: str, patched: Any) -> str:
    lines = content.split("\n")
    trailing_newline = content.endswith("\n")
    if trailing_newline:
        lines.pop()
    offset = 0
    for number, hunk in enumerate(patched, start=1):
        before = [line.value.rstrip("\r\n") for line in hunk if line.is_context or line.is_removed]
        after = [line.value.rstrip("\r\n") for line in hunk if line.is_context or line.is_added]
        at = hunk.source_start - 1 + offset if hunk.source_length else hunk.source_start + offset
        if lines[at:at + len(before)] != before:
            matches = _find_hunk(name, number, lines, before)
            if len(matches) != 1:
                expected = before[0] if before else ""
                found = lines[at] if 0 <= at < len(lines) else "(end of file)"
                for i, line in enumerate(before):
                    actual = lines[at + i] if 0 <= at + i < len(lines) else "(end of file)"
                    if actual != line:
                        expected, found, at = line, actual, at + i
                        break
                raise SandboxError(
                    f"The patch does not apply to {name}: hunk {number} expects line {at + 1} to be {expected!r} "
                    f"but the file has {found!r}. Read the file and rebuild the patch from its exact content."
                )
            at = matches[0]
        lines[at:at + len(before)] = after
        offset += len(after) - len(before)
    return "\n".join(lines) + ("\n" if trailing_newline or not lines else "")


def apply_patch(files: dict[str, str], text: str) -> dict[str, str | None]:
    """Apply a unified diff to ``files``; returns each changed name's new content (None = deleted)."""
    try:
        patch = PatchSet(text)
    except UnidiffParseError as error:
        raise SandboxError(f"The patch is not a valid unified diff ({error}). Use the git diff format with "
                           "'---', '+++' and '@@' hunk headers.") from None
    if not len(patch):
        raise SandboxError("The patch changes no file: it needs '--- a/<file>' and '+++ b/<file>' headers and hunks.")
    changes: dict[str, str | None] = {}
    for patched in patch:
        source, target = _path(patched.source_file), _path(patched.target_file)
        if not len(patched) and source is not None and target is not None:
            raise SandboxError(f"The patch for {target} has no valid hunk: each change needs an '@@ -start,count "
                               "+start,count @@' header followed by context, '-' and '+' lines.")
        if source is None:
            assert target is not None
            if target in files:
                raise SandboxError(f"The patch creates {target}, which already exists.")
            changes[check_name(target)] = _apply_hunks(target, "", patched)
            continue
        if source not in files:
            raise SandboxError(f"The patch changes {source}, which is not in the project. Files: {', '.join(files) or 'none'}.")
        if target is None:
            changes[source] = None
            continue
        changes[check_name(target)] = _apply_hunks(source, files[source], patched)
        if target != source:
            changes[source] = None
    return changes


@route("/files/patch", "PatchFileRequest")
def patch_file(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project_id = visible_project(ctx, body["projectId"])["project_id"]
    changes = apply_patch(project_files(ctx, project_id), body["patch"])
    check_capacity(ctx, project_id, changes)
    stamp = now()
    with ctx.store.transaction() as db:
        for name, content in changes.items():
            if content is None:
                db.execute("DELETE FROM files WHERE project_id = ? AND name = ?", (project_id, name))
            else:
                db.execute("INSERT INTO files VALUES (?, ?, ?, ?) ON CONFLICT (project_id, name) DO UPDATE SET "
                           "content = excluded.content, modified = excluded.modified", (project_id, name, content, stamp))
    touch(ctx, project_id)
    return {}
