"""SQLite state of the sandbox: users, projects, files, compiles and the object store.

Plain ``sqlite3`` keeps the emulator dependency-free and fast; one connection is shared
behind a lock (calls are short and local). A file path persists state across restarts;
``":memory:"`` gives each test a clean world.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_COLUMNS = """(
    project_id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, owner_id TEXT NOT NULL,
    name TEXT NOT NULL, language TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL, modified TEXT NOT NULL, nodes TEXT NOT NULL DEFAULT '[]',
    lock_source TEXT)"""
PROJECT_NAMES = "project_id, org_id, owner_id, name, language, description, created, modified, nodes, lock_source"
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, token TEXT NOT NULL, org_id TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenant_users (
    tenant TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users);
CREATE TABLE IF NOT EXISTS projects {projects};
CREATE TABLE IF NOT EXISTS files (
    project_id INTEGER NOT NULL REFERENCES projects ON DELETE CASCADE, name TEXT NOT NULL,
    content TEXT NOT NULL, modified TEXT NOT NULL, PRIMARY KEY (project_id, name));
CREATE TABLE IF NOT EXISTS collaborators (
    project_id INTEGER NOT NULL REFERENCES projects ON DELETE CASCADE, user_id TEXT NOT NULL,
    live_control INTEGER NOT NULL, write INTEGER NOT NULL, PRIMARY KEY (project_id, user_id));
CREATE TABLE IF NOT EXISTS compiles (
    compile_id TEXT PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects ON DELETE CASCADE,
    state TEXT NOT NULL, logs TEXT NOT NULL, parameters TEXT NOT NULL, snapshot TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    org_id TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL, mime TEXT NOT NULL,
    created TEXT NOT NULL, modified TEXT NOT NULL, PRIMARY KEY (org_id, key));
CREATE TABLE IF NOT EXISTS backtests (
    backtest_id TEXT PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects ON DELETE CASCADE,
    compile_id TEXT NOT NULL, name TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0, created TEXT NOT NULL, parameters TEXT NOT NULL,
    result TEXT, error TEXT, stacktrace TEXT, initialize_error INTEGER NOT NULL DEFAULT 0,
    optimization_id TEXT REFERENCES optimizations ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS optimizations (
    optimization_id TEXT PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects ON DELETE CASCADE,
    compile_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL,
    request TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS live_deployments (
    deploy_id TEXT PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects ON DELETE CASCADE,
    compile_id TEXT NOT NULL, org_id TEXT NOT NULL, status TEXT NOT NULL, launched TEXT NOT NULL, stopped TEXT,
    snapshot TEXT, error TEXT, stacktrace TEXT);
CREATE TABLE IF NOT EXISTS object_jobs (
    job_id TEXT PRIMARY KEY, org_id TEXT NOT NULL, keys TEXT NOT NULL, created TEXT NOT NULL);
""".replace("{projects}", PROJECT_COLUMNS)


def now() -> str:
    """Timestamps in the cloud's format: ``2024-01-02 15:04:05`` (UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def organization_for(user_id: str) -> str:
    """Each sandbox user gets one organization with a stable, cloud-looking id."""
    return hashlib.md5(f"sandbox-org:{user_id}".encode()).hexdigest()  # noqa: S324 (an id, not security)


class SandboxStore:
    """All sandbox state; every method is one short transaction."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA foreign_keys = ON")
        if str(path) != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
        self._lock = threading.RLock()
        self._allow_duplicate_project_names()
        self._db.executescript(SCHEMA)

    def _allow_duplicate_project_names(self) -> None:
        """Rebuild a projects table from before names could repeat (the cloud lets two projects share a name)."""
        row = self._db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'projects'").fetchone()
        if row is None or "UNIQUE (org_id, name)" not in row[0]:
            return
        self._db.execute("PRAGMA foreign_keys = OFF")  # dropping the old table must not cascade to its rows
        try:
            self._db.executescript(
                f"BEGIN IMMEDIATE; CREATE TABLE projects_rebuilt {PROJECT_COLUMNS};"
                f"INSERT INTO projects_rebuilt ({PROJECT_NAMES}) SELECT {PROJECT_NAMES} FROM projects;"
                "DROP TABLE projects; ALTER TABLE projects_rebuilt RENAME TO projects; COMMIT;"
            )
        finally:
            self._db.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        rows = self.query(sql, *args)
        return rows[0] if rows else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- users -----------------------------------------------------------------------------
    def register_user(self, user_id: str, token: str) -> str:
        """Register (or re-key) a user; returns their organization id."""
        org_id = organization_for(user_id)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET token = excluded.token",
                (user_id, token, org_id, now()),
            )
        return org_id

    def user(self, user_id: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM users WHERE user_id = ?", user_id)

    def tenant_user(self, tenant: str) -> sqlite3.Row:
        """The sandbox user of a shared deployment's tenant, created on first use.

        Each tenant is its own user with its own organization, so tenants see only their own
        projects, backtests and objects, exactly as separate QuantConnect accounts would.
        """
        with self.transaction() as db:
            row = db.execute("SELECT users.* FROM tenant_users JOIN users USING (user_id) WHERE tenant = ?",
                             (tenant,)).fetchone()
            if row is not None:
                return row
            highest = db.execute("SELECT MAX(CAST(user_id AS INTEGER)) FROM users "
                                 "WHERE CAST(user_id AS INTEGER) >= 200000").fetchone()[0]
            user_id = str((highest or 200000) + 1)
            db.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                       (user_id, secrets.token_hex(20), organization_for(user_id), now()))
            db.execute("INSERT INTO tenant_users VALUES (?, ?)", (tenant, user_id))
            return db.execute("SELECT * FROM users WHERE user_id = ?", (user_id,)).fetchone()

    # --- helpers for JSON columns ----------------------------------------------------------
    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))

    @staticmethod
    def loads(value: str) -> Any:
        return json.loads(value)
