"""The audit log: every tool call, append-only and hash-chained.

Each row stores the SHA-256 of the previous row's hash and its own canonical content, so
editing or deleting any row breaks the chain from that row on; ``verify`` finds the first
break. Triggers refuse UPDATE and DELETE outright; the chain catches whoever bypasses them
(editing the file, dropping the triggers); truncating the tail is caught through SQLite's
own sequence counter — only someone who also forges that table goes unseen, so keep the
file where only the server can write. SQLite in WAL mode: a committed row survives a
crash of the process.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qcmcp.security.databases import is_postgres

GENESIS = "0" * 64
FIELDS = ("ts", "request_id", "subject", "tenant", "tool", "arguments", "outcome", "error", "latency_ms")
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, request_id TEXT NOT NULL, subject TEXT NOT NULL,
    tenant TEXT NOT NULL, tool TEXT NOT NULL, arguments TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT NOT NULL,
    latency_ms REAL NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_by_subject ON audit_log (subject, tool, ts);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
# Argument names whose values are credentials, wherever they appear (brokerage settings use kebab-case).
SECRET_NAME = re.compile(r"(password|secret|token|api-?key|private-?key|access-?key|refresh)", re.IGNORECASE)
MASK = "***"


def is_credential_block(name: str) -> bool:
    """Brokerage settings (``brokerage``, ``dataProviders``, ``<Name>Brokerage``): credentials by structure."""
    return name in ("brokerage", "dataProviders") or name.endswith("Brokerage")


def mask(value: Any) -> Any:
    """The shape of ``value`` with no content: dict keys and list lengths kept, every scalar (null too) masked."""
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    return MASK


def redact_credentials(value: Any, name: str, secrets: list[str]) -> Any:
    """A brokerage block masked whole, except its own top-level ``id`` (a string naming the brokerage).

    Brokerages use names of their own for credentials (``ib-user-name``, ``login``, ``ib-account``) and callers
    nest them or pass the block as a string, so matching names cannot be trusted here: everything is masked, at
    any depth and of any type. ``dataProviders`` maps a provider's name to its block; each keeps its ``id``.
    """
    if name == "dataProviders" and isinstance(value, dict):
        return {provider: redact_credentials(item, "provider", secrets) for provider, item in value.items()}
    if name == "dataProviders" and isinstance(value, list):
        return [redact_credentials(item, "provider", secrets) for item in value]
    if isinstance(value, dict):
        return {key: redact(item, secrets, key) if key == "id" and isinstance(item, str) else mask(item)
                for key, item in value.items()}
    return mask(value)


def redact(value: Any, secrets: list[str], parent: str = "") -> Any:
    """Arguments with credentials masked: by name, brokerage blocks by structure, and any known secret value.

    ``parent`` is the name ``value`` was given under (the argument or key), empty at the top.
    """
    if is_credential_block(parent):
        return redact_credentials(value, parent, secrets)
    if isinstance(value, dict):
        return {key: MASK if SECRET_NAME.search(key) else redact(item, secrets, key) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, secrets, parent) for item in value]
    if isinstance(value, str):
        if parent == "objectData":
            return f"<{len(value)} characters>"
        for secret in secrets:
            if secret and secret in value:
                value = value.replace(secret, MASK)
    return value


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    canonical = json.dumps([prev_hash, *(row[f] for f in FIELDS)], separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Verification:
    ok: bool
    rows: int
    problem: str = ""


def verify_chain(rows: list[dict[str, Any]], issued: int | None) -> Verification:
    """Check rows (in seq order) against each other and against the last sequence number ever issued."""
    prev, expected_seq = GENESIS, 1 if rows else None
    for row in rows:
        if expected_seq is not None and row["seq"] != expected_seq:
            return Verification(False, len(rows), f"rows {expected_seq}..{row['seq'] - 1} were deleted")
        if row["prev_hash"] != prev:
            return Verification(False, len(rows), f"row {row['seq']} does not link to the row before it")
        if row_hash(prev, row) != row["hash"]:
            return Verification(False, len(rows), f"row {row['seq']} was edited after it was written")
        prev, expected_seq = row["hash"], row["seq"] + 1
    last = rows[-1]["seq"] if rows else 0
    if issued is not None and issued > last:
        # Truncating the tail leaves a valid shorter chain; the issued counter still remembers it.
        return Verification(False, len(rows), f"rows {last + 1}..{issued} were deleted")
    return Verification(True, len(rows))


def new_row(*, request_id: str, subject: str, tenant: str, tool: str, arguments: dict[str, Any], outcome: str,
            error: str, latency_ms: float, secrets: list[str]) -> dict[str, Any]:
    """One row's content, credentials redacted, ready to hash."""
    return {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "request_id": request_id,
            "subject": subject, "tenant": tenant, "tool": tool,
            "arguments": json.dumps(redact(arguments, secrets), sort_keys=True, default=str),
            "outcome": outcome, "error": redact(error, secrets), "latency_ms": round(latency_ms, 3)}


def open_audit_log(target: str | Path) -> AuditLog:
    """QCMCP_AUDIT_DB: a SQLite file, or a ``postgresql://`` URL shared by several replicas."""
    if is_postgres(str(target)):
        from qcmcp.security.audit_postgres import PostgresAuditLog

        return PostgresAuditLog(str(target))
    return AuditLog(target)


class AuditLog:
    """The SQLite audit log (the default); :class:`PostgresAuditLog` has the same interface."""

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: committed rows survive a process crash
        # Appends touch the last pages only: 512 KiB of page cache, not SQLite's 2 MiB, which a busy server filled
        # and kept (benchmarks/http_load.py: resident memory after the sessions closed).
        self._db.execute("PRAGMA cache_size = -512")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def append(self, **fields: Any) -> None:
        row = new_row(**fields)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._db.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
                prev = last["hash"] if last else GENESIS
                self._db.execute(f"INSERT INTO audit_log ({', '.join(FIELDS)}, prev_hash, hash) "  # noqa: S608
                                 f"VALUES ({', '.join('?' * len(FIELDS))}, ?, ?)",
                                 (*(row[f] for f in FIELDS), prev, row_hash(prev, row)))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def check_writable(self) -> None:
        """Raise if a row could not be appended now (readiness): takes the write lock and lets it go."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("ROLLBACK")

    def rows(self, limit: int | None = None, **filters: str) -> list[dict[str, Any]]:
        where = " AND ".join(f"{name} = ?" for name in filters) or "1"
        sql = f"SELECT * FROM audit_log WHERE {where} ORDER BY seq DESC"  # noqa: S608 - names are our own
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            found = [dict(r) for r in self._db.execute(sql, tuple(filters.values())).fetchall()]
        return list(reversed(found))

    def committed(self, subject: str, tool: str, argument: str, since: datetime) -> float:
        """Sum of a numeric argument over a subject's successful calls of a tool since ``since`` (QCC caps)."""
        with self._lock:
            row = self._db.execute(
                "SELECT TOTAL(json_extract(arguments, ?)) FROM audit_log "
                "WHERE subject = ? AND tool = ? AND outcome = 'ok' AND ts >= ?",
                (f"$.{argument}", subject, tool, since.isoformat(timespec="milliseconds"))).fetchone()
        return float(row[0] or 0.0)

    def verify(self) -> Verification:
        """Walk the chain: every row's hash must match its content and link to the row before it."""
        with self._lock:
            rows = [dict(r) for r in self._db.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()]
            issued = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
        return verify_chain(rows, issued["seq"] if issued is not None else None)

    def close(self) -> None:
        with self._lock:
            self._db.close()
