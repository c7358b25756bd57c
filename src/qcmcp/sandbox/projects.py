"""Sandbox endpoints: account, projects, collaborators, nodes and LEAN versions."""

from __future__ import annotations

import sqlite3
from typing import Any

from qcmcp.sandbox.api import Context, paged, route, visible_project
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.limits import MAX_PROJECTS, MAX_PROJECTS_PAGE, check_name_length, shorten
from qcmcp.sandbox.store import now

PY_TEMPLATE = '''# region imports
from AlgorithmImports import *
# endregion


class {name}(QCAlgorithm):

    def initialize(self):
        self.set_start_date(2023, 1, 1)
        self.set_end_date(2023, 12, 31)
        self.set_cash(100000)
        self.add_equity("SPY", Resolution.DAILY)

    def on_data(self, data: Slice):
        if not self.portfolio.invested:
            self.set_holdings("SPY", 1)
'''
CS_TEMPLATE = '''namespace QuantConnect.Algorithm.CSharp
{{
    public class {name} : QCAlgorithm
    {{
        public override void Initialize()
        {{
            SetStartDate(2023, 1, 1);
            SetCash(100000);
            AddEquity("SPY", Resolution.Daily);
        }}
    }}
}}
'''
def _notebook(kernel: dict[str, str], language: dict[str, str], cells: list[list[str]]) -> str:
    """A research notebook in Jupyter's format, as the cloud puts one in every new project."""
    import json

    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
                  for source in cells],
        "metadata": {"kernelspec": kernel, "language_info": language}, "nbformat": 4, "nbformat_minor": 2,
    }, indent=1)


