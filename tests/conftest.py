from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastmcp import Client

from qcmcp.config import Settings, load_settings
from qcmcp.server import build_server
from tests.fake_qc import FAKE_TOKEN, FAKE_USER_ID


@pytest.fixture(autouse=True)
def isolated_sandbox(tmp_path, monkeypatch) -> None:
    """No test touches the real user data directory or inherits real credentials."""
    monkeypatch.setenv("QCMCP_SANDBOX_DB", str(tmp_path / "sandbox.sqlite3"))
    monkeypatch.setenv("QCMCP_AUDIT_DB", str(tmp_path / "audit.sqlite3"))
    monkeypatch.setenv("QCMCP_VAULT_URL", f"sqlite:///{tmp_path / 'vault.sqlite3'}")
    for name in ("QUANTCONNECT_USER_ID", "QUANTCONNECT_API_TOKEN", "QUANTCONNECT_ORGANIZATION_ID", "QCMCP_BACKEND",
                 "QCMCP_VAULT_KEY", "QCMCP_VAULT_KEY_FILE", "QCMCP_POLICY_FILE", "QCMCP_LIVE_TRADING"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of its own for this test session (see tests/postgres.py)."""
    from tests.postgres import start_postgres

    yield from start_postgres()


@pytest.fixture
def fresh_database(postgres_url) -> str:
    """A new, empty database on the session's PostgreSQL server."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        QUANTCONNECT_USER_ID=FAKE_USER_ID,
        QUANTCONNECT_API_TOKEN=FAKE_TOKEN,
        QUANTCONNECT_API_URL="https://qc.test/api/v2",
        QCMCP_MAX_RETRIES=0,
    )


class Recorder:
    """An httpx.MockTransport that records requests and answers with a callable."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.requests: list[httpx.Request] = []
        self._answer = answer
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._answer(request)

    def json_bodies(self) -> list[Any]:
        return [json.loads(r.content or b"{}") for r in self.requests]


@pytest.fixture
def mcp_client(settings: Settings) -> Callable[..., Client]:
    """An in-memory MCP client for a server whose API answers come from ``answer``."""

    def make(answer: Callable[[httpx.Request], httpx.Response], *, settings: Settings = settings,
             **kwargs: Any) -> Client:
        recorder = Recorder(answer)
        server = build_server(settings, transport=recorder.transport, **kwargs)
        client = Client(server)
        client.recorder = recorder  # type: ignore[attr-defined]
        return client

    return make
