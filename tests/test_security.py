"""Shared (HTTP) mode: only valid bearer tokens get in, and each sees only its scopes' tools."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastmcp import Client

from qcmcp.security.scopes import ROLES
from qcmcp.tools.catalog import CATALOG
from tests.processes import free_port, wait_for_port

pytestmark = pytest.mark.e2e
QCMCP = str(Path(sys.executable).with_name("qcmcp"))
SECRET = "a-test-secret-of-at-least-32-bytes-for-hs256!"
ISSUER, AUDIENCE = "https://idp.test", "qcmcp-tests"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}


def claims(**overrides):
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "agent-1", "tenant": "t1", "iat": now, "nbf": now,
            "exp": now + 600, "scope": " ".join(sorted(ROLES["read-only"]))}
    base.update(overrides)
    return base


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, payload: dict, key: bytes | None = None) -> str:
    """A JWT built by hand: ``alg: none`` (no key) or HMAC with an arbitrary key (confusion attacks)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    return f"{signing_input}.{signature}"


def start(tmp_path: Path, extra_env: dict[str, str], *args: str):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env.update(QCMCP_SANDBOX_DB=str(tmp_path / "sandbox.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "audit.sqlite3"),
               QCMCP_AUTH_ISSUER=ISSUER,
               QCMCP_AUTH_AUDIENCE=AUDIENCE, **extra_env)
    log = (tmp_path / f"server-{port}.log").open("w")
    process = subprocess.Popen([QCMCP, "serve", "--transport", "http", "--port", str(port), *args], env=env,
                               stdout=log, stderr=log)
    wait_for_port(process, port)
    return process, f"http://127.0.0.1:{port}", tmp_path / f"server-{port}.log"


def status_with(url: str, token: str | None) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(f"{url}/mcp", json=INITIALIZE, headers=headers, timeout=10)


def raw_tool_call(url: str, token: str, name: str, arguments: dict) -> httpx.Response:
    """One tools/call over plain HTTP (after the initialize handshake), to see the HTTP status itself."""
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10) as http:
        started = http.post(f"{url}/mcp", json=INITIALIZE, headers=headers)
        session = started.headers.get("mcp-session-id")
        if session:
            headers["mcp-session-id"] = session
        headers["mcp-protocol-version"] = "2025-06-18"
        http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
        return http.post(f"{url}/mcp", headers=headers, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                              "params": {"name": name, "arguments": arguments}})


@pytest.fixture(scope="module")
def hs256(tmp_path_factory):
    process, url, log = start(tmp_path_factory.mktemp("hs"), {"QCMCP_AUTH_JWT_SECRET": SECRET})
    yield url, log
    process.terminate()
    process.wait(timeout=10)


def signed_raw(payload: str, key: str = SECRET) -> str:
    """An HS256 token over a payload written as raw JSON text (NaN, 1e400 and other values no encoder writes)."""
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(payload.encode())}"
    return f"{signing_input}.{b64(hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest())}"


def raw_claims(**replacements: str) -> str:
    """claims() as JSON text with some values replaced by raw JSON literals."""
    text = json.dumps({k: v for k, v in claims().items() if k not in replacements})
    return text[:-1] + "".join(f', "{name}": {literal}' for name, literal in replacements.items()) + "}"


HOSTILE = {
    "expired": lambda: jwt.encode(claims(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200,
                                         nbf=int(time.time()) - 7200), SECRET, "HS256"),
    "not yet valid": lambda: jwt.encode(claims(nbf=int(time.time()) + 3600), SECRET, "HS256"),
    "wrong issuer": lambda: jwt.encode(claims(iss="https://evil.test"), SECRET, "HS256"),
    "wrong audience": lambda: jwt.encode(claims(aud="someone-else"), SECRET, "HS256"),
    "bad signature": lambda: jwt.encode(claims(), "another-secret-that-is-also-long-enough!", "HS256"),
    "alg none": lambda: unsigned({"alg": "none", "typ": "JWT"}, claims()),
    "not a jwt": lambda: "definitely.not.a-token",
    "no exp": lambda: jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, "HS256"),
    "exp NaN": lambda: signed_raw(raw_claims(exp="NaN")),
    "nbf NaN": lambda: signed_raw(raw_claims(nbf="NaN")),
    "exp 1e400": lambda: signed_raw(raw_claims(exp="1e400")),
    "exp Infinity": lambda: signed_raw(raw_claims(exp="Infinity")),
    "exp a string": lambda: jwt.encode(claims(exp=str(int(time.time()) + 600)), SECRET, "HS256"),
    "exp true": lambda: signed_raw(raw_claims(exp="true")),
    "scope joined by U+00A0": lambda: jwt.encode(claims(scope="qc:projects:write\u00a0qc:projects:delete"), SECRET, "HS256"),
    "scope joined by a tab": lambda: jwt.encode(claims(scope="qc:projects:read\tqc:projects:write"), SECRET, "HS256"),
    "scope not a string": lambda: jwt.encode(claims(scope=["qc:projects:read"]), SECRET, "HS256"),
    "tenant not a string": lambda: jwt.encode(claims(tenant={"id": "t1"}), SECRET, "HS256"),
    "sub not a string": lambda: jwt.encode(claims(sub=12), SECRET, "HS256"),
}


