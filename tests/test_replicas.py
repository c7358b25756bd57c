"""Replicas behind any load balancer: with stateless streamable HTTP (on by default with QCMCP_REDIS_URL) a session
begun on one replica goes on on another; with sessions kept in each process, the other replica does not know it."""

from __future__ import annotations

import httpx
import pytest

from qcmcp.config import load_settings
from tests.test_metrics_http import stop
from tests.test_security import INITIALIZE, start

HEADERS = {"Accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}


def begin(url: str) -> dict[str, str]:
    """initialize + initialized on one replica; the headers a client then sends with every request."""
    with httpx.Client(timeout=20) as http:
        started = http.post(f"{url}/mcp", json=INITIALIZE, headers=HEADERS)
        assert started.status_code == 200, started.text
        headers = dict(HEADERS)
        if started.headers.get("mcp-session-id"):
            headers["mcp-session-id"] = started.headers["mcp-session-id"]
        http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


def call(url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{url}/mcp", headers=headers, timeout=20, json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "read_account", "arguments": {}}})


@pytest.mark.parametrize("stateless", ["on", "off"])
def test_a_session_begun_on_one_replica_continues_on_the_other(tmp_path, stateless):
    replicas = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            replicas.append(start(tmp_path / name, {"QCMCP_HTTP_STATELESS": stateless}, "--insecure-no-auth"))
        (_, url_a, _), (_, url_b, _) = replicas
        headers = begin(url_a)
        answer = call(url_b, headers)
        if stateless == "on":
            assert answer.status_code == 200 and '"isError":false' in answer.text, answer.text
            assert "mcp-session-id" not in headers  # nothing for a replica to know about the client
        else:
            assert answer.status_code == 404 and "mcp-session-id" in headers  # B never saw A's session
    finally:
        for process, _, _ in replicas:
            stop(process)


def test_stateless_http_follows_redis_unless_set():
    assert load_settings(QCMCP_REDIS_URL="redis://127.0.0.1:6379/0").stateless_http
    assert not load_settings().stateless_http
    assert not load_settings(QCMCP_REDIS_URL="redis://127.0.0.1:6379/0", QCMCP_HTTP_STATELESS="off").stateless_http
    assert load_settings(QCMCP_HTTP_STATELESS="ON").stateless_http


def test_json_responses_when_asked(tmp_path):
    """QCMCP_HTTP_JSON_RESPONSE: each request answered with one JSON body (no event stream)."""
    process, url, _ = start(tmp_path, {"QCMCP_HTTP_JSON_RESPONSE": "true"}, "--insecure-no-auth")
    try:
        headers = begin(url)
        answer = call(url, headers)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
        assert answer.json()["result"]["isError"] is False
    finally:
        stop(process)
