"""The audit log on PostgreSQL: one chain for several writers, append-only, tampering detected."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from fastmcp import Client
from typer.testing import CliRunner

from qcmcp.cli import app
from qcmcp.security.audit import open_audit_log
from qcmcp.security.audit_postgres import PostgresAuditLog
from qcmcp.server import build_server


def append(log, i: int, **overrides) -> None:
    fields = {"request_id": str(i), "subject": "s", "tenant": "t", "tool": "read_account", "arguments": {"i": i},
              "outcome": "ok", "error": "", "latency_ms": 1.25, "secrets": []}
    log.append(**{**fields, **overrides})


def test_writers_in_parallel_extend_one_intact_chain(fresh_database):
    logs = [open_audit_log(fresh_database) for _ in range(3)]  # three "replicas"
    assert all(isinstance(log, PostgresAuditLog) for log in logs)
    threads = [threading.Thread(target=lambda log=log: [append(log, i) for i in range(40)]) for log in logs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = logs[0].verify()
    assert result.ok and result.rows == 120, result
    assert [row["seq"] for row in logs[1].rows()] == list(range(1, 121))
    assert len(logs[2].rows(5, tool="read_account")) == 5


def test_updates_deletes_and_truncate_are_refused(fresh_database):
    log = open_audit_log(fresh_database)
    append(log, 1)
    with psycopg.connect(fresh_database.replace("postgresql+psycopg", "postgresql"), autocommit=True) as db:
        for statement in ("UPDATE audit_log SET outcome = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(statement)
    assert log.verify().ok


@pytest.mark.parametrize(("statement", "expected"), [
    ("UPDATE audit_log SET tool = 'delete_project' WHERE seq = 3", "row 3 was edited"),
    ("DELETE FROM audit_log WHERE seq = 2", "rows 2..2 were deleted"),
    ("DELETE FROM audit_log WHERE seq >= 4", "rows 4..5 were deleted"),
])
def test_verify_detects_tampering_by_the_table_owner(fresh_database, statement, expected):
    log = open_audit_log(fresh_database)
    for i in range(5):
        append(log, i)
    with psycopg.connect(fresh_database, autocommit=True) as db:
        db.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        db.execute(statement)
    result = log.verify()
    assert not result.ok and expected in result.problem, result


def test_committed_qcc_and_cli_on_postgres(fresh_database, monkeypatch):
    log = open_audit_log(fresh_database)
    append(log, 1, tool="create_optimization", arguments={"estimatedCost": 12.5})
    append(log, 2, tool="create_optimization", arguments={"estimatedCost": "junk"})
    append(log, 3, tool="create_optimization", arguments={"estimatedCost": 4}, outcome="error")
    since = datetime.now(UTC) - timedelta(hours=1)
    assert log.committed("s", "create_optimization", "estimatedCost", since) == 12.5
    monkeypatch.setenv("QCMCP_AUDIT_DB", fresh_database)
    verified = CliRunner().invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0 and "OK: 3 rows" in verified.output


async def test_the_server_audits_into_postgres(fresh_database, settings):
    answer = {"success": True, "projects": []}
    server = build_server(settings.model_copy(update={"audit_db": fresh_database}),
                          transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)))
    async with Client(server) as client:
        await client.call_tool("list_projects", {})
    rows = open_audit_log(fresh_database).rows()
    assert [(row["tool"], row["outcome"], row["subject"]) for row in rows] == [("list_projects", "ok", "local")]
