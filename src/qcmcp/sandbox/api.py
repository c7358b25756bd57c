"""Route registry and shared helpers for the sandbox's API handlers.

A handler is a plain function ``(ctx, body) -> dict``: it reads and writes the store and
raises :class:`SandboxError` for anything the cloud would answer with ``success: false``.
Request bodies are validated with the same generated models the MCP tools use.
"""

from __future__ import annotations

import json
import sqlite3
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError
from pydantic.fields import FieldInfo

from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.limits import MAX_LABEL_CHARS, MAX_LISTED_PROBLEMS, shorten
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


def validate(model_name: str | None, body: dict[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """Check the body against the request model; explain what is missing or wrong.

    JSON bodies are checked strictly, as JSON: an integer field takes only an integer, not "12" or 1.5,
    so handlers get exactly the documented types. ``strict=False`` is for form bodies, whose fields are all text.
    """
    if model_name is None:
        return body
    from qcmcp.qc import models

    model = getattr(models, model_name)
    try:
        if strict:
            model.model_validate_json(json.dumps(body), strict=True)
        else:  # form fields are text and uploads bytes, whatever the model says: take the model's conversion
            body = model.model_validate(body).model_dump(by_alias=True, exclude_unset=True)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False, include_input=False):
            field = ".".join(str(part) for part in item["loc"]) or "body"
            field = field if len(field) <= MAX_LABEL_CHARS else field[:MAX_LABEL_CHARS] + "..."
            problems.append(f"Missing required field '{field}'" if item["type"] == "missing"
                            else f"Invalid field '{field}': {item['msg']}")
        unique = list(dict.fromkeys(problems))
        shown = unique[:MAX_LISTED_PROBLEMS] + ([f"and {len(unique) - MAX_LISTED_PROBLEMS} more problems"]
                                                if len(unique) > MAX_LISTED_PROBLEMS else [])
        raise SandboxError("; ".join(shown)) from None
    nulls = _nulls(model, body, "")
    if nulls:
        raise SandboxError(f"Field{'s' if len(nulls) > 1 else ''} {', '.join(repr(n) for n in nulls)} cannot be null: "
                           "leave an optional field out instead of sending null.")
    return body


def _nullable(field: FieldInfo) -> bool:
    """The spec marks no field nullable; a few descriptions say "If null, ..." and those take null."""
    return "null" in (field.description or "").lower()


def _shape(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    """Whether a field holds one request model, a list or a dict of them, or something else."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(arguments) == 1:
        return _shape(arguments[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and not issubclass(annotation, RootModel):
        return "model", annotation
    if typing.get_origin(annotation) in (list, dict) and arguments:
        kind, model = _shape(arguments[-1])
        if kind == "model":
            return typing.get_origin(annotation).__name__, model
    return "plain", None


def _nulls(model: type[BaseModel], value: dict[str, Any], where: str) -> list[str]:
    """Fields of ``value`` (and of the models nested in it) sent as null though the API does not allow it.

    Pydantic refuses null only for required fields; an optional one sent as null means nothing to the
    cloud's C# models either, and here it would be read as "all projects" or a missing name.
    """
    by_name = {field.alias or name: field for name, field in model.model_fields.items()}
    found = []
    for key, item in value.items():
        field = by_name.get(key)
        if field is None:
            continue  # an extra field the API ignores
        path = f"{where}.{key}" if where else key
        if item is None:
            if not _nullable(field):
                found.append(path)
            continue
        kind, nested = _shape(field.annotation)
        if kind == "model" and isinstance(item, dict):
            found += _nulls(nested, item, path)
        elif kind == "list" and isinstance(item, list):
            found += [n for i, e in enumerate(item) if isinstance(e, dict) for n in _nulls(nested, e, f"{path}.{i}")]
        elif kind == "dict" and isinstance(item, dict):
            found += [n for k, e in item.items() if isinstance(e, dict) for n in _nulls(nested, e, f"{path}.{k}")]
    return found


def check_page(start: int | None, end: int | None, limit: int, what: str) -> tuple[int, int]:
    """The API's start (inclusive) / end (exclusive) paging rules: 0 <= start < end, at most ``limit`` apart."""
    start = 0 if start is None else start
    end = start + limit if end is None else end
    if start < 0:
        raise SandboxError(f"start must be 0 or more (got {start}).")
    if start >= end:
        raise SandboxError(f"start ({start}) must be less than end ({end}) when reading {what}.")
    if end - start > limit:
        raise SandboxError(f"At most {limit} {what} can be read at a time: end - start was {end - start}.")
    return start, end


def paged(items: list[Any], start: int | None, end: int | None, limit: int, what: str) -> list[Any]:
    start, end = check_page(start, end, limit, what)
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
        raise SandboxError(f"Organization {shorten(organization_id)} not found or not yours. Your sandbox "
                           "organization id "
                           f"is {ctx.org_id} (read_account shows it).")


def successful_build(ctx: Context, project: sqlite3.Row, compile_id: str) -> sqlite3.Row:
    """The project's compile job ``compile_id``, which must have built successfully."""
    build = ctx.store.one("SELECT * FROM compiles WHERE compile_id = ? AND project_id = ?", compile_id,
                          project["project_id"])
    if build is None:
        raise SandboxError(f"Compile {shorten(compile_id)} not found in project {project['project_id']}: "
                           "create_compile first "
                           "and pass the compileId it returns.")
    if build["state"] != "BuildSuccess":
        raise SandboxError(f"Compile {compile_id} failed ({build['state']}); fix the build errors shown by "
                           "read_compile and compile again.")
    return build
