"""Sandbox endpoints: compile jobs and the AI helpers."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from qcmcp.sandbox import assistant
from qcmcp.sandbox.api import Context, project_files, route, visible_project
from qcmcp.sandbox.compiler import check_project
from qcmcp.sandbox.errors import SandboxError
from qcmcp.sandbox.limits import shorten
from qcmcp.sandbox.store import now


@route("/compile/create", "CreateCompileRequest")
def create_compile(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    files = project_files(ctx, project["project_id"])
    result = check_project(project["language"], files)
    signature = hashlib.md5("".join(f"{n}\0{c}\0" for n, c in sorted(files.items())).encode()).hexdigest()  # noqa: S324
    compile_id = f"{uuid.uuid4().hex}-{signature}"
    state = "BuildSuccess" if result.ok else "BuildError"
    with ctx.store.transaction() as db:
        db.execute("INSERT INTO compiles VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (compile_id, project["project_id"], state, ctx.store.dumps(result.logs()),
                    ctx.store.dumps(result.parameters), ctx.store.dumps(files), now()))
    return {"compileId": compile_id, "state": state, "parameters": result.parameters, "projectId": project["project_id"],
            "signature": signature, "signatureOrder": sorted(files)}


@route("/compile/read", "ReadCompileRequest")
def read_compile(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    project = visible_project(ctx, body["projectId"])
    row = ctx.store.one("SELECT * FROM compiles WHERE compile_id = ? AND project_id = ?", body["compileId"], project["project_id"])
    if row is None:
        raise SandboxError(f"Compile {shorten(body['compileId'])} not found in project {project['project_id']}. "
                           "Use the compileId that create_compile returned.")
    return {"compileId": row["compile_id"], "state": row["state"], "logs": ctx.store.loads(row["logs"])}


@route("/ai/tools/backtest-init", "BacktestInitRequest")
def backtest_init(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Compile checks, then the algorithm's initialize() in a worker process."""
    if body["language"] != "Py":
        raise SandboxError("Initialization checks for C# need the QuantConnect cloud; the sandbox runs Python only.")
    files = assistant.sources(body["files"])
    build = check_project("Py", files)
    if not build.ok:
        errors = "\n".join(p.log_line() for p in build.problems if p.fatal)
        return {"state": "Error", "version": 2.0, "payload": errors, "payloadType": "String"}
    outcome = ctx.runner.initialize_only(files)
    if "error" in outcome:
        error = outcome["error"]
        return {"state": "Error", "version": 2.0, "payload": f"{error['message']}\n{error['stacktrace']}".strip(),
                "payloadType": "String"}
    return {"state": "End", "version": 2.0, "payload": "initialize() ran without errors.", "payloadType": "String"}


@route("/ai/tools/syntax-check", "BasicFilesRequest")
def syntax_check(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return assistant.syntax_check(body["language"], body["files"])


@route("/ai/tools/pep8-convert", "PEP8ConvertRequest")
def pep8_convert(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return assistant.pep8_convert(body["files"])


@route("/ai/tools/complete", "CodeCompletionRequest")
def complete(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return assistant.complete(body["language"], body["sentence"], body.get("responseSizeLimit"))


@route("/ai/tools/error-enhance", "ErrorEnhanceRequest")
def enhance_error(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return assistant.enhance_error(body["language"], body["error"])


@route("/ai/tools/search", "SearchRequest")
def search(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return assistant.search()
