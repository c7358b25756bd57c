"""Database URLs and engines shared by the credential vault and the PostgreSQL audit log.

SQLAlchemy is imported only when an engine is made, so checking a URL costs nothing at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qcmcp.config import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

POSTGRES_PREFIXES = ("postgres://", "postgresql://", "postgresql+psycopg://")


def is_postgres(url: str) -> bool:
    return url.startswith(POSTGRES_PREFIXES)


def sqlalchemy_url(url: str) -> str:
    """``postgres(ql)://`` URLs use the psycopg 3 driver; anything else is passed through."""
    if is_postgres(url) and not url.startswith("postgresql+"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, setting: str) -> Engine:
    """An engine for ``url`` (named by ``setting`` in errors); SQLite gets its folder, WAL and a busy timeout."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url = sqlalchemy_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(f"{setting} is not a database URL (e.g. sqlite:///path or "
                                 "postgresql://user@host/db).") from None
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 10})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")

    return engine