PY_NOTEBOOK = _notebook(
    {"display_name": "Python 3", "language": "python", "name": "python3"},
    {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"},
    [["qb = QuantBook()\n", "spy = qb.add_equity(\"SPY\")\n",
      "history = qb.history(qb.securities.keys(), 360, Resolution.DAILY)\n", "history"]],
)
CS_NOTEBOOK = _notebook(
    {"display_name": ".NET (C#)", "language": "C#", "name": "csharp"},
    {"name": "C#", "file_extension": ".cs", "mimetype": "text/x-csharp"},
    [["// We need to load assemblies at the start in their own cell\n", "#load \"../Initialize.csx\""],
     ["var qb = new QuantBook();\n", "var spy = qb.AddEquity(\"SPY\");\n",
      "var history = qb.History(qb.Securities.Keys, 360, Resolution.Daily);"]],
)
# What a new project starts with, as in the cloud: the algorithm's main file (its class named after the project)
# and a research notebook.
MAIN_FILES = {"Py": ("main.py", PY_TEMPLATE), "C#": ("Main.cs", CS_TEMPLATE)}
NOTEBOOKS = {"Py": ("research.ipynb", PY_NOTEBOOK), "C#": ("Research.ipynb", CS_NOTEBOOK)}
# The account's balance: a sandbox credit, named as such (the sandbox runs everything locally and bills nothing).
SANDBOX_CREDIT = 1000
CREDIT_NOTE = ("Sandbox credit, not QCC: the sandbox runs optimizations on this machine and charges nothing, so "
               "estimatedCost is 0 and the balance does not change. time is in seconds.")
LEAN_VERSION = {
    "id": 1,
    "created": "2026-01-01 00:00:00",
    "description": "qcmcp sandbox engine: a local emulator of LEAN's Python QCAlgorithm API (not QuantConnect LEAN).",
    "leanHash": "",
    "leanCloudHash": "",
    "name": "qcmcp-sandbox",
    "ref": "sandbox",
    "public": True,
}
NODES = {
    "backtest": [{"id": "SB-B1", "name": "Sandbox backtest node", "sku": "B-SANDBOX", "cpu": 1, "ram": 1.0, "speed": 1.0}],
    "research": [{"id": "SB-R1", "name": "Sandbox research node", "sku": "R-SANDBOX", "cpu": 1, "ram": 1.0, "speed": 1.0}],
    "live": [{"id": "SB-L1", "name": "Sandbox paper-trading node", "sku": "L-SANDBOX", "cpu": 1, "ram": 1.0, "speed": 1.0}],
}


def class_name(project_name: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in project_name).split()
    name = "".join(w[:1].upper() + w[1:] for w in words) or "MyAlgorithm"
    return name if name[0].isalpha() else f"Algorithm{name}"


def collaborator_rows(ctx: Context, project: sqlite3.Row) -> list[dict[str, Any]]:
    owner = {"uid": int(project["owner_id"]), "liveControl": True, "permission": "write", "publicId": project["owner_id"],
             "name": f"Sandbox user {project['owner_id']}", "owner": True}
    rows = ctx.store.query("SELECT * FROM collaborators WHERE project_id = ? ORDER BY user_id", project["project_id"])
    return [owner] + [
        {"uid": int(r["user_id"]), "liveControl": bool(r["live_control"]), "permission": "write" if r["write"] else "read",
         "publicId": r["user_id"], "name": f"Sandbox user {r['user_id']}", "owner": False}
        for r in rows
    ]


def project_json(ctx: Context, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "projectId": row["project_id"],
        "organizationId": row["org_id"],
        "name": row["name"],
        "description": row["description"],
        "modified": row["modified"],
        "created": row["created"],
        "ownerId": int(row["owner_id"]),
        "language": row["language"],
        "collaborators": collaborator_rows(ctx, row),
        "leanVersionId": LEAN_VERSION["id"],
        "leanPinnedToMaster": True,
        "owner": row["owner_id"] == ctx.user_id,
        "parameters": [],
        "libraries": [],
        "encrypted": False,
        "codeRunning": False,
    }


@route("/account/read")
def read_account(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return {"organizationId": ctx.org_id, "creditBalance": float(SANDBOX_CREDIT), "creditNote": CREDIT_NOTE}


@route("/lean/versions/read")
def read_lean_versions(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return {"versions": [LEAN_VERSION]}


@route("/projects/create", "CreateProjectRequest")
def create_project(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = body["name"].strip()
    if not name:
        raise SandboxError("Project name must not be empty.")
    check_name_length("The project name", name)
    if body.get("organizationId") not in (None, ctx.org_id):
        raise SandboxError(f"Organization {shorten(body['organizationId'])} not found or not yours "
                           f"(yours is {ctx.org_id}).")
    count = ctx.store.one("SELECT COUNT(*) AS n FROM projects WHERE org_id = ?", ctx.org_id)["n"]
    if count >= MAX_PROJECTS:
        raise SandboxError(f"The organization has {count} projects, the most a sandbox organization holds. "
                           "Delete projects you no longer need.")
    stamp, language = now(), body["language"]
    with ctx.store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO projects (org_id, owner_id, name, language, created, modified) VALUES (?, ?, ?, ?, ?, ?)",
            (ctx.org_id, ctx.user_id, name, language, stamp, stamp),
        )
        project_id = cursor.lastrowid
        main, template = MAIN_FILES[language]
        db.execute("INSERT INTO files VALUES (?, ?, ?, ?)", (project_id, main, template.format(name=class_name(name)), stamp))
        db.execute("INSERT INTO files VALUES (?, ?, ?, ?)", (project_id, *NOTEBOOKS[language], stamp))
    return {"projects": [project_json(ctx, visible_project(ctx, int(project_id)))], "versions": []}


@route("/projects/read", "ReadProjectRequest")
def read_project(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    if body.get("projectId") is not None:
        return {"projects": [project_json(ctx, visible_project(ctx, body["projectId"]))], "versions": [LEAN_VERSION]}
    rows = ctx.store.query(
        "SELECT * FROM projects WHERE org_id = ? OR project_id IN (SELECT project_id FROM collaborators WHERE user_id = ?) "
        "ORDER BY project_id", ctx.org_id, ctx.user_id,
    )
    start, end = body.get("start"), body.get("end")
    if start is None and end is None:
        page = list(rows)
    else:
        page = paged(list(rows), start, end, MAX_PROJECTS_PAGE, "projects")
    return {"projects": [project_json(ctx, row) for row in page], "versions": [LEAN_VERSION]}


@route("/projects/update", "UpdateProjectRequest")
def update_project(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    name, description = body.get("name"), body.get("description")
    if name is None and description is None:
        raise SandboxError("Nothing to update: pass a new name, a new description, or both.")
    if name is not None:
        name = name.strip()
        if not name:
            raise SandboxError("Project name must not be empty.")
        check_name_length("The project name", name)
        # The cloud creates a second project with a name in use, but refuses to rename one onto a name in use.
        clash = ctx.store.one("SELECT project_id FROM projects WHERE org_id = ? AND name = ? AND project_id != ?",
                              project["org_id"], name, project["project_id"])
        if clash:
            raise SandboxError(f"A project named '{name}' already exists (projectId {clash['project_id']}); choose "
                               "another name.")
    with ctx.store.transaction() as db:
        db.execute("UPDATE projects SET name = COALESCE(?, name), description = COALESCE(?, description), modified = ? "
                   "WHERE project_id = ?", (name, description, now(), project["project_id"]))
    return {}


@route("/projects/delete", "DeleteProjectRequest")
def delete_project(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    if project["owner_id"] != ctx.user_id:
        raise SandboxError(f"Only the owner can delete project {project['project_id']}.")
    with ctx.store.transaction() as db:
        db.execute("DELETE FROM projects WHERE project_id = ?", (project["project_id"],))
    return {}


def _collaborator(ctx: Context, project_id: int, user_id: str, *, must_exist: bool) -> sqlite3.Row:
    project = visible_project(ctx, project_id)
    if project["owner_id"] != ctx.user_id:
        raise SandboxError(f"Only the owner of project {project_id} can manage its collaborators.")
    if user_id == project["owner_id"]:
        raise SandboxError(f"User {user_id} owns project {project_id}; the owner is not a collaborator.")
    if ctx.store.user(user_id) is None:
        raise SandboxError(f"No sandbox user has id {user_id}. Collaborators must be registered sandbox users.")
    exists = ctx.store.one("SELECT 1 FROM collaborators WHERE project_id = ? AND user_id = ?", project_id, user_id)
    if must_exist and not exists:
        raise SandboxError(f"User {user_id} is not a collaborator on project {project_id}.")
    return project


@route("/projects/collaboration/create", "CreateCollaboratorRequest")
def create_collaborator(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = _collaborator(ctx, body["projectId"], body["collaboratorUserId"], must_exist=False)
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO collaborators VALUES (?, ?, ?, ?) ON CONFLICT (project_id, user_id) DO UPDATE SET "
                   "live_control = excluded.live_control, write = excluded.write",
                   (body["projectId"], body["collaboratorUserId"], int(body["collaborationLiveControl"]),
                    int(body["collaborationWrite"])))
    return {"collaborators": collaborator_rows(ctx, project)}


@route("/projects/collaboration/read", "ReadCollaboratorsRequest")
def read_collaborators(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    me = next((c for c in collaborator_rows(ctx, project) if c["publicId"] == ctx.user_id), None)
    return {"collaborators": collaborator_rows(ctx, project), "userLiveControl": bool(me and me["liveControl"]),
            "userPermissions": me["permission"] if me else "read"}


@route("/projects/collaboration/update", "UpdateCollaboratorRequest")
def update_collaborator(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = _collaborator(ctx, body["projectId"], body["collaboratorUserId"], must_exist=True)
    with ctx.store.transaction() as db:
        db.execute("UPDATE collaborators SET live_control = ?, write = ? WHERE project_id = ? AND user_id = ?",
                   (int(body["liveControl"]), int(body["write"]), body["projectId"], body["collaboratorUserId"]))
    return {"collaborators": collaborator_rows(ctx, project)}


@route("/projects/collaboration/delete", "DeleteCollaboratorRequest")
def delete_collaborator(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = _collaborator(ctx, body["projectId"], body["collaboratorId"], must_exist=True)
    with ctx.store.transaction() as db:
        db.execute("DELETE FROM collaborators WHERE project_id = ? AND user_id = ?", (body["projectId"], body["collaboratorId"]))
    return {"collaborators": collaborator_rows(ctx, project)}


@route("/projects/collaboration/lock/acquire", "LockCollaboratorRequest")
def lock_project(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    with ctx.store.transaction() as db:
        db.execute("UPDATE projects SET lock_source = ? WHERE project_id = ?", (body["codeSourceId"], project["project_id"]))
    return {}


def _nodes(selected: list[str]) -> dict[str, Any]:
    def mark(node: dict[str, Any]) -> dict[str, Any]:
        return {**node, "busy": False, "active": node["id"] in selected, "price": {"monthly": 0, "yearly": 0}}

    return {kind: [mark(node) for node in nodes] for kind, nodes in NODES.items()}


@route("/projects/nodes/read", "ReadProjectNodesRequest")
def read_nodes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    selected = ctx.store.loads(project["nodes"])
    return {"nodes": _nodes(selected), "autoSelectNode": not selected}


@route("/projects/nodes/update", "UpdateProjectNodesRequest")
def update_nodes(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    known = {node["id"] for nodes in NODES.values() for node in nodes}
    selected = list(body.get("nodes") or [])
    unknown = [node for node in selected if node not in known]
    if unknown:
        raise SandboxError(f"Unknown node id(s) {', '.join(shorten(n) for n in unknown[:5])}"
                           f"{' and more' if len(unknown) > 5 else ''}. Sandbox nodes: {', '.join(sorted(known))}.")
    with ctx.store.transaction() as db:
        db.execute("UPDATE projects SET nodes = ? WHERE project_id = ?", (ctx.store.dumps(selected), project["project_id"]))
    return {"nodes": _nodes(selected), "autoSelectNode": not selected}
