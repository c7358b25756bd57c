"""The audit log on PostgreSQL, for deployments with several replicas writing one chain.

Same rows, same hash chain and same verification as the SQLite log. Appends take a
transaction-scoped advisory lock, so replicas extend one chain without forks; sequence
numbers are assigned under that lock (no gaps from rolled-back inserts). Triggers refuse
UPDATE, DELETE and TRUNCATE; a one-row head table, written in the same transaction, remembers
the last sequence number and hash, so a truncated tail is detected (forging the head too would
go unseen — keep the database writable by the server's role only).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from sqlalchemy import text

from qcmcp.security.databases import make_engine
from qcmcp.security.audit import FIELDS, GENESIS, Verification, new_row, row_hash, verify_chain

LOCK_KEY = 0x71636D6370  # "qcmcp": serialises appends (and schema creation) across replicas
SCHEMA = [
    "SELECT pg_advisory_xact_lock(:key)",
    """CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY, ts TEXT NOT NULL, request_id TEXT NOT NULL, subject TEXT NOT NULL,
        tenant TEXT NOT NULL, tool TEXT NOT NULL, arguments TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_log_by_subject ON audit_log (subject, tool, ts)",
    """CREATE TABLE IF NOT EXISTS audit_log_head (
        id INT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL)""",
    """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$""",
    """CREATE OR REPLACE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


class PostgresAuditLog:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, "QCMCP_AUDIT_DB")
        self._lock = threading.Lock()
        with self.engine.begin() as connection:
            for statement in SCHEMA:
                connection.execute(text(statement), {"key": LOCK_KEY})

    def check_writable(self) -> None:
        """Raise if the database cannot take a write now (readiness)."""
        from sqlalchemy import text

        with self.engine.begin() as connection:
            connection.execute(text("SELECT 1 FROM audit_log LIMIT 1"))

    def append(self, **fields: Any) -> None:
        row = new_row(**fields)
        with self._lock, self.engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            head = connection.execute(text("SELECT seq, hash FROM audit_log_head WHERE id = 1")).first()
            seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
            digest = row_hash(prev, row)
            connection.execute(text(f"INSERT INTO audit_log (seq, {', '.join(FIELDS)}, prev_hash, hash) "
                                    f"VALUES (:seq, {', '.join(':' + f for f in FIELDS)}, :prev_hash, :hash)"),
                               {**row, "seq": seq, "prev_hash": prev, "hash": digest})
            connection.execute(text("INSERT INTO audit_log_head VALUES (1, :seq, :hash) ON CONFLICT (id) DO UPDATE "
                                    "SET seq = excluded.seq, hash = excluded.hash"), {"seq": seq, "hash": digest})

    def rows(self, limit: int | None = None, **filters: str) -> list[dict[str, Any]]:
        where = " AND ".join(f"{name} = :{name}" for name in filters) or "TRUE"
        sql = f"SELECT * FROM audit_log WHERE {where} ORDER BY seq DESC"  # noqa: S608 - names are our own
        if limit:
            sql += f" LIMIT {int(limit)}"
        with self.engine.connect() as connection:
            found = [dict(row._mapping) for row in connection.execute(text(sql), filters)]
        return list(reversed(found))

    def committed(self, subject: str, tool: str, argument: str, since: datetime) -> float:
        with self.engine.connect() as connection:
            total = connection.execute(text(
                "SELECT COALESCE(SUM(CASE WHEN jsonb_typeof(arguments::jsonb -> :argument) = 'number' "
                "THEN (arguments::jsonb ->> :argument)::float8 ELSE 0 END), 0) FROM audit_log "
                "WHERE subject = :subject AND tool = :tool AND outcome = 'ok' AND ts >= :since"),
                {"argument": argument, "subject": subject, "tool": tool,
                 "since": since.isoformat(timespec="milliseconds")}).scalar()
        return float(total or 0.0)

    def verify(self) -> Verification:
        with self.engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(text("SELECT * FROM audit_log ORDER BY seq"))]
            head = connection.execute(text("SELECT seq, hash FROM audit_log_head WHERE id = 1")).first()
        result = verify_chain(rows, head[0] if head else None)
        if result.ok and head is not None and rows and rows[-1]["hash"] != head[1]:
            return Verification(False, len(rows), f"row {rows[-1]['seq']} is not the last row that was written")
        return result

    def close(self) -> None:
        self.engine.dispose()
