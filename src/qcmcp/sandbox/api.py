"""Route registry and shared helpers for the sandbox's API handlers.

A handler is a plain function ``(ctx, body) -> dict``: it reads and writes the store and
raises :class:`SandboxError` for anything the cloud would answer with ``success: false``.
Request bodies are validated with the same generated models the MCP tools use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.store import SandboxStore, now

Handler = Callable[["Context", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    handler: Handler
    request: str | None  # generated model name, validated before the handler runs
    multipart: bool = False


ROUTES: dict[str, Route] = {}


def route(path: str, request: str | None = None, multipart: bool = False) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[path] = Route(handler, request, multipart)
        return handler

    return register


@dataclass(frozen=True)
class Context:
    """Who is calling and where their state lives."""

    store: SandboxStore
    user_id: str
    org_id: str
    base_url: str
    runner: Any = None  # the BacktestRunner executing this sandbox's backtests
    live: Any = None  # the LiveRunner executing its paper deployments


def validate(model_name: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """Check the body against the request model; explain what is missing or wrong."""
    if model_name is None:
        return body
    from qcmcp.qc import models

    try:
        getattr(models, model_name).model_validate(body)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in item["loc"]) or "body"
            problems.append(f"Missing required field '{field}'" if item["type"] == "missing"
                            else f"Invalid field '{field}': {item['msg']}")
        raise SandboxError("; ".join(dict.fromkeys(problems))) from None
    return body


def paged(items: list[Any], start: int | None, end: int | None, limit: int, what: str) -> list[Any]:
    """Apply the API's start (inclusive) / end (exclusive) paging rules."""
    start = 0 if start is None else start
    end = start + limit if end is None else end
    if start < 0:
        raise SandboxError(f"start must be 0 or more (got {start}).")
    if start >= end:
        raise SandboxError(f"start ({start}) must be less than end ({end}) when reading {what}.")
    if end - start > limit:
        raise SandboxError(f"At most {limit} {what} can be read at a time: end - start was {end - start}.")
    return items[start:end]


def visible_project(ctx: Context, project_id: int) -> sqlite3.Row:
    """The project if the caller owns it or collaborates on it; otherwise a not-found error."""
    row = ctx.store.one(
        "SELECT * FROM projects WHERE project_id = ? AND (org_id = ? OR project_id IN "
        "(SELECT project_id FROM collaborators WHERE user_id = ?))",
        project_id, ctx.org_id, ctx.user_id,
    )
    if row is None:
        raise SandboxError(f"Project {project_id} not found. Use list_projects to see the projects you can access.")
    return row


def project_files(ctx: Context, project_id: int) -> dict[str, str]:
    rows = ctx.store.query("SELECT name, content FROM files WHERE project_id = ? ORDER BY name", project_id)
    return {row["name"]: row["content"] for row in rows}


def touch(ctx: Context, project_id: int) -> None:
    with ctx.store.transaction() as db:
        db.execute("UPDATE projects SET modified = ? WHERE project_id = ?", (now(), project_id))


def check_organization(ctx: Context, organization_id: str) -> None:
    if organization_id != ctx.org_id:
        raise SandboxError(f"Organization {organization_id} not found or not yours. Your sandbox organization id "
                           f"is {ctx.org_id} (read_account shows it).")


def successful_build(ctx: Context, project: sqlite3.Row, compile_id: str) -> sqlite3.Row:
    """The project's compile job ``compile_id``, which must have built successfully."""
    build = ctx.store.one("SELECT * FROM compiles WHERE compile_id = ? AND project_id = ?", compile_id,
                          project["project_id"])
    if build is None:
        raise SandboxError(f"Compile {compile_id} not found in project {project['project_id']}: create_compile first "
                           "and pass the compileId it returns.")
    if build["state"] != "BuildSuccess":
        raise SandboxError(f"Compile {compile_id} failed ({build['state']}); fix the build errors shown by "
                           "read_compile and compile again.")
    return build
