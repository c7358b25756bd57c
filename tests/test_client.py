"""The API client: signing, typed errors and retries that never duplicate a create."""

from __future__ import annotations

import base64
import hashlib

import httpx
import pytest

from qcmcp.qc.auth import sign
from qcmcp.qc.client import ClientPool, Credentials, QuantConnectClient
from qcmcp.qc.errors import APIError, AuthenticationError, InvalidResponseError, TransportError
from tests.fake_qc import FAKE_TOKEN

CREDS = Credentials("42", FAKE_TOKEN)


def test_signature_is_basic_user_and_sha256_of_token_and_timestamp():
    headers = sign("42", "abc", 1700000000)
    assert headers["Timestamp"] == "1700000000"
    user, digest = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode().split(":")
    assert user == "42"
    assert digest == hashlib.sha256(b"abc:1700000000").hexdigest()


def make_client(answers, sleeps=None, max_retries=3):
    """A client whose transport replays ``answers`` (responses or exceptions) in order."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def fake_sleep(seconds: float) -> None:
        (sleeps if sleeps is not None else []).append(seconds)

    client = QuantConnectClient(CREDS, base_url="https://qc.test/api/v2", transport=httpx.MockTransport(handler),
                                max_retries=max_retries, sleep=fake_sleep)
    return client, seen


async def test_each_attempt_is_freshly_signed_and_reads_are_retried_on_503():
    sleeps: list[float] = []
    client, seen = make_client([httpx.Response(503), httpx.Response(200, json={"success": True, "x": 1})], sleeps)
    assert await client.post("/projects/read", {}, idempotent=True) == {"success": True, "x": 1}
    assert len(seen) == 2 and len(sleeps) == 1
    assert all("Timestamp" in r.headers and r.headers["Authorization"].startswith("Basic ") for r in seen)


async def test_creates_are_not_retried_after_the_server_may_have_acted():
    client, seen = make_client([httpx.Response(503), httpx.Response(200, json={"success": True})])
    with pytest.raises(TransportError) as caught:
        await client.post("/backtests/create", {}, idempotent=False)
    assert len(seen) == 1
    assert "not retried automatically" in caught.value.message


async def test_creates_are_retried_when_the_request_never_left():
    client, seen = make_client([httpx.ConnectError("refused"), httpx.Response(200, json={"success": True})])
    assert await client.post("/backtests/create", {}, idempotent=False) == {"success": True}
    assert len(seen) == 2


async def test_creates_are_not_retried_after_a_read_timeout():
    client, seen = make_client([httpx.ReadTimeout("slow"), httpx.Response(200, json={"success": True})])
    with pytest.raises(TransportError, match="no answer within"):
        await client.post("/live/create", {}, idempotent=False)
    assert len(seen) == 1


async def test_retry_after_is_honoured_even_for_creates():
    sleeps: list[float] = []
    client, _ = make_client([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"success": True})], sleeps)
    await client.post("/backtests/create", {}, idempotent=False)
    assert sleeps == [7.0]


async def test_retries_stop_after_the_limit():
    client, seen = make_client([httpx.Response(500)] * 3, max_retries=2)
    with pytest.raises(TransportError, match="HTTP 500") as caught:
        await client.post("/projects/read", {}, idempotent=True)
    assert len(seen) == 3 and caught.value.status_code == 500


@pytest.mark.parametrize(
    ("response", "error", "fragment"),
    [
        (httpx.Response(401), AuthenticationError, "rejected the credentials"),
        (httpx.Response(200, json={"success": False, "errors": ["Hash doesn't match."]}), AuthenticationError, "Hash doesn't match"),
        (httpx.Response(200, json={"success": False, "errors": ["Project not found"], "messages": ["try list"]}), APIError, "Project not found; try list"),
        (httpx.Response(200, text="<html>down</html>", headers={"Content-Type": "text/html"}), InvalidResponseError, "expected JSON, got text/html"),
        (httpx.Response(200, json=[1, 2]), InvalidResponseError, "expected a JSON object"),
        (httpx.Response(404), TransportError, "HTTP 404"),
    ],
)
async def test_failures_become_typed_errors(response, error, fragment):
    client, _ = make_client([response], max_retries=0)
    with pytest.raises(error) as caught:
        await client.post("/projects/read", {}, idempotent=True)
    assert fragment in caught.value.message
    assert FAKE_TOKEN not in caught.value.message and FAKE_TOKEN not in repr(caught.value)


async def test_pool_keeps_one_client_per_credential_set():
    built: list[Credentials] = []

    def factory(credentials: Credentials) -> QuantConnectClient:
        built.append(credentials)
        return QuantConnectClient(credentials, base_url="https://qc.test")

    pool = ClientPool(factory)
    first = pool.get(CREDS)
    assert pool.get(Credentials("42", FAKE_TOKEN)) is first
    assert pool.get(Credentials("43", FAKE_TOKEN)) is not first
    assert len(built) == 2
    await pool.aclose()


def test_credentials_never_print_the_token():
    assert FAKE_TOKEN not in repr(CREDS) and FAKE_TOKEN not in str(CREDS)