def test_no_token_gets_a_401_challenge_with_resource_metadata(hs256):
    url, _ = hs256
    response = status_with(url, None)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer") and "resource_metadata=" in challenge
    metadata = httpx.get(f"{url}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert metadata["resource"] == f"{url}/mcp"
    assert [server.rstrip("/") for server in metadata["authorization_servers"]] == [ISSUER]
    assert "qc:live:execute" in metadata["scopes_supported"]


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_tokens_are_rejected(hs256, case):
    url, log = hs256
    response = status_with(url, HOSTILE[case]())
    assert response.status_code == 401, response.text
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert status_with(url, jwt.encode(claims(), SECRET, "HS256")).status_code == 200  # the valid twin passes
    assert "Traceback" not in log.read_text()


def test_scopes_split_on_ascii_space_only_and_scp_lists_are_read(hs256):
    url, _ = hs256
    admin = " ".join(sorted(ROLES["admin"]))
    assert status_with(url, jwt.encode(claims(scope=admin), SECRET, "HS256")).status_code == 200
    assert status_with(url, jwt.encode(claims(scope=""), SECRET, "HS256")).status_code == 200  # no scopes at all
    listed = {k: v for k, v in claims().items() if k != "scope"} | {"scp": sorted(ROLES["read-only"])}
    assert status_with(url, jwt.encode(listed, SECRET, "HS256")).status_code == 200
    assert status_with(url, jwt.encode(claims(scope=admin.replace(" ", "  ")), SECRET, "HS256")).status_code == 401


def test_a_foreign_origin_or_host_is_refused(hs256, tmp_path):
    """DNS rebinding and cross-site requests: Origin and Host are checked, with a token and without auth."""
    url, _ = hs256
    token = jwt.encode(claims(), SECRET, "HS256")
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
    post = lambda extra: httpx.post(f"{url}/mcp", json=INITIALIZE, headers={**headers, **extra}, timeout=10)  # noqa: E731
    assert post({"Origin": "http://evil.example.com"}).status_code == 403
    assert post({"Host": "evil.example.com"}).status_code in (403, 421)
    assert post({"Origin": url}).status_code == 200  # same origin
    assert post({"Origin": "http://localhost:1234"}).status_code == 200  # a loopback page talking to loopback
    assert post({}).status_code == 200  # non-browser clients send no Origin
    process, open_url, _ = start(tmp_path, {}, "--insecure-no-auth")
    try:
        anonymous = {"Accept": "application/json, text/event-stream"}
        evil = httpx.post(f"{open_url}/mcp", json=INITIALIZE, headers={**anonymous, "Origin": "http://evil.example.com"},
                          timeout=10)
        assert evil.status_code == 403
        assert httpx.post(f"{open_url}/mcp", json=INITIALIZE, headers=anonymous, timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_allowed_origins_and_hosts_are_configurable(tmp_path):
    process, url, _ = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET, "QCMCP_ALLOWED_ORIGINS": "https://app.example.com",
                                       "QCMCP_PUBLIC_URL": "https://mcp.example.com"})
    try:
        token = jwt.encode(claims(), SECRET, "HS256")
        headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
        post = lambda extra: httpx.post(f"{url}/mcp", json=INITIALIZE, headers={**headers, **extra}, timeout=10)  # noqa: E731
        assert post({"Origin": "https://app.example.com"}).status_code == 200
        assert post({"Host": "mcp.example.com", "Origin": "https://mcp.example.com"}).status_code == 200
        assert post({"Origin": "https://other.example.com"}).status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_request_bodies_are_capped(hs256):
    url, _ = hs256
    token = jwt.encode(claims(), SECRET, "HS256")
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}",
               "Content-Type": "application/json"}
    huge = json.dumps({**INITIALIZE, "padding": "x" * (9 * 1024 * 1024)}).encode()
    refused = httpx.post(f"{url}/mcp", content=huge, headers=headers, timeout=30)
    assert refused.status_code == 413 and "QCMCP_MAX_REQUEST_BYTES" in refused.text

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    streamed = httpx.post(f"{url}/mcp", content=chunks(), headers=headers, timeout=30)
    assert streamed.status_code == 413
    assert status_with(url, token).status_code == 200


