"""Every call is audited with secrets redacted; any edited or deleted row is detected."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import httpx
from typer.testing import CliRunner

from qcmcp.cli import app
from qcmcp.security.audit import AuditLog, redact

BROKERAGE = {"id": "InteractiveBrokersBrokerage", "ib-user-name": "trader7", "ib-account": "U123",
             "ib-password": "hunter2-SECRET", "ib-weekly-restart-utc-time": "22:00:00"}


def test_redaction_masks_credentials_wherever_they_are():
    arguments = {"projectId": 1, "brokerage": BROKERAGE, "dataProviders": {"TradierBrokerage": {
        "id": "TradierBrokerage", "tradier-access-token": "tok"}}, "key": "models/a.json", "objectData": "x" * 50,
        "note": "uses known-secret-value inside"}
    masked = redact(arguments, ["known-secret-value"])
    assert masked["brokerage"] == {"id": "InteractiveBrokersBrokerage", "ib-user-name": "***", "ib-account": "***",
                                   "ib-password": "***", "ib-weekly-restart-utc-time": "***"}
    assert masked["dataProviders"]["TradierBrokerage"] == {"id": "TradierBrokerage", "tradier-access-token": "***"}
    assert masked["key"] == "models/a.json" and masked["objectData"] == "<50 characters>"
    assert masked["note"] == "uses *** inside" and masked["projectId"] == 1


async def test_every_tool_call_is_recorded_with_secrets_redacted(mcp_client, tmp_path, monkeypatch):
    client = mcp_client(lambda request: httpx.Response(200, json={"success": True, "projects": []}))
    async with client:
        await client.call_tool("list_projects", {})
        await client.call_tool("create_project", {"name": "x"}, raise_on_error=False)  # invalid: missing language
        await client.call_tool("create_live_algorithm", {"versionId": "-1", "projectId": 1, "compileId": "c",
                                                         "nodeId": "n", "brokerage": BROKERAGE, "confirm": "1"},
                               raise_on_error=False)
    import os

    audit = AuditLog(os.environ["QCMCP_AUDIT_DB"])
    rows = audit.rows()
    assert [(r["tool"], r["outcome"]) for r in rows] == [("list_projects", "ok"), ("create_project", "error"),
                                                        ("create_live_algorithm", "ok")]
    assert all(r["subject"] == "local" and r["tenant"] == "local" and r["latency_ms"] >= 0 for r in rows)
    assert "Missing required parameter 'language'" in rows[1]["error"]
    everything = str(rows)
    assert "hunter2-SECRET" not in everything and "U123" not in everything
    assert audit.verify().ok


def write_rows(path, count: int) -> AuditLog:
    audit = AuditLog(path)
    for i in range(count):
        audit.append(request_id=str(i), subject="s", tenant="t", tool="read_account", arguments={"i": i}, outcome="ok",
                     error="", latency_ms=1.0, secrets=[])
    return audit


def tamper(path, *statements: str) -> None:
    raw = sqlite3.connect(path)
    raw.executescript("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;" + ";".join(statements))
    raw.commit()
    raw.close()


def test_the_log_refuses_updates_and_deletes(tmp_path):
    write_rows(tmp_path / "a.sqlite3", 2).close()
    raw = sqlite3.connect(tmp_path / "a.sqlite3")
    for statement in ("UPDATE audit_log SET outcome = 'ok'", "DELETE FROM audit_log"):
        try:
            raw.execute(statement)
            raise AssertionError("the trigger did not fire")
        except sqlite3.DatabaseError as error:
            assert "append-only" in str(error)


def test_verify_detects_edits_deletions_and_truncation(tmp_path):
    cases = {
        "edited": ("UPDATE audit_log SET tool = 'delete_project' WHERE seq = 3", "row 3 was edited"),
        "deleted": ("DELETE FROM audit_log WHERE seq = 2", "rows 2..2 were deleted"),
        "truncated": ("DELETE FROM audit_log WHERE seq >= 4", "rows 4..5 were deleted"),
    }
    for name, (statement, expected) in cases.items():
        path = tmp_path / f"{name}.sqlite3"
        write_rows(path, 5).close()
        assert AuditLog(path).verify().ok
        tamper(path, statement)
        result = AuditLog(path).verify()
        assert not result.ok and expected in result.problem, (name, result)


def test_cli_verify_and_tail(tmp_path, monkeypatch):
    path = tmp_path / "cli.sqlite3"
    write_rows(path, 3).close()
    monkeypatch.setenv("QCMCP_AUDIT_DB", str(path))
    ok = CliRunner().invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "OK: 3 rows" in ok.output
    tail = CliRunner().invoke(app, ["audit", "tail", "-n", "2", "--tool", "read_account"])
    assert tail.exit_code == 0 and len(tail.output.strip().splitlines()) == 2
    tamper(path, "UPDATE audit_log SET subject = 'someone-else' WHERE seq = 1")
    bad = CliRunner().invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1 and "TAMPERED: row 1 was edited" in bad.output


def test_a_crash_loses_no_committed_rows(tmp_path):
    path = tmp_path / "crash.sqlite3"
    script = (f"from qcmcp.security.audit import AuditLog\nimport os\nlog = AuditLog({str(path)!r})\n"
              "for i in range(50):\n    log.append(request_id=str(i), subject='s', tenant='t', tool='x', arguments={}, "
              "outcome='ok', error='', latency_ms=0.1, secrets=[])\nos._exit(1)\n")
    assert subprocess.run([sys.executable, "-c", script]).returncode == 1
    audit = AuditLog(path)
    assert len(audit.rows()) == 50 and audit.verify().ok


async def test_brokerage_credentials_reach_no_log_audit_row_or_result(mcp_client, caplog):
    import logging
    import os

    caplog.set_level(logging.DEBUG)
    password = "PW-LEAK-CHECK-42"
    client = mcp_client(lambda request: httpx.Response(200, json={"success": False, "errors": ["node busy"]}))
    async with client:
        result = await client.call_tool("create_live_algorithm", {
            "versionId": "-1", "projectId": 1, "compileId": "c", "nodeId": "n",
            "brokerage": {**BROKERAGE, "ib-password": password}, "confirm": "1"}, raise_on_error=False)
    sent = client.recorder.requests[0].content.decode()
    assert password in sent  # it did go to QuantConnect, which needs it ...
    assert password not in caplog.text  # ... and nowhere else
    assert password not in str(AuditLog(os.environ["QCMCP_AUDIT_DB"]).rows())
    assert password not in str(result.content) + str(result.structured_content)