async def test_tools_are_filtered_by_scope_and_a_missing_scope_is_named(hs256):
    url, log = hs256
    read_only = jwt.encode(claims(), SECRET, "HS256")
    async with Client(f"{url}/mcp", auth=read_only) as client:
        names = {tool.name for tool in await client.list_tools()}
        assert "list_projects" in names and "create_project" not in names and "create_live_algorithm" not in names
    refused = raw_tool_call(url, read_only, "create_project", {"name": "Nope", "language": "Py"})
    assert refused.status_code == 403
    challenge = refused.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="qc:projects:write"' in challenge
    assert "resource_metadata=" in challenge
    message = refused.json()["error"]["message"]
    assert "Forbidden (403)" in message and "qc:projects:write" in message and "researcher" in message
    allowed = raw_tool_call(url, read_only, "list_projects", {})
    assert allowed.status_code == 200 and "projects" in allowed.text
    admin = jwt.encode(claims(scope=" ".join(sorted(ROLES["admin"]))), SECRET, "HS256")
    async with Client(f"{url}/mcp", auth=admin) as client:
        assert len(await client.list_tools()) == len([s for s in CATALOG if not s.local_paths])  # no workspace root
        listed = await client.call_tool("list_projects", {})
        assert listed.structured_content["projects"] == []  # nothing the refused calls tried was executed
    text = log.read_text()
    assert SECRET not in text and read_only not in text and admin not in text


def test_every_tool_is_refused_without_its_own_scope(hs256):
    """A token holding every scope but one tool's is turned away from that tool, for each of the 66 tools."""
    from qcmcp.tools.catalog import CATALOG

    url, _ = hs256
    for spec in CATALOG:
        token = jwt.encode(claims(scope=" ".join(sorted(ROLES["admin"] - {spec.scope}))), SECRET, "HS256")
        refused = raw_tool_call(url, token, spec.name, {})
        assert refused.status_code == 403, spec.name
        assert f'scope="{spec.scope}"' in refused.headers["WWW-Authenticate"], spec.name


def test_algorithm_confusion_is_rejected(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "public.pem").write_bytes(public_pem)
    process, url, _ = start(tmp_path, {"QCMCP_AUTH_PUBLIC_KEY_FILE": str(tmp_path / "public.pem"),
                                       "QCMCP_AUTH_ALGORITHM": "RS256"})
    try:
        private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
        assert status_with(url, jwt.encode(claims(), private_pem, "RS256")).status_code == 200
        forged = unsigned({"alg": "HS256", "typ": "JWT"}, claims(), key=public_pem)  # HMAC keyed with the public key
        assert status_with(url, forged).status_code == 401
        assert status_with(url, unsigned({"alg": "none"}, claims())).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_shared_mode_refuses_to_start_unsafely(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env["QCMCP_SANDBOX_DB"] = str(tmp_path / "s.sqlite3")
    env["QCMCP_AUDIT_DB"] = str(tmp_path / "a.sqlite3")
    exposed = subprocess.run([QCMCP, "serve", "--transport", "http", "--host", "0.0.0.0", "--insecure-no-auth"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert exposed.returncode == 2 and "Refusing --insecure-no-auth" in exposed.stderr
    unconfigured = subprocess.run([QCMCP, "serve", "--transport", "http"], env=env, capture_output=True, text=True, timeout=60)
    assert unconfigured.returncode == 2 and "QCMCP_AUTH_ISSUER" in unconfigured.stderr
    weak = subprocess.run([QCMCP, "serve", "--transport", "http"], env={**env, "QCMCP_AUTH_JWT_SECRET": "short"},
                          capture_output=True, text=True, timeout=60)
    assert weak.returncode == 2 and "at least 32 bytes" in weak.stderr


def test_every_tool_has_a_scope_in_the_catalog():
    import re

    from qcmcp.tools.catalog import CATALOG

    for spec in CATALOG:
        assert spec.scope and re.fullmatch(r"qc:[a-z]+:(read|write|delete|execute)", spec.scope), spec.name
    assert {s.name for s in CATALOG if s.scope.endswith(":execute")} >= {
        "create_live_algorithm", "liquidate_live_algorithm", "stop_live_algorithm", "create_live_command",
        "broadcast_live_command", "create_backtest", "create_optimization"}
    # check_initialization_errors carries the official read-only hint but runs the algorithm: it needs execute.
    assert all(not s.scope.endswith((":write", ":delete", ":execute")) for s in CATALOG
               if s.hints.read_only and s.name != "check_initialization_errors")
